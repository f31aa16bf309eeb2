"""gallery changes: who changed at each gallery version (incremental gallery refresh)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('gallery_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('employee_pk', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gallery_changes'))
    )
    with op.batch_alter_table('gallery_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gallery_changes_version'), ['version'], unique=False)


def downgrade():
    with op.batch_alter_table('gallery_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gallery_changes_version'))

    op.drop_table('gallery_changes')
