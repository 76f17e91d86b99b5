"""Ukrainian and English: a complete uk catalogue, compiled, up to date with the code, and in use.

The catalogue lives in locale/uk/LC_MESSAGES (LOCALE_PATHS): django.po is what translators edit,
django.mo what Django reads; both are committed, so no machine needs the gettext tools. Whether
the catalogue covers the code is checked here without xgettext: by reading every model, field and
choice label, and by collecting the gettext calls of the sources and templates.

To add or change a string, run (gettext tools needed only here, not to run or test the project)

    DEBUG=1 .venv/bin/python manage.py makemessages -l uk --no-obsolete \\
        --ignore=.venv --ignore=bench --ignore=tests --ignore=media --ignore=var --ignore=staticfiles

translate the new or fuzzy entries of django.po, then

JavaScript takes its words from the page (data attributes, json_script, written by templates with
{% translate %}), or calls gettext() with the admin's JavaScript catalogue (admin:jsi18n), whose
Ukrainian is locale/uk/LC_MESSAGES/djangojs.po. That file also rewords Django's own filter_horizontal
phrases; edit it with polib (makemessages -d djangojs --no-obsolete would drop those entries).

    DEBUG=1 .venv/bin/python manage.py compilemessages --ignore=.venv
"""

from __future__ import annotations

import ast
import gettext as gettext_module
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation.template import templatize

from cases import choices as case_choices
from evidence import choices as evidence_choices

PO_PATH = settings.BASE_DIR / "locale" / "uk" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
JS_PO_PATH = PO_PATH.with_name("djangojs.po")
JS_MO_PATH = JS_PO_PATH.with_suffix(".mo")
UK_PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)

# Terms that are rightly the same in Ukrainian: names of formats, algorithms and protocols.
SAME_IN_UKRAINIAN = frozenset(
    {"SHA-256", "EXIF", "API", "JPEG", "PNG", "TIFF", "WebP", "HEIC/HEIF", "URL", "pHash", "dHash", "IP"}
)

# Fields whose verbose name is not marked for translation yet (Django derives it from the field
# name, so it shows in English in the Ukrainian admin). Give each a verbose_name=_("...") in the
# app and empty this set; the test below fails as soon as one of them becomes translatable.
NOT_YET_TRANSLATABLE: frozenset[str] = frozenset()

# What `makemessages` reads: the command in this module's docstring ignores these directories too.
NOT_SCANNED = frozenset({".venv", "bench", "tests", "media", "var", "staticfiles", "locale"})

# %(name)s, %s, %d, … ; {} and {name}; and HTML tags. "%%" and a lone "%" as in "progress (%)" are not placeholders.
PLACEHOLDER = re.compile(
    r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifeEgGxXoraic]|%[-#0 +]*\d*(?:\.\d+)?[sdifeEgGxXoraic]|\{\w*\}"
)
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def placeholders(text: str) -> set[str]:
    text = text.replace("%%", "")
    return set(PLACEHOLDER.findall(text)) | set(HTML_TAG.findall(text))


@pytest.fixture(scope="module")
def po() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


@pytest.fixture(scope="module")
def mo_catalog() -> dict:
    """The compiled catalogue as Django reads it, and only ours (not Django's own uk catalogues)."""
    with MO_PATH.open("rb") as handle:
        return gettext_module.GNUTranslations(handle)._catalog


