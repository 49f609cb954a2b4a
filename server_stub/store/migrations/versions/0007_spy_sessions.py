"""spy sessions (supervisor listen / whisper / barge)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server_stub.store.models

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('spy_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('call_id', sa.String(length=255), nullable=False),
    sa.Column('spy_call_id', sa.String(length=255), nullable=True),
    sa.Column('started_at', server_stub.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', server_stub.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_spy_sessions_domain_id_domains'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operator_id'], ['users.id'], name=op.f('fk_spy_sessions_operator_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supervisor_id'], ['users.id'], name=op.f('fk_spy_sessions_supervisor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spy_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_spy_sessions_token_hash'))
    )
    with op.batch_alter_table('spy_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_spy_sessions_domain_ended', ['domain_id', 'ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_spy_sessions_spy_call_id'), ['spy_call_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spy_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spy_sessions_spy_call_id'))
        batch_op.drop_index('ix_spy_sessions_domain_ended')
    op.drop_table('spy_sessions')
