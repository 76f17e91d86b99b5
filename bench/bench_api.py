"""API list benchmark: one page of 50 incidents out of 100,000, full stack against a bare view.

    .venv/bin/python bench/bench_api.py [--quick] [--profile] [--cprofile] [--no-rps]

1. Latency, in this process, by calling the WSGI application directly (every middleware runs):
   GET /api/v1/incidents/?case=<id>&page_size=50 with an API token (token auth, permissions,
   case visibility, django-filter, throttling, pagination with its COUNT, the serializer)
   against /bench/bare-incidents/?case=<id>&page_size=50 (bench/urls.py): the same fields of the
   same 50 rows by .values(), no auth. The two alternate, after a warm-up. Target: median of the
   full stack within TARGET_RATIO (2x) of the bare view's.
2. Requests per second of both under `gunicorn config.wsgi --workers 2` on loopback, driven by
   bench/loadgen.py in a second process.

The data lives in a throwaway database: a fresh SQLite file in a temporary folder, or, when
ATTEST_BENCH_DATABASE_URL is set (e.g. postgres://user@127.0.0.1:5432/postgres), a new database
`attest_bench_<pid>` created on that server (as Django's test runner does; it needs CREATEDB) and
dropped at the end; the database the URL names is only used to connect. MEDIA_ROOT and VAR_DIR
point at temporary folders too. Both sides run with DEBUG off, as in production (DEBUG logs every
query, which would weigh on the side that makes more of them). --quick (or ATTEST_BENCH_QUICK=1)
is a smoke run on 5,000 rows.
A missed target prints FAIL but exits 0: the figures are what matter. An error exits 1.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import ipaddress
import json
import os
import pstats
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 2.0
PAGE_SIZE = 50
API_PATH = "/api/v1/incidents/"
BARE_PATH = "/bench/bare-incidents/"  # bench/urls.py
INDEX_NAME = "incident_case_occurred"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make the project importable
from bench import photo_env  # noqa: E402

LOOPBACK = "127.0.0.1"
GUNICORN_WORKERS = 2
LOAD_CONCURRENCY = 4  # two connections per sync worker keep both busy
# The token throttle allows 1200 requests a minute per token (API_THROTTLE_RATE). The load is
# spread over this many tokens, as it would be over as many clients, so that it is measured
# rather than throttled; each load run's request budget stays below what they allow together.
LOAD_TOKENS = 32
THROTTLE_PER_TOKEN_PER_MINUTE = 1200


@dataclass(frozen=True)
class Plan:
    rows: int
    warmup: int
    iterations: int
    rps_rounds: int
    rps_seconds: float
    rps_warmup_seconds: float
    other_requests: int


FULL = Plan(100_000, warmup=30, iterations=200, rps_rounds=2, rps_seconds=5, rps_warmup_seconds=1.5, other_requests=5)
QUICK = Plan(5_000, warmup=10, iterations=40, rps_rounds=1, rps_seconds=2, rps_warmup_seconds=1, other_requests=3)

# Compared value for value between the API's page and the baseline's (formats differ for the rest).
COMPARED_FIELDS = ("case", "kind", "region", "place_name", "weapon_system", "killed", "identification_basis")

# Measured for information only (full stack, a few requests each): no target applies to them.
OTHER_QUERIES = [
    ("page_size={size}", "no filter: every incident the user may see"),
    ("region=Kharkiv&page_size={size}", "region filter (iexact)"),
    ("case={case}&kind=launch&page_size={size}", "case + kind filter"),
]


def log(message: str = "") -> None:
    print(message, flush=True)


# --- environment and database -------------------------------------------------------------------


def configure_environment(tmp: Path) -> str:
    """Point every setting that writes somewhere at tmp; returns a description of the database."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    # What production runs: DEBUG off (no SQL logging on every cursor), with a key made for this run.
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(64)
    os.environ["ALLOWED_HOSTS"] = f"{LOOPBACK},localhost"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    # Nothing of the developer's: no Redis for the cache or a broker (the throttle counts in this run's
    # database, shared by the gunicorn workers as in production).
    for name in ("CACHE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        os.environ.pop(name, None)
    for name in ("MEDIA_ROOT", "VAR_DIR"):
        folder = tmp / name.lower()
        folder.mkdir()
        os.environ[name] = str(folder)
    server_url = os.environ.get("ATTEST_BENCH_DATABASE_URL", "").strip()
    if server_url:
        os.environ["DATABASE_URL"] = server_url  # replaced by the new database's URL once created
        return "server"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    return "sqlite"


def create_database(kind: str) -> str | None:
    """Migrate a fresh database; on a server, first create attest_bench_<pid> (returns the old name)."""
    from django.core.management import call_command
    from django.db import connection

    if kind == "sqlite":
        call_command("migrate", interactive=False, verbosity=0)
        return None
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"attest_bench_{os.getpid()}"
    new_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    parts = urlsplit(os.environ["DATABASE_URL"])
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{new_name}"))  # for gunicorn
    return old_name


def describe_database() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}, temporary file (WAL)"
    return f"{connection.vendor} database {connection.settings_dict['NAME']} (created for this run)"


