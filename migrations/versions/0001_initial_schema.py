"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22

The schema as `db.create_all()` made it before migrations were introduced (such databases are
stamped at this revision on their first start with migrations).

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('employees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employees')),
    sa.UniqueConstraint('employee_id', name=op.f('uq_employees_employee_id'))
    )
    op.create_table('gallery_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gallery_version'))
    )
    op.create_table('revoked_tokens',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('token_type', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_revoked_tokens'))
    )
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revoked_tokens_expires_at'), ['expires_at'], unique=False)

    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('events', sa.String(length=512), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    op.create_table('face_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_pk', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('image_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['employee_pk'], ['employees.id'], name=op.f('fk_face_templates_employee_pk_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_face_templates'))
    )
    with op.batch_alter_table('face_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_templates_employee_pk'), ['employee_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_templates_model'), ['model'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.Enum('admin', 'hr', 'employee', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('employee_pk', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['employee_pk'], ['employees.id'], name=op.f('fk_users_employee_pk_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('employee_pk', name=op.f('uq_users_employee_pk')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_pk', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['webhook_pk'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_pk_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_webhook_pk'), ['webhook_pk'], unique=False)

    op.create_table('attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_pk', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('check_in', 'check_out', name='attendancekind', native_enum=False, length=16), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('early_leave', sa.Boolean(), nullable=False),
    sa.Column('method', sa.Enum('face', 'manual', name='attendancemethod', native_enum=False, length=16), nullable=False),
    sa.Column('similarity', sa.Double(), nullable=True),
    sa.Column('model', sa.String(length=64), nullable=True),
    sa.Column('photo_sha256', sa.String(length=64), nullable=True),
    sa.Column('approved_by_pk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_pk'], ['users.id'], name=op.f('fk_attendances_approved_by_pk_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_pk'], ['employees.id'], name=op.f('fk_attendances_employee_pk_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendances'))
    )
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.create_index('ix_attendances_employee_date', ['employee_pk', 'work_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendances_photo_sha256'), ['photo_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendances_recorded_at'), ['recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendances_work_date'), ['work_date'], unique=False)

    op.create_table('import_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_pk', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('photos_total', sa.Integer(), nullable=False),
    sa.Column('photos_done', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('runner', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['created_by_pk'], ['users.id'], name=op.f('fk_import_jobs_created_by_pk_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    op.create_table('verification_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=False),
    sa.Column('caller_pk', sa.Integer(), nullable=True),
    sa.Column('caller_username', sa.String(length=64), nullable=True),
    sa.Column('claimed_employee_id', sa.String(length=64), nullable=True),
    sa.Column('matched_employee_id', sa.String(length=64), nullable=True),
    sa.Column('similarity', sa.Double(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('photo_sha256', sa.String(length=64), nullable=True),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['caller_pk'], ['users.id'], name=op.f('fk_verification_attempts_caller_pk_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_attempts'))
    )
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_attempts_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_attempts_caller_pk'), ['caller_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_attempts_decision'), ['decision'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_attempts_matched_employee_id'), ['matched_employee_id'], unique=False)

    op.create_table('attendance_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_pk', sa.Integer(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('check_in', 'check_out', name='attendancekind', native_enum=False, length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='requeststatus', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_pk', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('attendance_pk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['attendance_pk'], ['attendances.id'], name=op.f('fk_attendance_requests_attendance_pk_attendances'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_pk'], ['users.id'], name=op.f('fk_attendance_requests_decided_by_pk_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_pk'], ['employees.id'], name=op.f('fk_attendance_requests_employee_pk_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_requests'))
    )
    with op.batch_alter_table('attendance_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_requests_employee_pk'), ['employee_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_requests_status'), ['status'], unique=False)




def downgrade():

    with op.batch_alter_table('attendance_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_requests_status'))
        batch_op.drop_index(batch_op.f('ix_attendance_requests_employee_pk'))

    op.drop_table('attendance_requests')
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_attempts_matched_employee_id'))
        batch_op.drop_index(batch_op.f('ix_verification_attempts_decision'))
        batch_op.drop_index(batch_op.f('ix_verification_attempts_caller_pk'))
        batch_op.drop_index(batch_op.f('ix_verification_attempts_attempted_at'))

    op.drop_table('verification_attempts')
    op.drop_table('import_jobs')
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendances_work_date'))
        batch_op.drop_index(batch_op.f('ix_attendances_recorded_at'))
        batch_op.drop_index(batch_op.f('ix_attendances_photo_sha256'))
        batch_op.drop_index('ix_attendances_employee_date')

    op.drop_table('attendances')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_webhook_pk'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_status'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_next_attempt_at'))

    op.drop_table('webhook_deliveries')
    op.drop_table('users')
    with op.batch_alter_table('face_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_face_templates_model'))
        batch_op.drop_index(batch_op.f('ix_face_templates_employee_pk'))

    op.drop_table('face_templates')
    op.drop_table('webhooks')
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revoked_tokens_expires_at'))

    op.drop_table('revoked_tokens')
    op.drop_table('gallery_version')
    op.drop_table('employees')