def entry_id(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


# --- (a) The uk catalogue is complete -----------------------------------------------------------


def test_the_catalogue_is_ukrainian_with_three_plural_forms(po):
    assert po.metadata["Language"] == "uk"
    assert po.metadata["Plural-Forms"] == UK_PLURAL_FORMS
    assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert not po.metadata_is_fuzzy


def test_every_entry_is_translated_and_none_is_fuzzy(po):
    assert len(po) > 0
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    obsolete = [entry.msgid for entry in po.obsolete_entries()]
    assert not untranslated, f"untranslated in {PO_PATH.name}: {untranslated}"
    assert not fuzzy, f"fuzzy (check and clear the flag) in {PO_PATH.name}: {fuzzy}"
    assert not obsolete, f"obsolete entries, run makemessages with --no-obsolete: {obsolete}"
    for entry in po:
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == [0, 1, 2], entry.msgid
            assert all(form.strip() for form in entry.msgstr_plural.values()), entry.msgid
        else:
            assert entry.msgstr.strip(), entry.msgid


def test_translations_keep_every_placeholder_and_tag(po):
    wrong = []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            expected = placeholders(entry.msgid_plural)
            # The singular form may name the number or not ("1 component" / "one component").
            for index, form in entry.msgstr_plural.items():
                found = placeholders(form)
                if found != expected and not (index == 0 and found == placeholders(entry.msgid)):
                    wrong.append((entry.msgid_plural, index, form))
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            wrong.append((entry.msgid, entry.msgstr))
    assert not wrong


def test_placeholder_pattern():
    assert placeholders("%(count)d tokens, %s, %.2f%% done, {} and {name}: <code>{}</code>") == {
        "%(count)d",
        "%s",
        "%.2f",
        "{}",
        "{name}",
        "<code>",
        "</code>",
    }
    assert placeholders("progress (%)") == set()


# --- (b) The catalogue is up to date with the code ----------------------------------------------


def choice_classes() -> Iterator[type[models.Choices]]:
    for module in (case_choices, evidence_choices):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, models.Choices) and value.__module__ == module.__name__:
                yield value


def labels_shown_to_users() -> Iterator[tuple[str, object]]:
    """(where, lazy label) for every app, model, field and choice label of the project's apps."""
    for app_label in ("cases", "evidence"):
        config = apps.get_app_config(app_label)
        yield f"{app_label} (app)", config.verbose_name
        for model in config.get_models():
            where = f"{model._meta.label}"
            yield f"{where} (verbose_name)", model._meta.verbose_name
            yield f"{where} (verbose_name_plural)", model._meta.verbose_name_plural
            for field in model._meta.get_fields():
                if field.auto_created or not hasattr(field, "verbose_name"):
                    continue
                if f"{where}.{field.name}" in NOT_YET_TRANSLATABLE:
                    continue
                yield f"{where}.{field.name}", field.verbose_name
                if field.help_text:
                    yield f"{where}.{field.name} (help_text)", field.help_text
    for choices in choice_classes():
        for member in choices:
            yield f"{choices.__module__}.{choices.__name__}.{member.name}", member.label


def test_choice_classes_are_found():
    names = {choices.__name__ for choices in choice_classes()}
    assert {"CaseStatus", "Role", "IncidentKind", "ItemStatus", "EventType", "Reliability", "Credibility"} <= names


def test_every_model_field_and_choice_label_is_translated(mo_catalog):
    missing = []
    for where, label in labels_shown_to_users():
        with translation.override("en"):
            english = str(label)
        with translation.override("uk"):
            ukrainian = str(label)
        if english in SAME_IN_UKRAINIAN:
            continue
        if not mo_catalog.get(english):
            missing.append(f"{where}: {english!r} is not in the uk catalogue")
        elif ukrainian == english:
            missing.append(f"{where}: {english!r} is not marked for translation (wrap it in gettext_lazy)")
    assert not missing, "\n".join(missing)


def test_fields_waiting_for_a_translatable_name_are_still_waiting():
    """Keeps NOT_YET_TRANSLATABLE honest: remove an entry once its field has a translatable verbose_name."""
    for dotted in NOT_YET_TRANSLATABLE:
        app_label, model_name, field_name = dotted.split(".")
        field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
        with translation.override("uk"):
            assert str(field.verbose_name) == field.name.replace("_", " "), f"{dotted} is translatable now"