# --- data ---------------------------------------------------------------------------------------

# (region, [(place, latitude, longitude)], weight): oblasts struck most often weigh most.
PLACES = [
    ("Kharkiv", [("Kharkiv", 49.9935, 36.2304), ("Kupiansk", 49.7106, 37.6156), ("Izium", 49.2103, 37.2483),
                 ("Chuhuiv", 49.8353, 36.6880)], 22),
    ("Kyiv City", [("Kyiv", 50.4501, 30.5234)], 10),
    ("Kyiv", [("Bila Tserkva", 49.7968, 30.1311), ("Brovary", 50.5110, 30.7909)], 5),
    ("Zaporizhzhia", [("Zaporizhzhia", 47.8388, 35.1396), ("Orikhiv", 47.5674, 35.7854)], 12),
    ("Dnipropetrovsk", [("Dnipro", 48.4647, 35.0462), ("Kryvyi Rih", 47.9105, 33.3918),
                        ("Pavlohrad", 48.5350, 35.8700)], 10),
    ("Odesa", [("Odesa", 46.4825, 30.7233), ("Izmail", 45.3516, 28.8365)], 8),
    ("Donetsk", [("Kramatorsk", 48.7389, 37.5848), ("Sloviansk", 48.8526, 37.6057),
                 ("Pokrovsk", 48.2826, 37.1760)], 12),
    ("Mykolaiv", [("Mykolaiv", 46.9750, 31.9946)], 5),
    ("Sumy", [("Sumy", 50.9077, 34.7981), ("Shostka", 51.8634, 33.4698)], 6),
    ("Chernihiv", [("Chernihiv", 51.4982, 31.2893)], 3),
    ("Poltava", [("Poltava", 49.5883, 34.5514), ("Kremenchuk", 49.0659, 33.4204)], 3),
    ("Kherson", [("Kherson", 46.6354, 32.6169)], 3),
    ("Lviv", [("Lviv", 49.8397, 24.0297)], 1),
]  # fmt: skip
KIND_WEIGHTS = {
    "missile_strike": 45, "rocket_strike": 15, "launch": 10, "failure_in_flight": 5,
    "interception": 15, "shipment": 4, "seizure": 2, "other": 4,
}  # fmt: skip
OUTCOME_OF_KIND = {
    "missile_strike": "impact", "rocket_strike": "impact", "launch": "unknown",
    "failure_in_flight": "failed_in_flight", "interception": "intercepted", "shipment": "delivered",
    "seizure": "seized", "other": "unknown",
}  # fmt: skip
MISSILES = {"Hwasong-11": 30, "Hwasong-11Na": 5, "9M723 (Iskander-M)": 25, "Kh-101": 20, "Shahed-136": 20}
LAUNCH_SITES = [
    ("Belgorod Oblast, near Belgorod", 50.5997, 36.5983),
    ("Kursk Oblast, near Kursk", 51.7304, 36.1926),
    ("Voronezh Oblast, near Voronezh", 51.6720, 39.1843),
]
DAMAGE = [
    "", "", "Residential building partly destroyed.", "Warehouse burnt out.",
    "Windows blown out in neighbouring blocks.", "Power substation damaged.", "Crater in a field.",
]  # fmt: skip
BASES = ["debris", "trajectory", "speed", "launch_site", "intelligence", "other"]


