# ruff: noqa: RUF001 (Ukrainian month names are Cyrillic by design)
"""The dossier's timeline names months in the dossier's language, not in matplotlib's C locale."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from matplotlib.figure import Figure

from evidence.export import charts
from evidence.export.pdf import sections
from evidence.export.pdf.labels import month_names


def test_tick_labels_name_months_and_years_in_the_given_language():
    uk = month_names("uk")
    days = [date(2023, 11, 1), date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1)]
    assert charts.date_tick_labels(days, uk) == ["лист. 2023", "груд.", "січ. 2024", "лют."]
    assert charts.date_tick_labels([date(2024, 3, 4), date(2024, 3, 11)], uk) == ["4 бер. 2024", "11"]
    assert charts.date_tick_labels(days) == ["Nov 2023", "Dec", "Jan 2024", "Feb"]


@pytest.mark.parametrize(("language", "expected", "absent"), [("uk", "бер.", "Mar"), ("en", "Mar", "бер.")])
def test_the_timeline_axis_is_in_the_dossier_language(tmp_path, monkeypatch, language, expected, absent):
    drawn = []
    real_savefig = Figure.savefig

    def savefig(figure, *args, **kwargs):
        drawn.extend(label.get_text() for label in figure.axes[0].get_xticklabels())
        return real_savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    days = [date(2024, 1, 5), date(2024, 2, 10), date(2024, 3, 15), date(2024, 6, 20), date(2024, 9, 1)]
    spec = {
        "timeline": {
            "points": [[day.isoformat(), "missile_strike"] for day in days],
            "out": str(tmp_path / "timeline.png"),
            "y_label": "n",
            "months": month_names(language),
        }
    }
    charts.draw_charts(spec)
    assert (tmp_path / "timeline.png").stat().st_size > 0
    text = " ".join(drawn)
    assert expected in text, drawn
    assert absent not in text, drawn


def test_the_chart_spec_carries_the_month_names_of_the_dossier_language(tmp_path):
    from datetime import UTC, datetime

    row = SimpleNamespace(occurred_at=datetime(2024, 3, 1, tzinfo=UTC), kind="x", latitude=None, longitude=None)
    ctx = SimpleNamespace(
        data=SimpleNamespace(incidents=[row]), tmp=tmp_path, language="uk", labels={"per_day": "за день"}
    )
    assert sections.chart_spec(ctx)["timeline"]["months"][2] == "бер."
