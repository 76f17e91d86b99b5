"""On PostgreSQL the access log, like the ledger, refuses UPDATE and DELETE (function from 0002)."""

from django.db import migrations


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE TRIGGER evidence_accesslog_append_only BEFORE UPDATE OR DELETE ON evidence_accesslog "
            "FOR EACH ROW EXECUTE FUNCTION attest_refuse_ledger_change()"
        )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS evidence_accesslog_append_only ON evidence_accesslog")


class Migration(migrations.Migration):
    dependencies = [("evidence", "0006_access_log")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