def incident_rows(rows: int, case_id: int, weapons: dict[str, int], seed: int):
    """`rows` incidents as {attname: value}: the realistic variety the list endpoint pages through."""
    import random
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    rng = random.Random(seed)
    missiles = [name for name in MISSILES if name in weapons]
    missile_weights = [MISSILES[name] for name in missiles]
    rocket = weapons.get("122 mm rocket (Grad type)")
    kinds, kind_weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    region_weights = [weight for *_, weight in PLACES]
    start = datetime(2022, 2, 24, tzinfo=UTC)
    span = int((datetime(2025, 6, 30, tzinfo=UTC) - start).total_seconds())
    now = datetime.now(UTC)

    def coordinate(value: float, jitter: float) -> Decimal:
        return Decimal(f"{value + rng.uniform(-jitter, jitter):.6f}")

    for _ in range(rows):
        kind = rng.choices(kinds, kind_weights)[0]
        region, places, _weight = rng.choices(PLACES, region_weights)[0]
        place, latitude, longitude = rng.choice(places)
        weapon = None
        if kind in ("missile_strike", "launch", "failure_in_flight", "interception"):
            weapon = weapons[rng.choices(missiles, missile_weights)[0]] if missiles else None
        elif kind == "rocket_strike":
            weapon = rocket
        elif kind in ("shipment", "seizure") and rng.random() < 0.5:
            weapon = weapons.get("Hwasong-11")
        launch = rng.choice(LAUNCH_SITES) if kind in ("launch", "failure_in_flight") else None
        killed = rng.choices([0, 1, 2, 5, 12], [70, 12, 8, 7, 3])[0] if kind.endswith("strike") else 0
        yield {
            "created_at": now,
            "updated_at": now,
            "case_id": case_id,
            "kind": kind,
            "occurred_at": start + timedelta(seconds=rng.randrange(span)),
            "occurred_precision": rng.choices(["exact", "day", "month"], [85, 12, 3])[0],
            "place_name": place,
            "region": region,
            "country": "Ukraine",
            "latitude": coordinate(latitude, 0.05),
            "longitude": coordinate(longitude, 0.05),
            "weapon_system_id": weapon,
            "launch_site": launch[0] if launch else "",
            "launch_latitude": coordinate(launch[1], 0.2) if launch else None,
            "launch_longitude": coordinate(launch[2], 0.2) if launch else None,
            "outcome": OUTCOME_OF_KIND[kind],
            "killed": killed,
            "wounded": killed * rng.randrange(0, 6) + rng.choices([0, 1, 3], [60, 25, 15])[0],
            "damage": rng.choice(DAMAGE),
            "identification_basis": sorted(rng.sample(BASES, rng.choices([0, 1, 2, 3], [15, 50, 25, 10])[0])),
            "description": f"{kind.replace('_', ' ').capitalize()} reported at {place} ({region} region).",
        }


