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
