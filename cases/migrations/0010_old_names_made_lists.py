"""Rows stored before aliases and programmes were validated as lists of names (0009 and evidence 0022)
are made valid, so that an edit of another field is not refused for them; each row changed is
recorded in the reference data trail, with its values before and after, as every change is."""

from django.db import migrations

from cases.fields import as_names
from cases.reference_data import state  # reads any model's fields, the historical ones too

# model label -> {field: the longest name it takes}
FIELDS = {
    "cases.weaponsystem": {"aliases": 120},
    "cases.entity": {"aliases": 350, "programs": 40},
    "evidence.manufacturer": {"aliases": 200},
}


def make_names_lists(apps, schema_editor):
    trail = apps.get_model("cases", "ReferenceChange")
    for label, fields in FIELDS.items():
        model = apps.get_model(label)
        for row in model.objects.order_by("pk").iterator():
            fixed = {name: as_names(getattr(row, name), max_length=most) for name, most in fields.items()}
            changed = sorted(name for name, names in fixed.items() if names != getattr(row, name))
            if not changed:
                continue
            before = state(row)
            for name in changed:
                setattr(row, name, fixed[name])
            model.objects.filter(pk=row.pk).update(**{name: fixed[name] for name in changed})
            trail.objects.create(
                actor=None, actor_name="", via="migration", action="changed", model=label, object_id=row.pk,
                object_label=str(getattr(row, "name", row.pk))[:300], before=before, after=state(row),
                changed=changed,
            )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_names_are_lists"),
        ("evidence", "0022_names_are_lists"),
    ]

    operations = [migrations.RunPython(make_names_lists, migrations.RunPython.noop)]
