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
    # enterprise (用人单位/企业) | training_org (社会培训评价组织) | school (技工院校). Only an
    # enterprise may add 学徒工, 特级技师 and 首席技师 to its levels (R-LEVEL).
    kind: str = Field(default="training_org", max_length=20)
    # The exam site's address (考点地址), printed on the admission ticket (issue #16); optional.
    address: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Filing(SQLModel, table=True):
    """The institution's filing (备案): valid 3 years, renewable in the last 90 days (R-INST-2)."""

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    number: str = Field(max_length=80)
    valid_from: date
    valid_until: date
    # active | suspended | revoked; "expired" is derived from valid_until, never stored.
    status: str = Field(default="active", max_length=20)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ScopeEntry(SQLModel, table=True):
    """One line of the filed scope (认定范围): occupation, optional work type, levels (R-INST-3, R-LEVEL)."""

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    occupation_code: str = Field(max_length=20)
    occupation_name: str = Field(max_length=100)
    work_type: str | None = Field(default=None, max_length=100)
    levels: str = Field(max_length=40)  # "5,4,3" as filed; tiers by number (examday.levels): "6,5,-1"


class Room(SQLModel, table=True):
    """A filed room (考场): theory, skill, waiting or exam-affairs (R-SITE-1)."""

    __table_args__ = (UniqueConstraint("institution_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    code: str = Field(max_length=20)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=10)  # theory | skill | waiting | affairs
    seats: int = 0  # desks in a theory room, stations in a skill room
    rows: int | None = None
    cols: int | None = None
    active: bool = True


class Camera(SQLModel, table=True):
    """A monitoring camera (监控摄像头) in a room (R-VIDEO-1)."""

    __table_args__ = (UniqueConstraint("room_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="room.id", index=True)
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)


class Staff(SQLModel, table=True):
    """A person working for the institution (工作人员): examiner, proctor, supervisor or staff (R-STAFF-1..3)."""

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=18)
    roles: str = Field(max_length=80)  # comma-separated: examiner, proctor, supervisor, staff
    full_time: bool = False
    skill_level: int | None = None  # 1 (高级技师) … 5 (初级工)
    title: str = Field(default="none", max_length=10)  # none | mid | senior
    examiner_card_valid_until: date | None = None
    occupations: str = Field(default="", max_length=400)  # comma-separated occupation codes
    is_trainer: bool = False
    employer: str | None = Field(default=None, max_length=200)
    active: bool = True

    def role_set(self) -> set[str]:
        return {r for r in self.roles.split(",") if r}

    def occupation_set(self) -> set[str]:
        return {o for o in self.occupations.split(",") if o}


class StaffConflict(SQLModel, table=True):
    """A declared conflict of interest (回避事由, R-RECUSE-1): with one candidate, or an employer or training org."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    kind: str = Field(max_length=20)  # relative | colleague | trained
    candidate_id: int | None = Field(default=None, foreign_key="candidate.id", index=True)
    employer: str | None = Field(default=None, max_length=200)
    training_org: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
