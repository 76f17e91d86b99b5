"""Ukrainian phrases Django would compose from a model name come whole from our catalogue.

Django's admin writes "Change %s", "Add %s", "Select %s to change" with the verbose name, which in
Ukrainian leaves the name in the nominative ("Змінити справа"). config/admin_phrases.py gives each
project model phrases of its own; this checks that every registered model has them, translated, and
that the admin shows them. Also: the attribution grade's label and the access log's model names.
"""

from __future__ import annotations

import html
import json

import polib
import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from config.admin_phrases import PHRASES, PROJECT_APPS, PhrasesMixin
from tests.test_i18n import PO_PATH

UK = "uk"


def project_models():
    return [model for model in admin.site._registry if model._meta.app_label in PROJECT_APPS]


def test_every_registered_project_model_has_its_own_phrases():
    missing = [model._meta.label_lower for model in project_models() if model._meta.label_lower not in PHRASES]
    assert not missing, f"add their phrases to config/admin_phrases.py: {missing}"
    assert all(isinstance(model_admin, PhrasesMixin) for model_admin in admin.site._registry.values())


def test_the_english_phrases_are_the_ones_django_would_compose():
    with translation.override("en"):
        for model in project_models():
            phrases, name = PHRASES.get(model._meta.label_lower), model._meta.verbose_name
            if phrases is None:
                continue  # the test above names it
            assert str(phrases.add) == f"Add {name}"
            assert str(phrases.change) == f"Change {name}"
            assert str(phrases.view) == f"View {name}"
            assert str(phrases.select_change) == f"Select {name} to change"
            assert str(phrases.select_view) == f"Select {name} to view"


def test_each_phrase_is_translated_and_not_composed():
    catalogue = {entry.msgid: entry.msgstr for entry in polib.pofile(str(PO_PATH)) if entry.translated()}
    for label, phrases in PHRASES.items():
        for phrase in vars(phrases).values():
            with translation.override("en"):
                english = str(phrase)
            assert catalogue.get(english), f"{label}: {english!r} is not translated"
            with translation.override(UK):
                assert str(phrase) == catalogue[english]


@pytest.fixture
def lead(client, team):
    client.force_login(team.alice)
    return client


def test_the_case_pages_say_the_case_in_the_accusative(lead, team):
    page = lead.get(reverse("admin:cases_case_changelist"), HTTP_ACCEPT_LANGUAGE=UK).content.decode()
    assert "Виберіть справу, щоб змінити" in page
    assert "Виберіть справа" not in page
    add = lead.get(reverse("admin:cases_incident_changelist"), HTTP_ACCEPT_LANGUAGE=UK).content.decode()
    assert "Додати інцидент" in add
    page = lead.get(reverse("admin:cases_incident_add"), HTTP_ACCEPT_LANGUAGE=UK).content.decode()
    assert "<h1>Додати інцидент</h1>" in page
    from tests.factories import EvidenceItemFactory, PhotoFactory

    photo = PhotoFactory(item=EvidenceItemFactory(case=team.case))
    page = lead.get(reverse("admin:evidence_photo_change", args=[photo.pk]), HTTP_ACCEPT_LANGUAGE=UK).content.decode()
    assert "Змінити фотографію" in page or "Переглянути фотографію" in page
    assert "фотографія |" not in page  # the <title> too
    page = lead.get(reverse("admin:evidence_source_add"), HTTP_ACCEPT_LANGUAGE=UK).content.decode()
    assert "Додати джерело" in page
    page = lead.get(reverse("admin:cases_case_changelist"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Select case to change" in page


def test_a_viewer_is_offered_to_view_not_to_change(client, team):
    from tests.factories import EvidenceItemFactory

    item = EvidenceItemFactory(case=team.case)
    client.force_login(team.vera)
    page = client.get(reverse("admin:evidence_evidenceitem_change", args=[item.pk]), HTTP_ACCEPT_LANGUAGE=UK)
    assert "Переглянути речовий доказ" in page.content.decode()
    page = client.get(reverse("admin:evidence_evidenceitem_changelist"), HTTP_ACCEPT_LANGUAGE=UK)
    assert "Виберіть речовий доказ для перегляду" in page.content.decode()


def test_other_apps_keep_djangos_phrases(client, team):
    client.force_login(team.root)
    page = client.get(reverse("admin:auth_user_changelist"), HTTP_ACCEPT_LANGUAGE=UK).content.decode()
    assert "Додати користувач" in page  # Django's own catalogue, composed: not ours to word


def test_the_attribution_grade_is_labelled_in_ukrainian(lead, team):
    from tests.factories import AttributionFactory

    AttributionFactory(case=team.case)
    page = lead.get(reverse("admin:evidence_attribution_changelist"), HTTP_ACCEPT_LANGUAGE=UK).content.decode()
    assert "Оцінка" in page
    assert ">Grade<" not in page


def test_the_access_log_names_models_in_the_readers_language(client, team):
    from cases.audit import record
    from cases.models import AccessLog
    from tests.factories import EvidenceItemFactory

    item = EvidenceItemFactory(case=team.case)
    record(None, "view", obj=item, user=team.alice)
    assert AccessLog.objects.filter(object_type="evidenceitem").exists()
    client.force_login(team.alice)
    page = client.get(reverse("admin:cases_accesslog_changelist"), HTTP_ACCEPT_LANGUAGE=UK).content.decode()
    assert "Речовий доказ" in page
    assert ">evidenceitem<" not in page
    filtered = client.get(
        reverse("admin:cases_accesslog_changelist") + "?object_type=evidenceitem", HTTP_ACCEPT_LANGUAGE=UK
    )
    assert filtered.status_code == 200
    assert item.exhibit_number in filtered.content.decode() or str(item) in filtered.content.decode()
    entry = AccessLog.objects.get(object_type="evidenceitem")
    page = client.get(reverse("admin:cases_accesslog_change", args=[entry.pk]), HTTP_ACCEPT_LANGUAGE=UK)
    assert "Речовий доказ" in page.content.decode()


def test_djangos_confirmations_are_worded_to_agree_with_any_model_name():
    """Django's uk catalogue says "справа ... було змінено" (wrong gender) and, after an add, even "змінено";
    ours puts the name after a colon, so any model reads right."""
    with translation.override(UK):
        changed = translation.gettext("The {name} “{obj}” was changed successfully.")
        assert changed.format(name="справа", obj="PGO-1") == "Зміни збережено: справа «PGO-1»."
        added = translation.gettext("The {name} “{obj}” was added successfully. You may add another {name} below.")
        assert added.startswith("Додано: {name}")
        assert translation.gettext("Add another %(verbose_name)s") == "Додати ще: %(verbose_name)s"


def test_the_case_form_offers_to_add_another_member_in_good_ukrainian(lead, team):
    page = lead.get(reverse("admin:cases_case_change", args=[team.case.pk]), HTTP_ACCEPT_LANGUAGE=UK)
    # The inline's button text travels in a data attribute as JSON, with \u escapes.
    assert json.dumps("Додати ще: ")[1:-1] in html.unescape(page.content.decode())
