"""Registry tables: institutions and their filings (备案), scope, rooms, cameras, staff.

Issue #3 fills in the rules; the tables live here because accounts and every
later part point at them.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Institution(SQLModel, table=True):
    """A registered evaluation institution (职业技能等级认定机构), identified by its USCC (R-INST-1)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    uscc: str = Field(max_length=18, unique=True)
    uscc_override_reason: str | None = Field(default=None, max_length=500)
    province: str = Field(max_length=40, index=True)
    # Which province's retention and timing values apply; "strict" takes the stricter of all.
    profile: str = Field(default="strict", max_length=20)
    created_at: datetime = Field(sa_type=UTCDateTime)
