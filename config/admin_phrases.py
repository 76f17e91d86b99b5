"""Whole admin phrases for each model, in place of the ones Django composes from its verbose name.

Django's admin writes "Change %s", "Add %s", "Select %s to change" with the model's verbose name, which
in Ukrainian leaves the name in the nominative: "Змінити справа" for "Змінити справу". Each project model
has its phrases here as messages of their own, so the translator writes each in the right case. The
admin of every registered model of the project's apps gets them (install(), from config.apps, after every app's
ready()); tests/test_i18n.py fails for a model registered without them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

PROJECT_APPS = ("core", "cases", "evidence")
# Django's composed phrases, translated by Django's own catalogue (not literals here, so not ours).
DJANGO_ADD, DJANGO_CHANGE, DJANGO_VIEW = "Add %s", "Change %s", "View %s"


@dataclass(frozen=True)
class Phrases:
    add: Promise
    change: Promise
    view: Promise
    select_change: Promise
    select_view: Promise


PHRASES: dict[str, Phrases] = {
    "cases.case": Phrases(
        add=_("Add case"),
        change=_("Change case"),
        view=_("View case"),
        select_change=_("Select case to change"),
        select_view=_("Select case to view"),
    ),
    "cases.incident": Phrases(
        add=_("Add incident"),
        change=_("Change incident"),
        view=_("View incident"),
        select_change=_("Select incident to change"),
        select_view=_("Select incident to view"),
    ),
    "cases.casemembership": Phrases(
        add=_("Add case membership"),
        change=_("Change case membership"),
        view=_("View case membership"),
        select_change=_("Select case membership to change"),
        select_view=_("Select case membership to view"),
    ),
    "cases.weaponsystem": Phrases(
        add=_("Add weapon system"),
        change=_("Change weapon system"),
        view=_("View weapon system"),
        select_change=_("Select weapon system to change"),
        select_view=_("Select weapon system to view"),
    ),
    "cases.sanctionsregime": Phrases(
        add=_("Add sanctions regime"),
        change=_("Change sanctions regime"),
        view=_("View sanctions regime"),
        select_change=_("Select sanctions regime to change"),
        select_view=_("Select sanctions regime to view"),
    ),
    "cases.sanctionsprovision": Phrases(
        add=_("Add sanctions provision"),
        change=_("Change sanctions provision"),
        view=_("View sanctions provision"),
        select_change=_("Select sanctions provision to change"),
        select_view=_("Select sanctions provision to view"),
    ),
    "cases.entity": Phrases(
        add=_("Add entity"),
        change=_("Change entity"),
        view=_("View entity"),
        select_change=_("Select entity to change"),
        select_view=_("Select entity to view"),
    ),
    "cases.referencechange": Phrases(
        add=_("Add reference data change"),
        change=_("Change reference data change"),
        view=_("View reference data change"),
        select_change=_("Select reference data change to change"),
        select_view=_("Select reference data change to view"),
    ),
    "core.apitoken": Phrases(
        add=_("Add API token"),
        change=_("Change API token"),
        view=_("View API token"),
        select_change=_("Select API token to change"),
        select_view=_("Select API token to view"),
    ),
    "cases.accesslog": Phrases(
        add=_("Add access log entry"),
        change=_("Change access log entry"),
        view=_("View access log entry"),
        select_change=_("Select access log entry to change"),
        select_view=_("Select access log entry to view"),
    ),
    "evidence.export": Phrases(
        add=_("Add export"),
        change=_("Change export"),
        view=_("View export"),
        select_change=_("Select export to change"),
        select_view=_("Select export to view"),
    ),
    "evidence.evidenceitem": Phrases(
        add=_("Add evidence item"),
        change=_("Change evidence item"),
        view=_("View evidence item"),
        select_change=_("Select evidence item to change"),
        select_view=_("Select evidence item to view"),
    ),
    "evidence.custodyevent": Phrases(
        add=_("Add custody event"),
        change=_("Change custody event"),
        view=_("View custody event"),
        select_change=_("Select custody event to change"),
        select_view=_("Select custody event to view"),
    ),
    "evidence.checkpoint": Phrases(
        add=_("Add ledger checkpoint"),
        change=_("Change ledger checkpoint"),
        view=_("View ledger checkpoint"),
        select_change=_("Select ledger checkpoint to change"),
        select_view=_("Select ledger checkpoint to view"),
    ),
    "evidence.photo": Phrases(
        add=_("Add photo"),
        change=_("Change photo"),
        view=_("View photo"),
        select_change=_("Select photo to change"),
        select_view=_("Select photo to view"),
    ),
    "evidence.manufacturer": Phrases(
        add=_("Add manufacturer"),
        change=_("Change manufacturer"),
        view=_("View manufacturer"),
        select_change=_("Select manufacturer to change"),
        select_view=_("Select manufacturer to view"),
    ),
    "evidence.marking": Phrases(
        add=_("Add marking"),
        change=_("Change marking"),
        view=_("View marking"),
        select_change=_("Select marking to change"),
        select_view=_("Select marking to view"),
    ),
    "evidence.component": Phrases(
        add=_("Add component"),
        change=_("Change component"),
        view=_("View component"),
        select_change=_("Select component to change"),
        select_view=_("Select component to view"),
    ),
    "evidence.datecodereading": Phrases(
        add=_("Add date-code reading"),
        change=_("Change date-code reading"),
        view=_("View date-code reading"),
        select_change=_("Select date-code reading to change"),
        select_view=_("Select date-code reading to view"),
    ),
    "evidence.tracerequest": Phrases(
        add=_("Add trace request"),
        change=_("Change trace request"),
        view=_("View trace request"),
        select_change=_("Select trace request to change"),
        select_view=_("Select trace request to view"),
    ),
    "evidence.source": Phrases(
        add=_("Add source"),
        change=_("Change source"),
        view=_("View source"),
        select_change=_("Select source to change"),
        select_view=_("Select source to view"),
    ),
    "evidence.evidencefile": Phrases(
        add=_("Add evidence file"),
        change=_("Change evidence file"),
        view=_("View evidence file"),
        select_change=_("Select evidence file to change"),
        select_view=_("Select evidence file to view"),
    ),
    "evidence.attribution": Phrases(
        add=_("Add attribution"),
        change=_("Change attribution"),
        view=_("View attribution"),
        select_change=_("Select attribution to change"),
        select_view=_("Select attribution to view"),
    ),
}


class PhrasesMixin:
    """Gives the admin's titles (and the list's Add button) the model's own phrases."""

    def _phrases(self) -> Phrases | None:
        return PHRASES.get(self.opts.label_lower)

    def changelist_view(self, request, extra_context=None):
        phrases = self._phrases()
        if phrases is not None:
            title = phrases.select_change if self.has_change_permission(request) else phrases.select_view
            extra_context = {"title": title, "attest_add_label": phrases.add, **(extra_context or {})}
        else:  # another app's model (users, groups, two-factor devices): Django's phrase and catalogue
            add_label = gettext(DJANGO_ADD) % self.opts.verbose_name
            extra_context = {"attest_add_label": add_label, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        phrases = self._phrases()
        if phrases is not None:
            # Replace the title only where it is Django's composed one, not a title a view chose.
            name = self.opts.verbose_name
            composed = {
                gettext(DJANGO_ADD) % name: phrases.add,
                gettext(DJANGO_CHANGE) % name: phrases.change,
                gettext(DJANGO_VIEW) % name: phrases.view,
            }
            context["title"] = composed.get(str(context.get("title")), context.get("title"))
        return super().render_change_form(request, context, add, change, form_url, obj)


def install(site: admin.AdminSite = admin.site) -> None:
    """Put PhrasesMixin in front of the admin of every registered model."""
    for model_admin in list(site._registry.values()):
        if isinstance(model_admin, PhrasesMixin):
            continue
        cls = type(model_admin)
        model_admin.__class__ = type(cls.__name__, (PhrasesMixin, cls), {"__module__": cls.__module__})
