"""follow-up replies: when a worker claimed an outbound message

Revision ID: 0005_followup_replies
Revises: 0004_campaigns
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_followup_replies'
down_revision = '0004_campaigns'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('followup_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('followup_messages', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