def insert_incidents(rows, batch_size: int = 5000) -> None:
    """Write the rows in batches, each value adapted for the database as the ORM does.

    bulk_create spends about 0.1 ms a row building and compiling model instances (10 s for
    100,000 rows). Here SQLite gets executemany and PostgreSQL gets COPY: a few seconds at most.
    """
    from django.db import connection, models

    from cases.models import Incident

    ops = connection.ops
    fields = [field for field in Incident._meta.concrete_fields if not field.primary_key]

    def adapter(field):  # what the field's get_db_prep_save ends in, without its per-value checks
        if isinstance(field, models.DateTimeField):
            return ops.adapt_datetimefield_value
        if isinstance(field, models.DecimalField):
            return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
        if isinstance(field, models.JSONField):
            return lambda value: ops.adapt_json_value(value, field.encoder)
        return None

    prepare = [(field.attname, adapter(field)) for field in fields]
    values = (tuple(row[name] if prep is None else prep(row[name]) for name, prep in prepare) for row in rows)
    # Table and column names come from the model, quoted by the backend; values go as parameters.
    table = ops.quote_name(Incident._meta.db_table)
    columns = ", ".join(ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        batch: list[tuple] = []
        for row in values:
            batch.append(row)
            if len(batch) == batch_size:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def analyze() -> None:
    """On PostgreSQL, VACUUM ANALYZE the loaded tables, as autovacuum soon would after such a load.

    SQLite is left without statistics: nothing in a Django deployment runs ANALYZE on it. (With
    them, SQLite plans the page query with a temporary B-tree sort; see the report of this bench.)
    """
    from django.db import connection

    from cases.models import Incident

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Incident, Incident.entities.through):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def populate(rows: int, seed: int = 1718):
    """One case, one analyst on it, `rows` incidents with entities on some; returns (case, user)."""
    import random

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from cases.choices import Role
    from cases.models import Case, CaseMembership, Entity, Incident, WeaponSystem

    rng = random.Random(seed)
    weapons = {weapon.name: weapon.pk for weapon in WeaponSystem.objects.all()}
    with transaction.atomic():
        user = get_user_model().objects.create_user("bench-analyst", email="bench@attest.invalid")
        case = Case.objects.create(
            reference="BENCH-0001", title="North Korean missiles against Ukrainian cities (benchmark)"
        )
        CaseMembership.objects.create(case=case, user=user, role=Role.ANALYST)
        entities = Entity.objects.bulk_create(
            Entity(kind="organisation", name=f"Trading corporation {n}", sanctioned=n % 3 == 0) for n in range(20)
        )
        insert_incidents(incident_rows(rows, case.pk, weapons, seed))
        # Every tenth incident is linked to one or two entities, so the prefetch has something to find.
        ids = list(Incident.objects.filter(case=case).values_list("id", flat=True))
        Link = Incident.entities.through
        Link.objects.bulk_create(
            (
                Link(incident_id=incident_id, entity_id=entity.pk)
                for incident_id in ids[::10]
                for entity in rng.sample(entities, rng.randint(1, 2))
            ),
            batch_size=5000,
        )
    assert Incident.objects.filter(case=case).count() == rows
    analyze()
    return case, user


# --- in-process WSGI calls ----------------------------------------------------------------------


