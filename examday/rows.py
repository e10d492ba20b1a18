"""Rows read back from the database, and the tables behind the models.

A table's ``id`` is ``int | None`` because a new row has none until it is
flushed; a row loaded from the database (or flushed) always has one.  Where
that invariant cannot be stated with an ``assert`` (inside a comprehension or
a key function), ``row_id`` states it.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Table
from sqlalchemy import inspect as sa_inspect
from sqlmodel import SQLModel

__all__ = ["row_id", "table_of"]


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def row_id(row: _Stored) -> int:
    """The primary key of a row that was loaded from the database or flushed to it."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has not been flushed: it has no id yet")
    return row.id


def table_of(model: type[SQLModel]) -> Table:
    """The ``Table`` a table model is mapped to (its ``__table__``, which SQLModel's typing does not declare)."""
    table = sa_inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
