"""On PostgreSQL, the database itself refuses UPDATE and DELETE on the ledger and its checkpoints."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION attest_refuse_ledger_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'attest: % on % is refused: the custody ledger is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""
TABLES = ("evidence_custodyevent", "evidence_checkpoint")


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # None: the % in RAISE are not placeholders
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION attest_refuse_ledger_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS attest_refuse_ledger_change()")


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
