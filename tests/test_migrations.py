"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from campaigns.db import db, include_in_migrations


def test_migrations_match_the_models(app_ctx):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": include_in_migrations})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_downgrade_to_nothing_and_back(app_ctx):
    downgrade(revision="base")
    assert db.inspect(db.engine).get_table_names() == ["alembic_version"]
    upgrade()
    assert "deliveries" in db.inspect(db.engine).get_table_names()


def test_the_search_indexes_exist_after_migrating(app_ctx):
    if db.engine.dialect.name == "sqlite":
        names = set(db.session.scalars(db.text(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")))
        assert {"followup_messages_fts", "subscribers_fts", "subscribers_fts_insert",
                "subscribers_fts_update", "followup_messages_fts_insert"} <= names
    else:
        names = set(db.session.scalars(db.text("SELECT indexname FROM pg_indexes")))
        assert {"ix_followup_messages_text_trgm", "ix_subscribers_search_trgm"} <= names
