"""Names for controls that Django's admin renders without a label of their own.

A tabular inline's cells have their column header, not a <label>: screen readers announce a bare
"combo box" for each row's select, and axe counts each as a critical violation (459 on a demo case
page). `labelled` renders a cell's control with an aria-label naming the column and the row.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext

register = template.Library()


def row_name(inline_admin_form) -> str:
    if inline_admin_form.original is not None:
        return str(inline_admin_form.original)
    prefix = inline_admin_form.form.prefix or ""
    number = prefix.rsplit("-", 1)[-1]
    if number.isdigit():
        return gettext("new row %(number)s") % {"number": int(number) + 1}
    return gettext("new row")


@register.filter
def labelled(bound_field, inline_admin_form):
    """The cell's control, named "<column> (<row>)" for assistive technology."""
    name = f"{capfirst(bound_field.label)} ({row_name(inline_admin_form)})"
    return bound_field.as_widget(attrs={"aria-label": name})


@register.filter
def deletion_labelled(bound_field, inline_admin_form):
    """The row's Delete checkbox, named after the row it deletes."""
    name = gettext("Delete %(row)s") % {"row": row_name(inline_admin_form)}
    return bound_field.as_widget(attrs={"aria-label": name})


def boolean_icon(field_val):
    """Django's yes/no/unknown icon, with its text alternative in the reader's language.

    Django writes alt="True"/"False"/"None" whatever the language, so a Ukrainian screen reader
    heard English and a status such as "withdrawn" was left to the icon's shape and colour.
    """
    icon = {True: "yes", False: "no", None: "unknown"}[field_val]
    icon_url = static(f"admin/img/icon-{icon}.svg")
    alt = {True: gettext("Yes"), False: gettext("No"), None: gettext("Unknown")}[field_val]
    return format_html('<img src="{}" alt="{}">', icon_url, alt)


def install() -> None:
    """Use boolean_icon wherever the admin draws a boolean (its lists and read-only fields import it from here)."""
    from django.contrib.admin.templatetags import admin_list

    admin_list._boolean_icon = boolean_icon
