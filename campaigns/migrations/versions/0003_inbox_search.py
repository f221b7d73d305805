"""inbox search: trigram full-text indexes for people and messages

On SQLite: FTS5 tables with the trigram tokenizer, kept in step by triggers, so that
substring search ("%text%") uses an index. On PostgreSQL: pg_trgm GIN indexes, which
ILIKE '%text%' uses directly. Also a covering index for the unread count.

Revision ID: 0003_inbox_search
Revises: 0002_subscribers
"""
from alembic import op

revision = '0003_inbox_search'
down_revision = '0002_subscribers'
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE followup_messages_fts USING fts5(
        text, content='followup_messages', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER followup_messages_fts_insert AFTER INSERT ON followup_messages BEGIN
        INSERT INTO followup_messages_fts(rowid, text) VALUES (new.id, new.text); END""",
    """CREATE TRIGGER followup_messages_fts_delete AFTER DELETE ON followup_messages BEGIN
        INSERT INTO followup_messages_fts(followup_messages_fts, rowid, text)
        VALUES ('delete', old.id, old.text); END""",
    """CREATE TRIGGER followup_messages_fts_update AFTER UPDATE OF text ON followup_messages BEGIN
        INSERT INTO followup_messages_fts(followup_messages_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
        INSERT INTO followup_messages_fts(rowid, text) VALUES (new.id, new.text); END""",
    "INSERT INTO followup_messages_fts(followup_messages_fts) VALUES ('rebuild')",
    """CREATE VIRTUAL TABLE subscribers_fts USING fts5(
        email, first_name, last_name, company,
        content='subscribers', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER subscribers_fts_insert AFTER INSERT ON subscribers BEGIN
        INSERT INTO subscribers_fts(rowid, email, first_name, last_name, company)
        VALUES (new.id, new.email, new.first_name, new.last_name, new.company); END""",
    """CREATE TRIGGER subscribers_fts_delete AFTER DELETE ON subscribers BEGIN
        INSERT INTO subscribers_fts(subscribers_fts, rowid, email, first_name, last_name, company)
        VALUES ('delete', old.id, old.email, old.first_name, old.last_name, old.company); END""",
    """CREATE TRIGGER subscribers_fts_update
        AFTER UPDATE OF email, first_name, last_name, company ON subscribers BEGIN
        INSERT INTO subscribers_fts(subscribers_fts, rowid, email, first_name, last_name, company)
        VALUES ('delete', old.id, old.email, old.first_name, old.last_name, old.company);
        INSERT INTO subscribers_fts(rowid, email, first_name, last_name, company)
        VALUES (new.id, new.email, new.first_name, new.last_name, new.company); END""",
    "INSERT INTO subscribers_fts(subscribers_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS followup_messages_fts_insert",
    "DROP TRIGGER IF EXISTS followup_messages_fts_delete",
    "DROP TRIGGER IF EXISTS followup_messages_fts_update",
    "DROP TABLE IF EXISTS followup_messages_fts",
    "DROP TRIGGER IF EXISTS subscribers_fts_insert",
    "DROP TRIGGER IF EXISTS subscribers_fts_delete",
    "DROP TRIGGER IF EXISTS subscribers_fts_update",
    "DROP TABLE IF EXISTS subscribers_fts",
]
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_followup_messages_text_trgm ON followup_messages "
    "USING gin (text gin_trgm_ops)",
    "CREATE INDEX ix_subscribers_search_trgm ON subscribers USING gin "
    "((email || ' ' || first_name || ' ' || last_name || ' ' || company) gin_trgm_ops)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_followup_messages_text_trgm",
    "DROP INDEX IF EXISTS ix_subscribers_search_trgm",
]


def upgrade():
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index('ix_followups_status_unread', ['status', 'unread'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}.get(dialect, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}.get(dialect, []):
        op.execute(statement)
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_index('ix_followups_status_unread')
