"""Records the exam office keeps under retention: legal holds, the retention preview and key documents.

These operations need an actor, permissions and the audit log, so they sit in examday's core
above :mod:`storage`, which keeps only the tables and the purge mechanics.
"""
