"""one audit chain per institution

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 15:30:00.000000

Issue #18, R-AUDIT-1: no installation-wide queue. Every institution gets a chain of its own and
the installation's own actions keep one (chain 0), each with its head (``audithead.chain``).
Entries already written stay exactly as they were — same ``seq``, same hashes under the old
formula (``hv`` = 1) — as the beginning of the installation's chain (``chain_seq`` = ``seq``), and
its head keeps the old head's sequence number and hash: every old seal and checkpoint still
verifies, and the installation's chain goes on from there. New entries go to their institution's
chain (``hv`` = 2). ``seq`` becomes the installation-wide surrogate key, filled by the database.
The checkpoints signed so far name the installation's chain (``audit_checkpoint.chain`` = 0); a
centre keeps the version of each checkpoint it receives (``received_checkpoint.version``).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hv", sa.Integer(), server_default="1", nullable=False))
    op.execute("UPDATE auditentry SET chain_seq = seq")
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.alter_column("chain_seq", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_auditentry_chain_seq", ["chain", "chain_seq"])
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.alter_column("id", new_column_name="chain", existing_type=sa.Integer(), existing_nullable=False)
    op.execute("UPDATE audithead SET chain = 0 WHERE chain = 1")  # the one head so far: the installation's
    if op.get_bind().dialect.name == "postgresql":
        # seq was written by the application until now; from here the database numbers it.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('auditentry', 'seq'), COALESCE(MAX(seq), 0) + 1, false)"
            " FROM auditentry WHERE pg_get_serial_sequence('auditentry', 'seq') IS NOT NULL"
        )
        op.execute("ALTER TABLE audithead ALTER COLUMN chain DROP DEFAULT")
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("received_checkpoint", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "version",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                server_default="examday-checkpoint/v1",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("received_checkpoint", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_column("chain")
    # Only an installation whose chain never split goes back: the old schema has one chain.
    split = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM auditentry WHERE hv <> 1")).scalar_one()
    if split:
        raise RuntimeError(f"{split} audit entries are on per-institution chains: 0014 cannot hold them")
    op.execute("UPDATE audithead SET chain = 1 WHERE chain = 0")
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.alter_column("chain", new_column_name="id", existing_type=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.drop_constraint("uq_auditentry_chain_seq", type_="unique")
        batch_op.drop_column("hv")
        batch_op.drop_column("chain_seq")
        batch_op.drop_column("chain")
