"""Tables owned by `scoring/`: rubrics (评分细则), panels (考评组), score entries
(评分记录), part scores, arbitration (仲裁), theory imports, publicity (成绩公示),
objections (异议), the seal (封存) and certificates (证书).

Points are stored as integer tenths (``*_tenths``): every score has one
decimal at most (R-SCORE-3), integers are exact on SQLite and PostgreSQL
alike, and a Decimal is rebuilt at the edge (``scoring.points``).

Every table that holds a batch's scoring record carries ``batch_id`` so that
the database refuses to change it once the batch is locked
(``scoring.ddl.install_lock_triggers``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Rubric(SQLModel, table=True):
    """A part's scoring rubric (评分细则): items whose maxima add up to 100 (R-SCORE-3)."""

    __tablename__ = "rubric"
    __table_args__ = (UniqueConstraint("batch_id", "part"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    part: str = Field(max_length=10)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class RubricLine(SQLModel, table=True):
    """One item of a rubric (评分细则项)."""

    __tablename__ = "rubric_item"
    __table_args__ = (UniqueConstraint("rubric_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    rubric_id: int = Field(foreign_key="rubric.id", index=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    position: int
    code: str = Field(max_length=40)
    title: str = Field(max_length=200)
    max_tenths: int


class Panel(SQLModel, table=True):
    """The evaluation panel (考评组) of one part of a batch, with its chief (R-PANEL-1)."""

    __tablename__ = "panel"
    __table_args__ = (UniqueConstraint("batch_id", "part"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    part: str = Field(max_length=10)
    chief_staff_id: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: int | None = None


class PanelMember(SQLModel, table=True):
    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("panel_id", "staff_id"),)
    id: int | None = Field(default=None, primary_key=True)
    panel_id: int = Field(foreign_key="panel.id", index=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)


class ScoreEntry(SQLModel, table=True):
    """One signed version of one examiner's entry for one candidate's part (R-SCORE-1, R-SCORE-2).

    Append-only: a correction is the next version, pointing at the hash of the
    one before (``scoring.entry_chain``). ``round`` is the scoring round: 0 at
    first, one more each time the chief or an upheld objection asks for a
    re-score.
    """

    __tablename__ = "score_entry"
    __table_args__ = (UniqueConstraint("batch_id", "candidate_id", "part", "examiner_staff_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    part: str = Field(max_length=10)
    examiner_staff_id: int = Field(foreign_key="staff.id", index=True)
    account_id: int | None = None
    version: int
    round: int = 0
    items: str  # canonical JSON {code: "7.5"}
    total_tenths: int
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str = Field(max_length=64, unique=True)
    signature: str = Field(max_length=80)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PartScore(SQLModel, table=True):
    """A candidate's score for one part: the combined panel score or the imported theory score.

    status: ``pending`` (entries still coming), ``arbitration`` (with the
    chief), ``rescore`` (the panel re-scores), ``final``, ``absent`` (did not
    sit: not a zero, R-SCORE-3).
    """

    __tablename__ = "part_score"
    __table_args__ = (UniqueConstraint("batch_id", "candidate_id", "part"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    part: str = Field(max_length=10)
    status: str = Field(default="pending", max_length=12)
    score_tenths: int | None = None
    method: str | None = Field(default=None, max_length=20)  # mean | median | trimmed_mean | import
    round: int = 0
    source: str = Field(default="panel", max_length=10)  # panel | import | admin
    theory_import_id: int | None = Field(default=None, foreign_key="theory_import.id")
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ArbitrationStep(SQLModel, table=True):
    """One step of a part's arbitration (仲裁): opened, re-score asked, accepted."""

    __tablename__ = "arbitration_step"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    part: str = Field(max_length=10)
    round: int
    action: str = Field(max_length=20)  # opened | rescore | accept | objection_rescore
    reasons: str = Field(default="[]")  # JSON: spread, split_pass_fail
    totals: str = Field(default="{}")  # JSON {examiner staff id: "72.5"} as they stood
    note: str = Field(default="", max_length=1000)
    account_id: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)


class TheoryImport(SQLModel, table=True):
    """One version of a batch's theory scores from the exam system (理论成绩导入), kept with its file.

    Signed by the office account that imported it (``account_id``) and countersigned by the
    panel's chief with the signing PIN (``signature``); only then does it become the theory
    scores (R-SCORE-3, R-PANEL-1). ``state``: ``draft`` (awaiting the chief), ``signed``
    (became the scores), ``superseded`` (a later import came before the chief signed).
    A version after the first signed one is a correction (更正) with a ``reason``;
    ``changes`` lists each candidate's score before and after it, as JSON."""

    __tablename__ = "theory_import"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    filename: str = Field(default="", max_length=200)
    sha256: str = Field(max_length=64)
    content: str  # the CSV as received (decoded), so the trace is complete (R-SCORE-2)
    rows: int
    scored: int
    absent: int
    account_id: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)
    version: int = 1
    reason: str | None = Field(default=None, max_length=500)
    state: str = Field(default="draft", max_length=12)
    countersigned_by: int | None = None  # the chief's account
    countersigned_staff_id: int | None = None
    countersigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signature: str | None = Field(default=None, max_length=80)
    changes: str = "[]"


class Publicity(SQLModel, table=True):
    """The score publicity (成绩公示) of a batch: 5 working days (R-PUB-1)."""

    __tablename__ = "publicity"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", unique=True)
    published_at: datetime = Field(sa_type=UTCDateTime)
    starts_on: date
    ends_on: date
    provisional: bool = False  # R-CAL: a year without an official holiday notice
    account_id: int | None = None


class Objection(SQLModel, table=True):
    """An objection (异议) to a published score.

    status: ``open`` → ``rejected`` (with a reason), or ``open`` →
    ``rescoring`` (upheld, the panel re-scores) → ``upheld`` once the re-score
    is final. Open and rescoring both block the lock (R-PUB-1).
    """

    __tablename__ = "objection"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    part: str | None = Field(default=None, max_length=10)
    raised_by: str = Field(default="", max_length=100)
    reason: str = Field(max_length=2000)
    status: str = Field(default="open", max_length=12)
    resolution: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(sa_type=UTCDateTime)
    account_id: int | None = None
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: int | None = None


class BatchSeal(SQLModel, table=True):
    """The lock of a batch (锁定) and its seal: a digest over every result and entry,
    signed with the institution's key (R-SCORE-3, R-AUDIT-1)."""

    __tablename__ = "batch_seal"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", unique=True)
    locked_at: datetime = Field(sa_type=UTCDateTime)
    account_id: int | None = None  # None: locked automatically on the first request after publicity
    trigger: str = Field(max_length=10)  # command | auto
    digest: str = Field(max_length=64)
    kid: str = Field(max_length=40)
    signature: str = Field(max_length=200)
    results: int
    entries: int
    # Which payload the seal signs (scoring.seal); seals made before versions were recorded are v1.
    version: str = Field(
        default="examday-seal/v1", max_length=20, sa_column_kwargs={"server_default": "examday-seal/v1"}
    )


class CertificateIssue(SQLModel, table=True):
    """The certificates (职业技能等级证书) of a locked batch: issue date and reporting deadline (R-PUB-2)."""

    __tablename__ = "certificate_issue"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", unique=True)
    issue_date: date
    reporting_deadline: date
    provisional: bool = False
    kind: str = Field(max_length=1)
    institution_code: str = Field(max_length=4)
    province_code: str = Field(max_length=2)
    site_serial: str = Field(max_length=6)
    account_id: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)


class Certificate(SQLModel, table=True):
    """One certificate number (R-FMT-CERT), only for a candidate who passed (R-CERT-1)."""

    __tablename__ = "certificate"
    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="certificate_issue.id", index=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id", unique=True)
    number: str = Field(max_length=22, unique=True)
    prefix: str = Field(max_length=16, index=True)  # the number without its 6-digit serial
    serial: int


class BatchReview(SQLModel, table=True):
    """One decision of the centre's review (复核) of a locked batch: ``approve``, or ``return``
    with reasons (R-CERT-1). Append-only: a later decision is a new row, never a change."""

    __tablename__ = "batch_review"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    decision: str = Field(max_length=10)  # approve | return
    reasons: str = Field(default="[]")  # JSON list of the centre's reasons
    account_id: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)


class ReportReceipt(SQLModel, table=True):
    """The centre received the batch's score and certificate data (数据上报, R-PUB-2)."""

    __tablename__ = "report_receipt"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", unique=True)
    account_id: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)
