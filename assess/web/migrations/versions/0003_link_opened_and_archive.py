"""a link's opening (respondents.opened_at) and archived engagements (engagements.archived_at)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('respondents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
    with op.batch_alter_table('respondents', schema=None) as batch_op:
        batch_op.drop_column('opened_at')
