"""What keeps list endpoints fast on big tables: a capped count, the case filter, one query per relation."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from cases import models as case_models
from cases.api import serializers
from cases.models import Case, Incident
from core.api.pagination import DEFAULT_EXACT_COUNT_LIMIT, PagePagination
from tests.factories import EntityFactory, IncidentFactory, ProvisionFactory, WeaponSystemFactory

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/v1/incidents/"


def incidents(case, count):
    return [
        IncidentFactory(case=case, occurred_at=datetime(2024, 1, 1, tzinfo=UTC).replace(day=1 + n))
        for n in range(count)
    ]


class TestCappedCount:
    def test_under_the_limit_the_count_is_exact(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        incidents(team.case, 4)
        body = api(team.vera).get(INCIDENTS, {"page_size": 2}).json()
        assert (body["count"], body["count_exact"]) == (4, True)

    def test_at_the_limit_the_count_is_still_exact(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        incidents(team.case, 5)
        body = api(team.vera).get(INCIDENTS).json()
        assert (body["count"], body["count_exact"], len(body["results"])) == (5, True, 5)

    def test_beyond_the_limit_the_count_is_the_limit_and_says_so(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        incidents(team.case, 8)
        body = api(team.vera).get(INCIDENTS, {"page_size": 2}).json()
        assert (body["count"], body["count_exact"]) == (5, False)
        assert body["next"].endswith("page=2&page_size=2") or "page=2" in body["next"]

    def test_pages_go_past_the_limit_to_the_last_row_which_has_no_next(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        rows = incidents(team.case, 8)
        newest_first = [incident.pk for incident in reversed(rows)]
        client = api(team.vera)
        seen, page = [], 1
        while True:
            body = client.get(INCIDENTS, {"page_size": 2, "page": page}).json()
            assert (body["count"], body["count_exact"]) == (5, False)
            seen += [row["id"] for row in body["results"]]
            if body["next"] is None:
                break
            assert f"page={page + 1}" in body["next"]
            page += 1
        assert (page, seen) == (4, newest_first)
        assert "page=3" in body["previous"]

    def test_a_page_past_the_last_row_is_404_after_an_inexact_count(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        incidents(team.case, 8)
        response = api(team.vera).get(INCIDENTS, {"page_size": 2, "page": 5})
        assert response.status_code == 404
        error = response.json()["error"]
        assert set(error) == {"code", "message", "fields"}
        assert (error["code"], error["message"]) == ("not_found", "Invalid page.")

    def test_the_last_page_past_the_limit_counts_every_row(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        rows = incidents(team.case, 9)
        with CaptureQueriesContext(connection) as queries:
            last = api(team.vera).get(INCIDENTS, {"page_size": 2, "page": "last"}).json()
        assert [row["id"] for row in last["results"]] == [rows[0].pk]
        assert (last["next"], last["count"], last["count_exact"]) == (None, 5, False)
        assert "page=4" in last["previous"]
        uncapped = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and "LIMIT" not in q["sql"]]
        assert len(uncapped) == 1

    def test_the_last_page_under_the_limit_costs_no_full_count(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        rows = incidents(team.case, 3)
        with CaptureQueriesContext(connection) as queries:
            last = api(team.vera).get(INCIDENTS, {"page_size": 2, "page": "last"}).json()
        assert [row["id"] for row in last["results"]] == [rows[0].pk]
        assert all("LIMIT" in q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"])

    @pytest.mark.parametrize("page", ["0", "-1", "two", str(2**63), str(10**30)])
    def test_a_page_that_is_no_whole_number_from_one_is_404(self, api, team, page):
        incidents(team.case, 2)
        response = api(team.vera).get(INCIDENTS, {"page": page})
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "Invalid page."

    def test_a_page_beyond_an_exact_count_is_the_usual_404(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        incidents(team.case, 3)
        response = api(team.vera).get(INCIDENTS, {"page_size": 2, "page": 3})
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "Invalid page."

    def test_the_count_stops_at_the_limit(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        incidents(team.case, 8)
        with CaptureQueriesContext(connection) as queries:
            api(team.vera).get(INCIDENTS, {"page_size": 2})
        counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]
        assert len(counts) == 1
        counted = counts[0]
        assert "LIMIT 6" in counted
        assert "ORDER BY" not in counted

    def test_the_page_is_one_query_and_its_count_another(self, api, team, settings):
        settings.API_EXACT_COUNT_LIMIT = 5
        made = incidents(team.case, 8)
        with CaptureQueriesContext(connection) as queries:
            body = api(team.vera).get(INCIDENTS, {"page_size": 3, "page": 2}).json()
        incident_queries = [q["sql"] for q in queries.captured_queries if 'FROM "cases_incident"' in q["sql"]]
        assert len(incident_queries) == 2
        assert len([sql for sql in incident_queries if "COUNT(" in sql]) == 1
        assert (body["count"], body["count_exact"]) == (5, False)
        newest_first = [incident.pk for incident in reversed(made)]
        assert [row["id"] for row in body["results"]] == newest_first[3:6]
        assert "page=3" in body["next"]
        assert "attest_capped_count" not in body["results"][0]

    def test_an_empty_list_counts_zero_and_a_page_past_the_end_is_404(self, api, team):
        client = api(team.vera)
        body = client.get(INCIDENTS, {"case": team.case.pk}).json()
        assert (body["count"], body["count_exact"], body["results"], body["next"]) == (0, True, [], None)
        incidents(team.case, 2)
        assert client.get(INCIDENTS, {"page_size": 2, "page": 2}).status_code == 404
        assert client.get(INCIDENTS, {"page_size": 2, "page": 1}).json()["count"] == 2

    @pytest.mark.parametrize(
        ("page", "linked"), [("1", "page=2"), ("3", "page=4"), ("5", "page=6"), ("last", "page=5")]
    )
    def test_the_browsable_api_pages_past_the_limit(self, client, team, settings, page, linked):
        settings.API_EXACT_COUNT_LIMIT = 5
        incidents(team.case, 12)
        client.force_login(team.vera)
        response = client.get(INCIDENTS, {"page_size": 2, "page": page}, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert "pagination" in response.content.decode()
        assert linked in response.content.decode()

    def test_the_default_limit(self):
        assert DEFAULT_EXACT_COUNT_LIMIT == 1_000

    def test_the_schema_documents_count_exact(self):
        schema = PagePagination().get_paginated_response_schema({"type": "array"})
        assert schema["properties"]["count_exact"]["type"] == "boolean"
        assert list(schema["properties"]) == ["count", "count_exact", "next", "previous", "results"]
        assert set(schema["required"]) == {"count", "count_exact", "next", "previous", "results"}


class TestCaseFilter:
    @pytest.mark.parametrize(
        "url",
        [INCIDENTS, "/api/v1/case-memberships/", "/api/v1/evidence-items/", "/api/v1/photos/", "/api/v1/sources/"],
    )
    def test_a_case_of_others_reads_like_a_case_that_does_not_exist(self, api, team, url):
        IncidentFactory(case=team.case)
        client = api(team.charlie)
        foreign = client.get(url, {"case": team.case.pk})
        missing = client.get(url, {"case": Case.objects.order_by("-pk").first().pk + 1000})
        assert foreign.status_code == missing.status_code == 200
        assert foreign.json()["count"] == missing.json()["count"] == 0

    def test_members_get_their_case(self, api, team):
        IncidentFactory(case=team.case)
        IncidentFactory(case=team.other_case)
        body = api(team.root).get(INCIDENTS, {"case": team.case.pk}).json()
        assert body["count"] == 1
        assert body["results"][0]["case"] == team.case.pk

    @pytest.mark.parametrize("value", ["abc", "1.5", "0", str(2**64)])
    def test_a_value_that_is_no_id_is_400_in_the_error_format(self, api, team, value):
        response = api(team.vera).get(INCIDENTS, {"case": value})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert "case" in error["fields"]

    def test_no_query_checks_the_case(self, team):
        from cases.api.filters import IncidentFilter

        request = APIRequestFactory().get(INCIDENTS)
        request.user = team.vera
        with CaptureQueriesContext(connection) as queries:
            filterset = IncidentFilter({"case": team.case.pk}, queryset=Incident.objects.all(), request=request)
            assert filterset.is_valid()
            str(filterset.qs.query)
        assert not queries.captured_queries

    def test_the_schema_calls_it_an_integer(self):
        from drf_spectacular.generators import SchemaGenerator

        schema = SchemaGenerator().get_schema(request=None, public=True)
        parameters = schema["paths"][INCIDENTS]["get"]["parameters"]
        case = next(parameter for parameter in parameters if parameter["name"] == "case")
        assert case["schema"]["type"] == "integer"


class TestVisibility:
    def test_the_ids_of_the_users_cases_are_named_in_the_query(self, team):
        sql = str(Incident.objects.visible_to(team.vera).query)
        assert f"IN ({team.case.pk})" in sql
        assert "casemembership" not in sql

    def test_a_user_of_very_many_cases_gets_a_subquery_with_the_same_rows(self, team, monkeypatch):
        IncidentFactory(case=team.case)
        IncidentFactory(case=team.other_case)
        inline = set(Incident.objects.visible_to(team.vera))
        monkeypatch.setattr(case_models, "MEMBER_CASE_IDS_INLINE_LIMIT", 0)
        assert "casemembership" in str(Incident.objects.visible_to(team.vera).query)
        assert set(Incident.objects.visible_to(team.vera)) == inline
        assert {incident.case_id for incident in inline} == {team.case.pk}

    def test_a_user_of_no_case_sees_nothing_without_a_query_for_rows(self, team, django_user_model):
        loner = django_user_model.objects.create_user("loner")
        with CaptureQueriesContext(connection) as queries:
            assert list(Incident.objects.visible_to(loner)) == []
        assert len(queries) == 1  # the memberships; none, so no query for incidents


class TestListQueries:
    def test_incidents_take_one_query_for_the_entities_of_a_page(self, api, team):
        entities = EntityFactory.create_batch(3)
        for incident in incidents(team.case, 6):
            incident.entities.set(entities[: incident.pk % 3])
        client = api(team.vera)
        client.get(INCIDENTS)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(INCIDENTS).status_code == 200
        links = [query for query in queries.captured_queries if "incident_entities" in query["sql"]]
        assert len(links) == 1
        assert not [query for query in queries.captured_queries if 'FROM "cases_weaponsystem"' in query["sql"]]

    def test_list_and_detail_show_the_same_incident(self, api, team):
        weapon = WeaponSystemFactory()
        incident = IncidentFactory(case=team.case, weapon_system=weapon, launch_latitude=None)
        incident.entities.set([EntityFactory(name="Zeta"), EntityFactory(name="Alpha"), EntityFactory(name="Mu")])
        client = api(team.vera)
        listed = client.get(INCIDENTS).json()["results"][0]
        shown = client.get(f"{INCIDENTS}{incident.pk}/").json()
        assert listed == shown
        names = dict(incident.entities.values_list("pk", "name"))
        assert [names[pk] for pk in listed["entities"]] == ["Alpha", "Mu", "Zeta"]

    def test_cases_take_one_query_per_relation(self, api, team):
        team.case.entities.set(EntityFactory.create_batch(2))
        team.case.legal_basis.set([ProvisionFactory()])
        client = api(team.alice)
        client.get("/api/v1/cases/")
        with CaptureQueriesContext(connection) as queries:
            body = client.get("/api/v1/cases/").json()
        assert len(body["results"][0]["entities"]) == 2
        assert len(body["results"][0]["legal_basis"]) == 1
        for table in ("case_entities", "case_legal_basis"):
            assert len([query for query in queries.captured_queries if table in query["sql"]]) == 1


class PlainIncidentSerializer(drf.ModelSerializer):
    """IncidentSerializer as DRF alone would make it: what the quicker one must match, value for value."""

    case = drf.PrimaryKeyRelatedField(read_only=True)
    identification_basis = serializers.IdentificationBasisField(required=False)

    class Meta:
        model = Incident
        fields = serializers.IncidentSerializer.Meta.fields


class TestSerializerMatchesDrf:
    @pytest.mark.parametrize("zone", ["UTC", "Europe/Kyiv", "America/St_Johns"])
    def test_a_page_reads_as_drf_reads_it(self, team, zone):
        entities = EntityFactory.create_batch(3)
        weapon = WeaponSystemFactory()
        rows = [
            IncidentFactory(case=team.case, weapon_system=weapon, launch_latitude="50.100000", killed=3),
            IncidentFactory(case=team.case, latitude=None, longitude="-0.000100", identification_basis=[]),
            IncidentFactory(
                case=team.case, latitude="-89.999999", occurred_at=datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC)
            ),
        ]
        rows[0].entities.set(entities)
        rows[2].entities.set(entities[1:])
        request = APIRequestFactory().get(INCIDENTS)
        request.user = team.vera
        page = list(Incident.objects.filter(pk__in=[row.pk for row in rows]).order_by("pk"))
        with timezone.override(zone):
            ours = serializers.IncidentSerializer(page, many=True, context={"request": request}).data
            plain = PlainIncidentSerializer(page, many=True, context={"request": request}).data
            one = serializers.IncidentSerializer(page[0], context={"request": request}).data
        assert json.loads(JSONRenderer().render(ours)) == json.loads(JSONRenderer().render(plain))
        assert json.loads(JSONRenderer().render(one)) == json.loads(JSONRenderer().render(plain[0]))

    def test_a_mapping_is_read_as_drf_reads_it(self):
        value = {"name": "KN-23", "aliases": ["Hwasong-11"], "category": "ballistic_missile", "notes": "x"}
        assert serializers.WeaponSystemSerializer(value).data == {
            "name": "KN-23",
            "aliases": ["Hwasong-11"],
            "category": "ballistic_missile",
            "notes": "x",
        }


class TestFilterSets:
    def test_a_filterset_refuses_a_bad_value_naming_only_that_filter(self, team):
        from cases.api.filters import IncidentFilter

        wrong = IncidentFilter({"kind": ["nonsense"], "region": "Kharkiv"}, queryset=Incident.objects.all())
        assert not wrong.is_valid()
        assert set(wrong.errors) == {"kind"}

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"kind": ["missile_strike"]},
            {"kind": ["missile_strike", "launch"], "region": "kharkiv"},
            {"outcome": ["impact"], "occurred_after": "2024-01-03T00:00:00Z"},
            {"occurred_before": "2024-01-05T00:00:00+02:00", "weapon_system": "1"},
            {"kind": []},  # a named filter left empty
        ],
    )
    def test_filtering_by_the_named_fields_gives_what_the_whole_form_gives(self, team, query):
        from django.http import QueryDict

        from cases.api.filters import IncidentFilter

        for n, kind in enumerate(["missile_strike", "launch", "missile_strike", "other"]):
            IncidentFactory(
                case=team.case, kind=kind, region=["Kharkiv", "Kyiv"][n % 2], outcome=["impact", "unknown"][n // 2],
                occurred_at=datetime(2024, 1, 1 + 2 * n, tzinfo=UTC),
            )  # fmt: skip
        data = QueryDict(mutable=True)
        for name, value in query.items():
            data.setlist(name, value if isinstance(value, list) else [value])
        filterset = IncidentFilter(data, queryset=Incident.objects.all())
        assert filterset.is_valid()
        whole = IncidentFilter(data, queryset=Incident.objects.all()).form
        assert whole.is_valid()
        expected = Incident.objects.all()
        for name, value in whole.cleaned_data.items():
            expected = IncidentFilter.base_filters[name].filter(expected, value)
        assert sorted(filterset.qs.values_list("pk", flat=True)) == sorted(expected.values_list("pk", flat=True))

    @pytest.mark.parametrize(
        ("field", "data", "named"),
        [
            ("checkbox", {}, True),  # unticked filters (False)
            ("multiple", {}, False),
            ("multiple", {"multiple": "a"}, True),
            ("range", {}, False),
            ("range", {"range_after": "2024-01-01"}, True),
            ("text", {"text": ""}, True),
            ("text", {"other": "x"}, False),
        ],
    )
    def test_which_form_fields_a_query_names(self, field, data, named):
        import django_filters
        from django import forms

        from core.api.filters import _is_named

        fields = {
            "checkbox": forms.BooleanField(required=False),
            "multiple": forms.MultipleChoiceField(choices=[("a", "a")], required=False),
            "range": django_filters.DateFromToRangeFilter().field,
            "text": forms.CharField(required=False),
        }
        assert _is_named(fields[field], data, field) is named

    def test_serializer_fields_are_new_on_each_serializer_and_follow_the_language(self):
        from django.utils import translation

        one = serializers.IncidentSerializer().fields
        two = serializers.IncidentSerializer().fields
        assert one["kind"] is not two["kind"]
        with translation.override("uk"):
            label = str(serializers.IncidentSerializer().fields["kind"].label)
        assert label != str(one["kind"].label)


class TestForeignKeyFilters:
    """Every foreign key filters by id: no query checks it, and a missing id reads as one of others."""

    @pytest.mark.parametrize(
        ("url", "name"),
        [
            ("/api/v1/evidence-items/", "incident"),
            ("/api/v1/evidence-items/", "parent"),
            ("/api/v1/markings/", "photo"),
            ("/api/v1/attributions/", "source"),
            ("/api/v1/exports/", "case"),
        ],
    )
    def test_an_id_of_others_reads_like_one_that_does_not_exist(self, api, team, url, name):
        other_incident = IncidentFactory(case=team.other_case)
        client = api(team.charlie)  # member of other_case only
        foreign = client.get(url, {name: other_incident.pk + 10_000})
        mine = client.get(url, {name: other_incident.pk})
        assert foreign.status_code == mine.status_code == 200
        assert foreign.json()["count"] == 0
        for value in ("abc", "0"):
            response = client.get(url, {name: value})
            assert response.status_code == 400
            assert name in response.json()["error"]["fields"]


class TestCaseIdsReadWithTheToken:
    def test_a_read_makes_no_query_for_the_memberships(self, api, team):
        IncidentFactory(case=team.case)
        client = api(team.vera)
        with CaptureQueriesContext(connection) as queries:
            body = client.get(INCIDENTS).json()
        assert body["count"] == 1
        assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT "cases_casemembership"')]

    def test_a_membership_ended_shows_on_the_next_request(self, api, team):
        from cases.models import CaseMembership

        IncidentFactory(case=team.case)
        client = api(team.vera)
        assert client.get(INCIDENTS).json()["count"] == 1
        CaseMembership.objects.filter(user=team.vera, case=team.case).delete()
        assert client.get(INCIDENTS).json()["count"] == 0
        assert client.get(INCIDENTS, {"case": team.case.pk}).json()["count"] == 0


class TestDateTimeFilters:
    """Any offset Python accepts reaches the database as UTC (PostgreSQL refuses offsets past ±15:59)."""

    @pytest.mark.parametrize(
        "url", [INCIDENTS, "/api/v1/evidence-items/", "/api/v1/custody-events/", "/api/v1/tokens/"]
    )
    def test_a_far_offset_is_read_as_utc(self, api, team, url):
        IncidentFactory(case=team.case, occurred_at=datetime(2024, 1, 2, 12, tzinfo=UTC))
        names = {
            INCIDENTS: "occurred_after",
            "/api/v1/evidence-items/": "recovered_after",
            "/api/v1/tokens/": "revoked_at",
        }
        name = names.get(url, "recorded_after")
        response = api(team.vera).get(url, {name: "0278-01-01T14:14:47-16:46"})
        assert response.status_code == 200, response.content[:300]

    def test_the_offset_counts(self, api, team):
        IncidentFactory(case=team.case, occurred_at=datetime(2024, 1, 2, 12, tzinfo=UTC))
        client = api(team.vera)
        # 12:00 UTC is 14:00 in Kyiv (winter): after 13:30+02:00 (11:30 UTC), not after 14:30+02:00.
        assert client.get(INCIDENTS, {"occurred_after": "2024-01-02T13:30:00+02:00"}).json()["count"] == 1
        assert client.get(INCIDENTS, {"occurred_after": "2024-01-02T14:30:00+02:00"}).json()["count"] == 0

    def test_a_time_with_no_utc_equivalent_is_400_naming_the_field(self, api, team):
        response = api(team.vera).get(INCIDENTS, {"occurred_before": "0001-01-01T00:30:00+01:00"})
        assert response.status_code == 400
        assert "occurred_before" in response.json()["error"]["fields"]