class WsgiClient:
    """Calls the WSGI application the way gunicorn does, minus the socket: every middleware runs."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def get(self, path: str, query: str, headers: dict[str, str]) -> tuple[int, bytes]:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": LOOPBACK,
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": LOOPBACK,
            "HTTP_HOST": LOOPBACK,
            "HTTP_ACCEPT": "application/json",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **headers,
        }
        status: list[str] = []
        result = self.handler(environ, lambda line, response_headers, exc_info=None: status.append(line))
        try:
            body = b"".join(result)
        finally:
            result.close()  # request_finished: closes the database connection, as in production
        return int(status[0].split()[0]), body


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))]


def check_same_page(full_body: bytes, bare_body: bytes, rows: int) -> list[int]:
    """The API's page and the baseline's must be the same 50 incidents with the same fields."""
    full, bare = json.loads(full_body), json.loads(bare_body)
    # Counts are exact up to API_EXACT_COUNT_LIMIT, then capped and flagged (core/api/pagination.py).
    from django.conf import settings

    limit = getattr(settings, "API_EXACT_COUNT_LIMIT", 10_000)
    assert full["count"] == min(rows, limit), f"the API counts {full['count']} incidents, expected {min(rows, limit)}"
    assert full.get("count_exact", True) == (rows <= limit), "count_exact should say whether the count is capped"
    full_rows, bare_rows = full["results"], bare["results"]
    assert len(full_rows) == PAGE_SIZE, f"the API returned {len(full_rows)} items, expected {PAGE_SIZE}"
    ids = [row["id"] for row in full_rows]
    assert ids == [row["id"] for row in bare_rows], "the API and the bare view return different incidents"
    assert set(full_rows[0]) == set(bare_rows[0]), f"different fields: {sorted(set(full_rows[0]) ^ set(bare_rows[0]))}"
    for api_row, bare_row in zip(full_rows, bare_rows, strict=True):
        for field in COMPARED_FIELDS:
            assert api_row[field] == bare_row[field], f"incident {api_row['id']}: {field} differs"
        assert sorted(api_row["entities"]) == sorted(bare_row["entities"])
    return ids


def page_query_uses_index(sql: str) -> tuple[bool, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + sql)
        plan = " | ".join(" ".join(str(part) for part in row) for row in cursor.fetchall())
    connection.close()
    return INDEX_NAME in plan, plan


def measure_latency(plan: Plan, client: WsgiClient, case_id: int, raw_token: str) -> dict:
    """Median and p95 of the full stack and of the bare view, alternating, after a warm-up."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    query = f"case={case_id}&page_size={PAGE_SIZE}"
    auth = {"HTTP_AUTHORIZATION": f"Token {raw_token}"}

    def full():
        return client.get(API_PATH, query, auth)

    def bare():
        return client.get(BARE_PATH, query, {})

    with CaptureQueriesContext(connection) as full_queries:
        full_status, full_body = full()
    with CaptureQueriesContext(connection) as bare_queries:
        bare_status, bare_body = bare()
    # Copied now: connection.queries is emptied at the start of every later request.
    queries = {
        "full": [(q["sql"], q["time"]) for q in full_queries.captured_queries],
        "bare": [(q["sql"], q["time"]) for q in bare_queries.captured_queries],
    }
    assert full_status == 200, f"the API answered {full_status}: {full_body[:300]!r}"
    assert bare_status == 200, f"the bare view answered {bare_status}: {bare_body[:300]!r}"
    check_same_page(full_body, bare_body, plan.rows)
    page_sql = next(
        sql
        for sql, _ in queries["full"]
        if 'FROM "cases_incident"' in sql and "LIMIT" in sql and not sql.upper().startswith("SELECT COUNT(")
    )
    uses_index, query_plan = page_query_uses_index(page_sql)

    for _ in range(plan.warmup):
        full()
        bare()
    gc.collect()
    times: dict[str, list[float]] = {"full": [], "bare": []}
    statuses: set[int] = set()
    for i in range(plan.iterations):
        for name, call in (("full", full), ("bare", bare)) if i % 2 == 0 else (("bare", bare), ("full", full)):
            started = time.perf_counter()
            status, _body = call()
            times[name].append((time.perf_counter() - started) * 1000)
            statuses.add(status)
    assert statuses == {200}, f"statuses during the run: {sorted(statuses)}"
    # The last page must still be the same rows (nothing changed them in between).
    check_same_page(full()[1], bare()[1], plan.rows)

    # The floor, for information: the bare view's two queries and its JSON, with no web stack at all
    # (no WSGI, middleware or connect per request), so that the cost above it can be told apart.
    from bench.urls import INCIDENT_FIELDS
    from cases.models import Incident

    def floor():
        page = Incident.objects.filter(case_id=case_id).order_by("-occurred_at", "-id")
        rows = list(page.values(*INCIDENT_FIELDS)[:PAGE_SIZE])
        links = Incident.entities.through.objects.filter(incident_id__in=[row["id"] for row in rows])
        entities: dict = {}
        for incident_id, entity_id in links.values_list("incident_id", "entity_id"):
            entities.setdefault(incident_id, []).append(entity_id)
        for row in rows:
            row["entities"] = entities.get(row["id"], [])
        return json.dumps({"results": rows}, cls=DjangoJSONEncoder)

    for _ in range(plan.warmup):
        floor()
    times["floor"] = []
    for _ in range(plan.iterations):
        started = time.perf_counter()
        floor()
        times["floor"].append((time.perf_counter() - started) * 1000)

    result = {
        name: {"median": statistics.median(values), "p95": percentile(sorted(values), 0.95)}
        for name, values in times.items()
    }
    result.update(queries=queries, uses_index=uses_index, plan=query_plan)
    result["calls"] = {"full": full, "bare": bare}
    return result


