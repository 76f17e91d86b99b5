"""Photos and exports keep why they failed as a code with its parameters (error_code, error_params), shown in the
reader's language; `error` keeps the English text the API returns.

Existing rows get the code their English text was written from (the messages are copied here as they were
written, %(name)s standing for a parameter). Text that matches none (a refusal's own words) keeps no code and
is shown as stored. Reversing drops the columns; `error` was never changed.
"""

import re

from django.db import migrations, models

PHOTO_MESSAGES = {
    "gave_up": "Gave up after %(n)s attempts.",
    "gave_up_retrying": "Gave up after retries: the database or the task broker was unreachable.",
    "not_processed": "The photo could not be processed; the server log has the details.",
}
EXPORT_MESSAGES = {
    "not_queued": "The build could not be queued: the task broker is unreachable.",
    "not_built": "The build failed; the server log has the details.",
    "no_signing_key": "The build failed: the ledger signing key is missing (see create_signing_key).",
    "stalled_requeued": (
        "No sign of progress for %(minutes)s minutes (at stage %(stage)s): the build was queued again."
    ),
    "stalled_gave_up": (
        "No sign of progress for %(minutes)s minutes (at stage %(stage)s) after %(attempts)s attempts: "
        "the build was given up. Ask for a new export."
    ),
}
NUMBERS = {"n", "minutes", "attempts"}


def _patterns(messages):
    found = []
    for code, template in messages.items():
        parts = re.split(r"%\((\w+)\)s", template)  # literal, name, literal, …
        pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.*)" for i, part in enumerate(parts))
        found.append((code, re.compile(pattern, re.DOTALL)))
    return found


def _code_of(text, patterns):
    for code, pattern in patterns:
        match = pattern.fullmatch(text)
        if match:
            params = {
                name: int(value) if name in NUMBERS and value.isdigit() else value
                for name, value in match.groupdict().items()
            }
            return code, params
    return None


def derive_codes(apps, schema_editor):
    for model_name, messages in (("Photo", PHOTO_MESSAGES), ("Export", EXPORT_MESSAGES)):
        model = apps.get_model("evidence", model_name)
        patterns = _patterns(messages)
        for pk, error in model.objects.exclude(error="").values_list("pk", "error").iterator():
            found = _code_of(error, patterns)
            if found:
                model.objects.filter(pk=pk).update(error_code=found[0], error_params=found[1])


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0019_components_from_markings"),
    ]

    operations = [
        migrations.AddField(
            model_name="export",
            name="error_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("not_queued", "The build could not be queued: the task broker is unreachable."),
                    ("not_built", "The build failed; the server log has the details."),
                    (
                        "no_signing_key",
                        "The build failed: the ledger signing key is missing (see create_signing_key).",
                    ),
                    (
                        "stalled_requeued",
                        "No sign of progress for %(minutes)s minutes (at stage %(stage)s): the build was queued again.",
                    ),
                    (
                        "stalled_gave_up",
                        "No sign of progress for %(minutes)s minutes (at stage %(stage)s) after %(attempts)s "
                        "attempts: the build was given up. Ask for a new export.",
                    ),
                ],
                editable=False,
                max_length=40,
                verbose_name="reason",
            ),
        ),
        migrations.AddField(
            model_name="export",
            name="error_params",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="details"),
        ),
        migrations.AddField(
            model_name="photo",
            name="error_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("gave_up", "Gave up after %(n)s attempts."),
                    ("gave_up_retrying", "Gave up after retries: the database or the task broker was unreachable."),
                    ("not_processed", "The photo could not be processed; the server log has the details."),
                ],
                editable=False,
                max_length=40,
                verbose_name="reason",
            ),
        ),
        migrations.AddField(
            model_name="photo",
            name="error_params",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="details"),
        ),
        migrations.RunPython(derive_codes, migrations.RunPython.noop, elidable=True),
    ]
