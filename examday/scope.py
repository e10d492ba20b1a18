# Kept for modules being changed concurrently; remove (issue #14: examday.access decides).
from examday.access import can_read_institution, institution_for_read, institution_for_write  # noqa: F401