def measure_other_queries(plan: Plan, client: WsgiClient, case_id: int, raw_token: str) -> list[tuple]:
    """For information: the same endpoint with other filters a client is likely to send."""
    auth = {"HTTP_AUTHORIZATION": f"Token {raw_token}"}
    results = []
    for query, note in OTHER_QUERIES:
        query = query.format(case=case_id, size=PAGE_SIZE)
        times = []
        for _ in range(plan.other_requests + 1):  # the first one warms up
            started = time.perf_counter()
            status, body = client.get(API_PATH, query, auth)
            times.append((time.perf_counter() - started) * 1000)
            assert status == 200, f"{query}: {status} {body[:300]!r}"
        results.append((query, note, statistics.median(times[1:])))
    return results


def cprofile_requests(calls: dict, count: int = 100) -> str:
    out = io.StringIO()
    for name, call in calls.items():
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            call()
        profiler.disable()
        out.write(f"\n--- cProfile, {count} requests, {name}, by cumulative time ---\n")
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        out.write(f"\n--- cProfile, {count} requests, {name}, by own time ---\n")
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


# --- gunicorn and the load generator ------------------------------------------------------------


def _stop_with_parent() -> None:
    """In the gunicorn child, before exec: Linux sends it SIGTERM should this process die first."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


wait_until_serving = photo_env.wait_until_serving


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_load(port: int, path: str, seconds: float, max_requests: int, tokens: list[str]) -> dict:
    """bench/loadgen.py in its own process, bounded by seconds and max_requests."""
    command = [
        sys.executable, str(ROOT / "bench" / "loadgen.py"), "--host", LOOPBACK, "--port", str(port),
        "--path", path, "--duration", str(seconds), "--max-requests", str(max_requests),
        "--concurrency", str(LOAD_CONCURRENCY),
    ]  # fmt: skip
    env = {**os.environ, "ATTEST_LOADGEN_TOKENS": ",".join(tokens)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def measure_rps(plan: Plan, case_id: int, tokens: list[str], tmp: Path) -> dict:
    from django.db import connections

    connections.close_all()
    assert ipaddress.ip_address(LOOPBACK).is_loopback
    port = free_loopback_port()
    log_path = tmp / "gunicorn.log"
    query = f"?case={case_id}&page_size={PAGE_SIZE}"
    paths = {"full": API_PATH + query, "bare": BARE_PATH + query}
    runs_per_path = plan.rps_rounds + 1  # the warm-up counts against the throttle too
    max_requests = len(tokens) * THROTTLE_PER_TOKEN_PER_MINUTE // (runs_per_path + 1)
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(GUNICORN_WORKERS),
        "--bind", f"{LOOPBACK}:{port}", "--log-level", "warning", "--chdir", str(ROOT),
    ]  # fmt: skip
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(os.environ),
            stdout=log_file,
            stderr=log_file,
            preexec_fn=_stop_with_parent,  # no other thread runs in this process
        )
        try:
            wait_until_serving(process, port, log_path)
            for path in paths.values():  # warm both workers, record each token's first use
                run_load(port, path, plan.rps_warmup_seconds, max_requests, tokens)
            results: dict[str, list[dict]] = {"full": [], "bare": []}
            for round_number in range(plan.rps_rounds):
                order = ("full", "bare") if round_number % 2 == 0 else ("bare", "full")
                for name in order:
                    results[name].append(run_load(port, paths[name], plan.rps_seconds, max_requests, tokens))
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
    summary = {}
    for name, runs in results.items():
        elapsed = sum(run["elapsed_s"] for run in runs)
        statuses: dict[str, int] = {}
        for run in runs:
            for code, count in run["statuses"].items():
                statuses[code] = statuses.get(code, 0) + count
        summary[name] = {
            "rps": sum(run["ok"] for run in runs) / elapsed,
            "requests": sum(run["requests"] for run in runs),
            "errors": sum(run["errors"] for run in runs),
            "first_errors": [error for run in runs for error in run["first_errors"]][:3],
            "statuses": statuses,
            "median_ms": statistics.median(run["median_ms"] for run in runs if run["median_ms"] is not None),
            "p95_ms": max(run["p95_ms"] for run in runs if run["p95_ms"] is not None),
            "seconds": elapsed,
        }
    return summary


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 rows, fewer iterations: a smoke run")
    parser.add_argument("--profile", action="store_true", help="also print the queries and where the time goes")
    parser.add_argument("--cprofile", action="store_true", help="also print cProfile of 100 requests of each")
    parser.add_argument("--no-rps", action="store_true", help="skip the gunicorn requests-per-second part")
    args = parser.parse_args(argv)
    args.quick = args.quick or os.environ.get("ATTEST_BENCH_QUICK", "").strip().lower() in (
        "1",
        "true",
        "yes",
    )
    return args


def report_latency(plan: Plan, latency: dict) -> bool:
    ratio = latency["full"]["median"] / latency["bare"]["median"]
    passed = ratio <= TARGET_RATIO
    log(f"index       the page query uses {INDEX_NAME}: {'yes' if latency['uses_index'] else 'NO'}")
    counts = {name: len(queries) for name, queries in latency["queries"].items()}
    log(f"queries     full stack {counts['full']}, bare view {counts['bare']}")
    log(f"latency     in-process WSGI, {plan.iterations} of each, alternating, after {plan.warmup} warm-up")
    for name, label in (("full", "full stack"), ("bare", "bare view")):
        figures = latency[name]
        log(f"  {label:<10}  median {figures['median']:7.2f} ms   p95 {figures['p95']:7.2f} ms")
    floor = latency["floor"]["median"]
    log(
        f"  floor       median {floor:7.2f} ms   the same two queries and json.dumps, no web stack (information): "
        f"the bare view adds {latency['bare']['median'] - floor:.2f} ms, the full stack "
        f"{latency['full']['median'] - floor:.2f} ms (--profile: where)"
    )
    log(f"  ratio       median full / bare = {ratio:.2f}x (target <= {TARGET_RATIO:.1f}x)")
    if passed:
        log(f"  PASS: the full stack is within {TARGET_RATIO:.1f}x of the bare view")
    else:
        log("  " + "*" * 72)
        log(f"  *** FAIL: the full stack takes {ratio:.2f}x the bare view's time; target {TARGET_RATIO}x ***")
        log("  " + "*" * 72)
    return passed


def report_profile(latency: dict) -> None:
    from bench.breakdown import time_breakdown

    log("\nqueries of one request (ms as the database driver reports them)")
    for name in ("full", "bare"):
        for sql, seconds in latency["queries"][name]:
            log(f"  {name} {float(seconds) * 1000:6.1f}  {sql[:160]}")
    log(f"plan of the page query: {latency['plan']}")
    for name, call in latency["calls"].items():
        mean, stages = time_breakdown(call, 100)
        log(f"\nwhere the time goes, {name}: mean {mean:.2f} ms over 100 requests (own time of each stage)")
        for stage, ms in stages:
            log(f"  {ms:6.2f} ms  {stage}")
    log()


def report_rps(rps: dict, plan: Plan) -> None:
    log(
        f"throughput  gunicorn --workers {GUNICORN_WORKERS} (sync) on {LOOPBACK}, load from a second "
        f"process, {LOAD_CONCURRENCY} connections, {plan.rps_rounds} x {plan.rps_seconds:.0f} s per endpoint"
    )
    for name, label in (("full", "full stack"), ("bare", "bare view")):
        figures = rps[name]
        log(
            f"  {label:<10}  {figures['rps']:7.1f} req/s   median {figures['median_ms']:6.2f} ms   "
            f"p95 {figures['p95_ms']:6.2f} ms   {figures['requests']:,} requests in "
            f"{figures['seconds']:.1f} s, {figures['errors']} errors {figures['statuses']}"
        )
        if figures["errors"]:
            log(f"  !! errors: {figures['first_errors']}")
    log(f"  ratio       req/s full / bare = {rps['full']['rps'] / rps['bare']['rps']:.2f}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # SIGTERM (e.g. bench/run.py's timeout) unwinds like an exception: gunicorn is stopped and the
    # temporary database and folders are removed by the finally blocks.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    plan = QUICK if args.quick else FULL
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="attest-bench-"))
    old_db_name = None
    kind = configure_environment(tmp)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        from cases import services

        old_db_name = create_database(kind)
        migrated = time.perf_counter()
        case, user = populate(plan.rows)
        populated = time.perf_counter()
        _token, raw_token = services.create_api_token(actor=user, name="bench", two_factor_verified=True)
        load_tokens = [
            services.create_api_token(actor=user, name=f"load {n}", two_factor_verified=True)[1]
            for n in range(LOAD_TOKENS)
        ]
        connection.close()
        query = f"?case={case.pk}&page_size={PAGE_SIZE}"

        log(f"endpoint    GET {API_PATH}{query}  (Authorization: Token ...)")
        log(f"baseline    GET {BARE_PATH}{query}  (.values(), no auth; bench/urls.py)")
        log(f"database    {describe_database()}; DEBUG={settings.DEBUG}{'; QUICK RUN' if args.quick else ''}")
        log(f"rows        {plan.rows:,} incidents on one case; page size {PAGE_SIZE}")
        log(f"setup       migrate {migrated - began:.1f} s, data {populated - migrated:.1f} s")

        client = WsgiClient()
        latency = measure_latency(plan, client, case.pk, raw_token)
        passed = report_latency(plan, latency)
        others = measure_other_queries(plan, client, case.pk, raw_token)
        log(f"also        full stack, other filters, median of {plan.other_requests} (information, no target)")
        for other_query, note, median in others:
            log(f"  {median:8.2f} ms  ?{other_query:<40} {note}")
        if args.profile:
            report_profile(latency)
        if args.cprofile:
            log(cprofile_requests(latency["calls"]))
        connection.close()

        if not args.no_rps:
            report_rps(measure_rps(plan, case.pk, load_tokens, tmp), plan)
        ratio = latency["full"]["median"] / latency["bare"]["median"]
        verdict = "PASS" if passed else "FAIL"
        took = time.perf_counter() - began
        log(f"result      {verdict}: {ratio:.2f}x, target {TARGET_RATIO}x; the bench took {took:.0f} s")
        return 0
    finally:
        try:
            from django.db import connection, connections

            connections.close_all()
            if old_db_name is not None:
                connection.creation.destroy_test_db(old_db_name, verbosity=0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