TRANSLATION_FUNCTIONS = {
    # name: (position of the context argument or None, positions of the message arguments)
    "gettext": (None, (0,)),
    "gettext_lazy": (None, (0,)),
    "gettext_noop": (None, (0,)),
    "ngettext": (None, (0, 1)),
    "ngettext_lazy": (None, (0, 1)),
    "pgettext": (0, (1,)),
    "pgettext_lazy": (0, (1,)),
    "npgettext": (0, (1, 2)),
    "npgettext_lazy": (0, (1, 2)),
}


def scanned_files(suffix: str) -> Iterator[Path]:
    for path in sorted(settings.BASE_DIR.rglob(f"*{suffix}")):
        parts = path.relative_to(settings.BASE_DIR).parts
        if parts[0] in NOT_SCANNED or any(part.startswith(".") for part in parts):
            continue
        yield path


def python_messages(path: Path) -> Iterator[tuple[str | None, str, str | None]]:
    """(context, msgid, msgid_plural) of each gettext call with literal arguments, as xgettext finds them."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for name in node.names:
                if name.name in TRANSLATION_FUNCTIONS:
                    aliases[name.asname or name.name] = name.name
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in aliases):
            continue
        context_at, message_at = TRANSLATION_FUNCTIONS[aliases[node.func.id]]
        positions = ([context_at] if context_at is not None else []) + list(message_at)
        if len(node.args) <= max(positions):
            continue
        values = [node.args[i].value if isinstance(node.args[i], ast.Constant) else None for i in positions]
        if not all(isinstance(value, str) for value in values):
            continue  # not a literal: xgettext cannot extract it either
        context = values.pop(0) if context_at is not None else None
        yield context, values[0], values[1] if len(values) > 1 else None


TEMPLATE_CALL = re.compile(
    r"\b(n?p?gettext)\(((?:u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")(?:,\s*)?)+)",
)


def template_messages(path: Path) -> Iterator[tuple[str | None, str, str | None]]:
    """The same for a template, through Django's templatize() (what makemessages hands to xgettext)."""
    text = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    for match in TEMPLATE_CALL.finditer(text):
        function, arguments = match.groups()
        values = list(ast.literal_eval(f"({arguments.rstrip().rstrip(',')},)"))
        context = values.pop(0) if function.startswith(("pgettext", "npgettext")) else None
        yield context, values[0], values[1] if function.startswith(("ngettext", "npgettext")) else None


def test_the_scan_finds_python_and_template_messages():
    python = {msgid for path in scanned_files(".py") for _ctx, msgid, _plural in python_messages(path)}
    templates = {msgid for path in scanned_files(".html") for _ctx, msgid, _plural in template_messages(path)}
    assert {"case", "Evidence is never deleted; record a correction instead.", "Open"} <= python
    assert {"Your cases", "%(counter)s component.", "Language"} <= templates
    assert not any(path.parts[len(settings.BASE_DIR.parts)] == "tests" for path in scanned_files(".py"))


def test_every_string_marked_in_the_code_is_in_the_catalogue(po):
    in_catalogue = {(entry.msgctxt, entry.msgid): entry.msgid_plural or None for entry in po}
    missing = []
    for suffix, reader in ((".py", python_messages), (".html", template_messages)):
        for path in scanned_files(suffix):
            for context, msgid, plural in reader(path):
                if (context, msgid) not in in_catalogue:
                    missing.append(f"{path.relative_to(settings.BASE_DIR)}: {msgid!r}")
                elif plural and in_catalogue[(context, msgid)] != plural:
                    missing.append(f"{path.relative_to(settings.BASE_DIR)}: plural of {msgid!r} changed")
    assert not missing, "run makemessages and translate:\n" + "\n".join(sorted(set(missing)))


# --- (c) The compiled catalogue matches the source ----------------------------------------------


def test_the_compiled_catalogue_matches_the_po_file(po, mo_catalog):
    expected = {}
    for entry in po.translated_entries():
        key = entry_id(entry)
        if entry.msgid_plural:
            for index, form in entry.msgstr_plural.items():
                expected[(key, index)] = form
        else:
            expected[key] = entry.msgstr
    compiled = {key: value for key, value in mo_catalog.items() if key != ""}
    assert compiled == expected, "django.mo is stale: run compilemessages"
    header = dict(line.split(": ", 1) for line in mo_catalog[""].splitlines() if ": " in line)
    assert header["Plural-Forms"] == UK_PLURAL_FORMS


