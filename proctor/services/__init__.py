"""Proctor and supervisor operations, one module per operation: load, check the rules,
write, audit (R-AUDIT-1); the caller commits, then publishes the returned event."""
