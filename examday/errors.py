"""Refusals: the one shape every rejected request takes.

DESIGN.md: a refused request answers with a stable snake_case ``code``, a
message in Chinese and English, and the rule ID it enforces. Raising a
``Refusal`` anywhere below a handler rolls back the transaction, so a refused
command changes nothing.

The type is defined in :mod:`storage.errors`, the bottom layer, so that
storage's refusals and examday's are one class; import it from here.
"""

from __future__ import annotations

from storage.errors import Refusal as Refusal
from storage.errors import conflict as conflict
from storage.errors import forbidden as forbidden
from storage.errors import not_found as not_found