# --- (d) The admin in either language, following the browser ------------------------------------


@pytest.fixture
def staff_client(client, team):
    client.force_login(team.alice)
    return client


def test_the_admin_follows_the_browser_in_ukrainian(staff_client):
    page = staff_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert '<html lang="uk"' in page
    assert "Ваші справи" in page  # the dashboard: "Your cases"
    assert "Вийти" in page  # Django's own: "Log out"
    assert "Справи" in page  # the apps
    assert "Докази" in page
    assert "Your cases" not in page


def test_the_admin_follows_the_browser_in_english(staff_client):
    page = staff_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9,uk;q=0.5").content.decode()
    assert '<html lang="en"' in page
    assert "Your cases" in page
    assert "Log out" in page
    assert "Ваші справи" not in page


def test_without_a_browser_preference_the_default_comes_from_settings(staff_client):
    assert settings.LANGUAGE_CODE == "en"
    assert "Your cases" in staff_client.get(reverse("admin:index")).content.decode()
    with override_settings(LANGUAGE_CODE="uk"):
        assert "Ваші справи" in staff_client.get(reverse("admin:index")).content.decode()


def test_model_names_and_choices_are_ukrainian_in_the_admin(staff_client, team):
    page = staff_client.get(reverse("admin:cases_case_changelist"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Розслідується" in page  # the case's status, "Under investigation"
    assert "Дата відкриття" in page  # the column "opened on"


# --- (e) The language switcher --------------------------------------------------------------------


def test_the_switcher_is_on_admin_pages_and_on_the_sign_in_page(staff_client):
    setlang = reverse("set_language")
    assert setlang == "/i18n/setlang/"
    for page in (
        staff_client.get(reverse("admin:index")).content.decode(),
        Client().get(reverse("admin:login")).content.decode(),  # signed out
    ):
        assert f'action="{setlang}"' in page
        assert 'name="language"' in page
        assert '<option value="uk" lang="uk"' in page
        assert "Українська" in page
        assert '<option value="en" lang="en" selected' in page


def test_the_switcher_sets_the_language_and_it_outlasts_the_browser_preference(staff_client):
    response = staff_client.post(reverse("set_language"), {"language": "uk", "next": reverse("admin:index")})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "uk"
    page = staff_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Ваші справи" in page
    assert '<option value="uk" lang="uk" selected' in page
    staff_client.post(reverse("set_language"), {"language": "en", "next": reverse("admin:index")})
    assert "Your cases" in staff_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()


def test_a_language_the_site_does_not_offer_is_ignored(staff_client):
    # Django has a German catalogue, so set_language keeps "de"; LocaleMiddleware then skips it (not in LANGUAGES).
    staff_client.post(reverse("set_language"), {"language": "de", "next": reverse("admin:index")})
    page = staff_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Ваші справи" in page
    assert "Abmelden" not in page


# --- (f) Dates and numbers follow the locale; times are shown in Europe/Kyiv --------------------


def test_dates_follow_the_locale_in_the_admin(staff_client, team):
    from cases.models import Case

    Case.objects.filter(pk=team.case.pk).update(opened_on=date(2024, 1, 2))
    changelist = reverse("admin:cases_case_changelist")
    assert "02 січня 2024 р." in staff_client.get(changelist, HTTP_ACCEPT_LANGUAGE="uk").content.decode()  # noqa: RUF001
    assert "Jan. 2, 2024" in staff_client.get(changelist, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_numbers_follow_the_locale():
    with translation.override("uk"):
        assert formats.localize(Decimal("49.9935")) == "49,9935"
    with translation.override("en"):
        assert formats.localize(Decimal("49.9935")) == "49.9935"


def test_times_are_stored_in_utc_and_shown_in_kyiv(staff_client, team):
    from cases.models import Incident
    from tests.factories import IncidentFactory

    assert settings.USE_TZ
    assert settings.TIME_ZONE == "Europe/Kyiv"
    incident = IncidentFactory(case=team.case, occurred_at=datetime(2024, 1, 2, 5, 0, tzinfo=UTC))
    assert Incident.objects.get(pk=incident.pk).occurred_at == datetime(2024, 1, 2, 5, 0, tzinfo=UTC)
    change = reverse("admin:cases_incident_change", args=[incident.pk])
    page = staff_client.get(change, HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert 'value="02.01.2024"' in page  # the date, as Ukrainians write it
    assert 'value="07:00:00"' in page  # 05:00 UTC is 07:00 in Kyiv in winter
    page = staff_client.get(change, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="2024-01-02"' in page
    assert 'value="07:00:00"' in page
    changelist = staff_client.get(reverse("admin:cases_incident_changelist"), HTTP_ACCEPT_LANGUAGE="uk")
    assert "02 січня 2024 р. 07:00" in changelist.content.decode()  # noqa: RUF001


# --- (g) Codes stored or returned by the API are named in the reader's language in the admin ----


def test_statistics_and_export_progress_are_ukrainian_in_the_admin(staff_client, team, api):
    from evidence.choices import ExportErrorCode
    from evidence.models import Export
    from evidence.services.failures import failure
    from tests.factories import ExportFactory, IncidentFactory

    IncidentFactory(case=team.case)  # a missile strike: counted under the code "missile_strike"
    case_page = reverse("admin:cases_case_change", args=[team.case.pk])
    assert "Ракетний удар: 1" in staff_client.get(case_page, HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Missile strike: 1" in staff_client.get(case_page, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # The build stores stable English codes; the admin translates them, the API returns them as stored.
    export = ExportFactory(case=team.case)
    not_queued = failure(ExportErrorCode.NOT_QUEUED)
    Export.objects.filter(pk=export.pk).update(stage="exhibits 3/12", **not_queued)
    export_page = reverse("admin:evidence_export_change", args=[export.pk])
    page = staff_client.get(export_page, HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "речові докази 3/12" in page
    assert "Не вдалося поставити збирання в чергу: брокер завдань недоступний." in page  # noqa: RUF001
    assert "exhibits 3/12" not in page
    page = staff_client.get(export_page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "exhibits 3/12" in page
    assert not_queued["error"] in page
    polled = api(team.alice).get(f"/api/v1/exports/{export.pk}/", HTTP_ACCEPT_LANGUAGE="uk").json()
    assert (polled["stage"], polled["error"]) == ("exhibits 3/12", not_queued["error"])


# --- (h) Templates and JavaScript: no user-facing words outside the catalogues ------------------

LETTER = re.compile(r"[A-Za-zА-Яа-яІіЇїЄєҐґ]")  # noqa: RUF001 - the Ukrainian alphabet
MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^<>]*>", re.S)
NAMING_ATTRIBUTE = re.compile(
    r"\b(title|alt|placeholder|aria-label|aria-description|aria-roledescription)\s*=\s*(\"[^\"]*\"|'[^']*')", re.I
)
ENTITY = re.compile(r"&#?\w+;")
# Template blocks whose content is not shown as text: translated blocks, comments, and the body's class names.
SKIPPED_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans", "comment": "endcomment"}
NOT_TEXT_BLOCKS = frozenset({"bodyclass"})


def untranslated_template_text(text: str) -> list[str]:
    """Words a template shows as written: text between tags, and naming attributes (title, alt, aria-label…)."""
    from django.template.base import Lexer, TokenType

    pieces, closing = [], None
    for token in Lexer(text).tokenize():
        if token.token_type == TokenType.BLOCK:
            words = token.contents.split()
            name = words[0] if words else ""
            if closing:
                closing = None if name == closing else closing
                continue
            if name in SKIPPED_BLOCKS:
                closing = SKIPPED_BLOCKS[name]
            elif name == "block" and len(words) > 1 and words[1] in NOT_TEXT_BLOCKS:
                closing = "endblock"
            pieces.append("\x00")  # a tag's output is not the template's own words
        elif closing:
            continue
        elif token.token_type == TokenType.TEXT:
            pieces.append(token.contents)
        else:
            pieces.append("\x00")
    html = "".join(pieces)
    found = [
        f"{match.group(1)}={match.group(2)}"
        for match in NAMING_ATTRIBUTE.finditer(html)
        if LETTER.search(ENTITY.sub("", match.group(2)[1:-1].replace("\x00", "")))
    ]
    for piece in MARKUP.sub("\x00", html).split("\x00"):
        piece = " ".join(ENTITY.sub(" ", piece).split())
        if LETTER.search(piece):
            found.append(repr(piece[:80]))
    return found


def test_the_template_scan_finds_words_outside_translate_tags():
    sample = """{% load i18n %}{% comment %}Not shown{% endcomment %}
    <h1>{% translate "Evidence" %}</h1><p>Drag the box</p><img src="x.png" alt="A photo" title="{{ name }}">
    {% blocktranslate %}Hello {{ name }}{% endblocktranslate %}<span aria-label='Close'>&times;</span>
    {% block bodyclass %}attest-page{% endblock %}<script>const a = "not text";</script>&nbsp;|&middot; 42 %"""
    assert untranslated_template_text(sample) == ['alt="A photo"', "aria-label='Close'", "'Drag the box'"]


def test_templates_show_no_untranslated_words():
    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {words}"
        for path in scanned_files(".html")
        for words in untranslated_template_text(path.read_text(encoding="utf-8"))
    ]
    assert not found, "wrap these in {% translate %}:\n" + "\n".join(found)


JS_STRING = r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`"
JS_STRING_OR_COMMENT = re.compile(JS_STRING + r"|//[^\n]*|/\*.*?\*/", re.S)
JS_CALL = re.compile(r"\b(n?p?gettext)\(\s*((?:" + JS_STRING + r")(?:\s*,\s*(?:" + JS_STRING + r"))*)")
# Where a string reaches the reader: text and naming properties, naming attributes, dialogs, text nodes, popups.
JS_SINK = re.compile(
    r"\.(?:textContent|innerText|innerHTML|outerHTML|title|placeholder|alt|ariaLabel|ariaDescription|label)"
    r"\s*\+?=\s*(?P<assigned>[^;\n]*)"
    r"|\.setAttribute\(\s*[\"'](?:title|alt|placeholder|aria-label|aria-description|aria-valuetext)[\"']\s*,"
    r"\s*(?P<attribute>[^;\n]*)"
    r"|\b(?:alert|confirm|prompt|createTextNode|insertAdjacentText|append|prepend|bindPopup|bindTooltip)\("
    r"\s*(?P<argument>[^;\n]*)"
)


def javascript_code(text: str) -> str:
    """The script with comments blanked (strings kept, so a // inside one is not taken for a comment)."""

    def blank(match):
        token = match.group(0)
        return token if token[0] in "\"'`" else re.sub(r"[^\n]", " ", token)

    return JS_STRING_OR_COMMENT.sub(blank, text)


def untranslated_javascript_literals(text: str) -> list[tuple[int, str]]:
    """(line, literal) of each string with words in it that a script shows without gettext()."""
    code = JS_CALL.sub(lambda match: "gettext()", javascript_code(text))
    found = []
    for match in JS_SINK.finditer(code):
        expression = next(group for group in match.groups() if group is not None)
        for literal in re.findall(JS_STRING, expression):
            if LETTER.search(re.sub(r"\$\{[^}]*\}", "", literal[1:-1])):
                found.append((code.count("\n", 0, match.start()) + 1, literal))
    return found


def javascript_messages(text: str) -> Iterator[tuple[str | None, str, str | None]]:
    for match in JS_CALL.finditer(javascript_code(text)):
        function, arguments = match.groups()
        values = list(ast.literal_eval(f"({arguments},)"))
        context = values.pop(0) if function.startswith(("pgettext", "npgettext")) else None
        plural = values[1] if function.startswith(("ngettext", "npgettext")) and len(values) > 1 else None
        yield context, values[0], plural


def project_scripts() -> Iterator[Path]:
    """The project's own scripts: third-party code shipped under a vendor/ folder is not ours to word."""
    return (path for path in scanned_files(".js") if "vendor" not in path.parts)


def test_the_javascript_scan_finds_words_shown_without_gettext():
    sample = """// el.textContent = "a comment";
    zoom.textContent = "Zoom in"; reset.title = gettext("Reset zoom"); scale.textContent = n + "%";
    close.setAttribute("aria-label", "Close " + name); alert(`Saved ${n}`); box.className = "attest-box";
    marker.bindPopup(data.open); status.textContent = labels[key] || ngettext("%s photo", "%s photos", n);"""
    assert untranslated_javascript_literals(sample) == [(2, '"Zoom in"'), (3, '"Close "'), (3, "`Saved ${n}`")]
    assert list(javascript_messages(sample)) == [(None, "Reset zoom", None), (None, "%s photo", "%s photos")]


def test_scripts_show_no_untranslated_words():
    scripts = list(project_scripts())
    assert any(path.name == "region-editor.js" for path in scripts)
    found = [
        f"{path.relative_to(settings.BASE_DIR)}:{line}: {literal}"
        for path in scripts
        for line, literal in untranslated_javascript_literals(path.read_text(encoding="utf-8"))
    ]
    assert not found, "pass these from the template ({% translate %}) or wrap them in gettext():\n" + "\n".join(found)


@pytest.fixture(scope="module")
def js_po() -> polib.POFile:
    return polib.pofile(str(JS_PO_PATH))


def test_every_javascript_message_is_in_the_javascript_catalogue(js_po):
    in_catalogue = {(entry.msgctxt, entry.msgid) for entry in js_po}
    missing = [
        f"{path.relative_to(settings.BASE_DIR)}: {msgid!r}"
        for path in project_scripts()
        for context, msgid, _plural in javascript_messages(path.read_text(encoding="utf-8"))
        if (context, msgid) not in in_catalogue
    ]
    assert not missing, f"add to {JS_PO_PATH.name} and translate:\n" + "\n".join(missing)


def test_the_javascript_catalogue_is_complete_and_compiled(js_po):
    assert js_po.metadata["Plural-Forms"] == UK_PLURAL_FORMS
    assert not js_po.untranslated_entries()
    assert not js_po.fuzzy_entries()
    expected = {}
    for entry in js_po.translated_entries():
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == [0, 1, 2], entry.msgid
            assert all(placeholders(form) == placeholders(entry.msgid_plural) for form in entry.msgstr_plural.values())
            expected.update({(entry_id(entry), index): form for index, form in entry.msgstr_plural.items()})
        else:
            assert placeholders(entry.msgstr) == placeholders(entry.msgid), entry.msgid
            expected[entry_id(entry)] = entry.msgstr
    with JS_MO_PATH.open("rb") as handle:
        compiled = {key: value for key, value in gettext_module.GNUTranslations(handle)._catalog.items() if key != ""}
    assert compiled == expected, "djangojs.mo is stale: run compilemessages"


def test_the_legal_basis_picker_speaks_ukrainian(staff_client):
    """Django's filter_horizontal composes "Choose %s" with the field's name; Django's uk catalogue left
    several of its phrases in English ("Choose правова підстава…") and the rest in the wrong case."""
    catalogue = staff_client.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    for phrase in ("Доступно: %s", "Вибрано: %s", "Вибрати всі пункти («%s»)", "Позначте пункти списку «%s»"):
        assert json.dumps(phrase)[1:-1] in catalogue  # the catalogue is JSON with \u escapes
    english = staff_client.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert json.dumps("Доступно")[1:-1] not in english
    assert '"Available %s"' not in english  # English needs no entry
