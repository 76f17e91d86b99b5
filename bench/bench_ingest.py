"""Whole photo ingest benchmark: the upload request and the processing task, against a bare loop.

    DEBUG=1 .venv/bin/python bench/bench_ingest.py [--quick] [--profile]

What an investigator waits for is the whole ingest: the upload (streamed to a temporary file and
hashed, vetted, stored, photo.added in the ledger), then the processing (EXIF, preview, thumbnail,
hashes, photo.processed). bench_photos.py times the task alone; this times both, through the
project's real code path.

photos    camera-like JPEGs (bench/photo_images.py) of 4000x3000 (12 MP) and 6000x4000 (24 MP),
          quality 92, full camera EXIF with GPS, with orientation 1, 6 and 8 (stored landscape,
          shown portrait after a quarter turn either way). Every upload is a new original: the
          pixels are encoded once per size and orientation, and each upload gets the EXIF of
          another seed (another camera, time, place, MakerNote), hence its own SHA-256.
ingest    POST /api/v1/photos/ (multipart, token auth) through config.wsgi.application in this
          process, as gunicorn calls it: request parsing into HashingUploadHandler, DRF, the
          throttle, services.add_photo, and, on the embedded default (no broker: Celery eager),
          the photo task run right after the upload commits, within the request. The response is
          closed as a WSGI server closes it, so the request's end closes the database connection.
          The multipart body is built beforehand (it is the client's work).
worker    the same upload with a worker elsewhere (Celery not eager; the queued task is held
          back), then services.process_photo(photo_id=...) in this process, as the worker's task
          calls it, and the connection closed as Celery's Django fix-up does. Shown for
          information: the upload and the worker each decode the photo (the upload at 1/8
          scale), and the broker's hop is not counted.
floor     a bare loop on the same bytes in memory: SHA-256, Image.open, draft("RGB", preview
          size), load, resize to 1600 px (LANCZOS), the quarter turn the EXIF orientation asks
          for, a 400 px thumbnail of that, and its pHash; no EXIF parsing, no vetting, no
          encoding, no database, no files.

The floor resizes and turns as the pipeline does, so its pHash must equal the one the ingest
records (checked after every run). The sides alternate photo by photo, order rotated each time,
after a warm-up; a set of runs during which this process got less than 85 % of a CPU is run again
(up to 3 times). The figure is the median per photo. Target: ingest / floor <= 1.3 for every size
and orientation. Then where the time of an ingest goes (the functions it calls, wrapped), and, for
information, what writing the photo's bytes to a new file costs on this machine (kept, as an
original is, and removed before the next): the floor writes nothing.

Database: a SQLite file in a temporary folder, or with ATTEST_BENCH_DATABASE_URL a throwaway
PostgreSQL database on that server. --quick (or ATTEST_BENCH_QUICK=1): three rounds. A missed
target prints FAIL and exits 0; an error exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import hashlib
import importlib
import io
import itertools
import json
import os
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import photo_env
from bench.bench_photos import PREVIEW_PX, THUMB_PX, Stopwatch, _fit
from bench.photo_env import LOOPBACK, log

TARGET_RATIO = 1.3
CLEAN_SHARE = 0.85
RETRIES = 3
API_PATH = "/api/v1/photos/"
ORIENTATIONS = (1, 6, 8)
SIDES = ("ingest", "worker", "floor")


@dataclass(frozen=True)
class Plan:
    rounds: int
    breakdown_runs: int


FULL = Plan(rounds=8, breakdown_runs=4)
QUICK = Plan(rounds=3, breakdown_runs=2)


@dataclass
class Subject:
    label: str  # "12 MP, orientation 6"
    size: str
    orientation: int
    variants: Iterator[bytes]
    sizes_seen: list[int] = field(default_factory=list)


# --- the floor ------------------------------------------------------------------------------


def floor(data: bytes, orientation: int, laps: dict[str, float] | None = None) -> str:
    """The bare minimum per photo, with Pillow and imagehash directly; returns the pHash."""
    import imagehash
    from PIL import Image

    turns = {6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}  # those the photos carry
    started = time.perf_counter()
    hashlib.sha256(data).hexdigest()
    hashed = time.perf_counter()
    with Image.open(io.BytesIO(data)) as im:
        target = _fit(im.size, PREVIEW_PX)
        im.draft("RGB", target)
        im.load()
        decoded = time.perf_counter()
        preview = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0) if im.size != target else im.copy()
    if orientation in turns:
        preview = preview.transpose(turns[orientation])
    resized = time.perf_counter()
    thumb = preview.resize(_fit(preview.size, THUMB_PX), Image.Resampling.LANCZOS, reducing_gap=2.0)
    thumbed = time.perf_counter()
    phash = str(imagehash.phash(thumb, hash_size=8))
    if laps is not None:
        finished = time.perf_counter()
        for name, seconds in (
            ("sha256 of the bytes", hashed - started),
            ("open + draft + load (decode)", decoded - hashed),
            ("resize to 1600 px + quarter turn", resized - decoded),
            ("thumbnail 400 px", thumbed - resized),
            ("pHash", finished - thumbed),
        ):
            laps[name] = laps.get(name, 0.0) + seconds
    return phash


# --- the ingest -----------------------------------------------------------------------------


class Uploader:
    """POSTs photos to the API through the project's WSGI application, in this process."""

    def __init__(self, token: str, item_id: int) -> None:
        from config.wsgi import application

        self.application = application
        self.token = token
        self.item_id = item_id
        self.count = itertools.count(1)

    def body(self, data: bytes) -> tuple[bytes, str]:
        boundary = f"attest-bench-{secrets.token_hex(12)}"
        name = f"IMG_{next(self.count):04d}.JPG"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="item"\r\n\r\n{self.item_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary

    def post(self, body: bytes, boundary: str) -> tuple[int, bytes]:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": API_PATH,
            "QUERY_STRING": "",
            "SERVER_NAME": LOOPBACK,
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": LOOPBACK,
            "HTTP_HOST": LOOPBACK,
            "HTTP_AUTHORIZATION": f"Token {self.token}",
            "HTTP_ACCEPT": "application/json",
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        answer: dict[str, str] = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = status

        result = self.application(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            result.close()  # as a WSGI server does: request_finished closes the database connection
        return int(answer["status"].split()[0]), content


@contextlib.contextmanager
def worker_elsewhere() -> Iterator[list[int]]:
    """Celery not eager, as with a broker, and the queued task held back (yields the photo ids)."""
    with photo_env.tasks_not_queued() as queued:
        yield queued


def ingest(uploader: Uploader, prepared: tuple[bytes, str]) -> dict:
    status, content = uploader.post(*prepared)
    if status != 201:
        raise RuntimeError(f"the upload answered {status}: {content[:500]!r}")
    return json.loads(content)


def ingest_with_worker(uploader: Uploader, prepared: tuple[bytes, str]) -> dict:
    from django.db import close_old_connections

    from evidence import services

    with worker_elsewhere() as queued:
        body = ingest(uploader, prepared)
    if queued != [body["id"]]:
        raise RuntimeError(f"expected the task of photo {body['id']} queued, got {queued}")
    photo = services.process_photo(photo_id=body["id"])
    close_old_connections()  # Celery's Django fix-up does this after every task (CONN_MAX_AGE=0)
    return {**body, "status": photo.status, "phash": photo.phash}


def check(subject: Subject, side: str, result, expected_phash: str) -> None:
    """The photo is done and its pHash is the floor's: both did the same work."""
    from evidence.models import Photo

    photo = Photo.objects.get(pk=result["id"])
    if photo.status != "done" or photo.phash != expected_phash:
        raise AssertionError(
            f"{subject.label}, {side}: photo {photo.pk} ended {photo.status} ({photo.error}) with pHash "
            f"{photo.phash}, the floor's is {expected_phash}"
        )


# --- measurement ----------------------------------------------------------------------------


def run_side(side: str, uploader: Uploader, subject: Subject, data: bytes) -> tuple[float, float, object]:
    prepared = uploader.body(data) if side != "floor" else None
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    if side == "ingest":
        result = ingest(uploader, prepared)
    elif side == "worker":
        result = ingest_with_worker(uploader, prepared)
    else:
        result = floor(data, subject.orientation)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure(plan: Plan, uploader: Uploader, subjects: list[Subject]) -> tuple[dict, int, int]:
    """Seconds per photo of each side, rotating the order, after one warm-up of each per subject."""
    expected: dict[str, str] = {}
    for subject in subjects:
        data = next(subject.variants)
        expected[subject.label] = floor(data, subject.orientation)
        for side in ("ingest", "worker"):
            _wall, _cpu, result = run_side(side, uploader, subject, next(subject.variants))
            check(subject, side, result, expected[subject.label])
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: {side: [] for side in SIDES})
    turn = rerun = kept_disturbed = 0
    for _round in range(plan.rounds):
        for subject in subjects:
            order = SIDES[turn % 3 :] + SIDES[: turn % 3]
            turn += 1
            for attempt in range(RETRIES + 1):
                runs = {}
                for side in order:
                    data = next(subject.variants)
                    subject.sizes_seen.append(len(data))
                    wall, cpu, result = run_side(side, uploader, subject, data)
                    if side == "floor":
                        if result != expected[subject.label]:
                            raise AssertionError(f"{subject.label}: the floor's pHash changed")
                    else:
                        check(subject, side, result, expected[subject.label])
                    runs[side] = (wall, cpu)
                if all(cpu >= CLEAN_SHARE * wall for wall, cpu in runs.values()):
                    break
                if attempt == RETRIES:
                    kept_disturbed += 1
                else:
                    rerun += 1
            for side, (wall, _cpu) in runs.items():
                times[subject.label][side].append(wall)
    return times, rerun, kept_disturbed


# (label, module, attribute, parent): what the request calls, by the names it looks them up with at call
# time, so wrapping the attribute times the real calls. "Class.method" wraps a method.
VET = "vet_and_derive (checks, decode at preview scale, derivatives)"
TASK = "the photo task (services.process_photo)"
STEPS = [
    ("multipart parsing into the hashed temporary file", "django.http.multipartparser", "MultiPartParser.parse", None),
    (VET, "evidence.services.photos", "vet_and_derive", None),
    ("polyglot scan of every byte (sniff.check_not_polyglot)", "evidence.lib.imaging", "check_not_polyglot", VET),
    ("decode (load)", "evidence.lib.imaging", "_decode", VET),
    ("JPEG encode of preview and thumbnail", "evidence.lib.imaging", "_jpeg_bytes", VET),
    ("vet (checks, decode at 1/8 scale; with a worker elsewhere)", "evidence.services.photos", "vet", None),
    ("filestore.store (link the original in)", "evidence.filestore", "store", None),
    ("custody events (photo.added, photo.processed)", "evidence.services.photos", "_photo_event", None),
    (TASK, "evidence.services", "process_photo", None),
    ("read_metadata (EXIF)", "evidence.services.photos", "read_metadata", TASK),
    ("make_derivatives (only when not handed over)", "evidence.services.photos", "make_derivatives", TASK),
    ("write_derivative (preview, thumbnail)", "evidence.filestore", "write_derivative", TASK),
]


def _target(module_name: str, attribute: str) -> tuple[object, str]:
    owner: object = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def breakdown(plan: Plan, uploader: Uploader, subjects: list[Subject]) -> dict[str, dict]:
    from django.db import connection

    results = {}
    for subject in subjects:
        if subject.orientation != 6:
            continue
        watch = Stopwatch()
        total = 0.0
        with contextlib.ExitStack() as stack:
            for name, module_name, attribute, _parent in STEPS:
                owner, attribute_name = _target(module_name, attribute)
                if hasattr(owner, attribute_name):  # (vet_and_derive is new: the bench also runs on older code)
                    wrapped = watch.wrap(name, getattr(owner, attribute_name))
                    stack.enter_context(mock.patch.object(owner, attribute_name, wrapped))
            stack.enter_context(connection.execute_wrapper(watch.database))
            for _ in range(plan.breakdown_runs):
                wall, _cpu, _result = run_side("ingest", uploader, subject, next(subject.variants))
                total += wall
        laps: dict[str, float] = {}
        floor_total = 0.0
        for _ in range(plan.breakdown_runs):
            data = next(subject.variants)
            started = time.perf_counter()
            floor(data, subject.orientation, laps)
            floor_total += time.perf_counter() - started
        runs = plan.breakdown_runs
        kept, dropped = write_costs(next(subject.variants), runs)
        results[subject.label] = {
            "ingest_ms": total / runs * 1000,
            "steps": {name: watch.seconds[name] / runs * 1000 for name, *_ in STEPS},
            "database_ms": watch.seconds["database queries"] / runs * 1000,
            "queries": watch.calls["database queries"] / runs,
            "floor_ms": floor_total / runs * 1000,
            "floor_steps": {name: seconds / runs * 1000 for name, seconds in laps.items()},
            "write_kept_ms": kept * 1000,
            "write_dropped_ms": dropped * 1000,
        }
    return results


def write_costs(data: bytes, runs: int) -> tuple[float, float]:
    """Mean seconds to write `data` to a new file in 64 KiB pieces, as the upload handler does, under
    MEDIA_ROOT: files kept (as an original is), and each removed before the next is written. On a
    virtual machine that hands the guest fresh memory lazily, the first differs from the second by
    what new page-cache memory costs; the floor, in memory, pays neither."""
    from django.conf import settings

    folder = Path(settings.MEDIA_ROOT) / "bench-writes"
    folder.mkdir(exist_ok=True)
    seconds = {True: 0.0, False: 0.0}
    for keep in (True, False):
        for n in range(runs):
            target = folder / f"{keep}-{n}"
            started = time.perf_counter()
            with target.open("wb") as out:
                for at in range(0, len(data), 1 << 16):
                    out.write(data[at : at + (1 << 16)])
            seconds[keep] += time.perf_counter() - started
            if not keep:
                target.unlink()
    shutil.rmtree(folder)
    return seconds[True] / runs, seconds[False] / runs


def cprofile_ingest(uploader: Uploader, subject: Subject, runs: int, lines: int) -> str:
    profiler = cProfile.Profile()
    for _ in range(runs):
        prepared = uploader.body(next(subject.variants))
        profiler.enable()
        ingest(uploader, prepared)
        profiler.disable()
    out = io.StringIO()
    out.write(f"\n--- cProfile of the ingest, {runs} photos ({subject.label}), by own time ---\n")
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(lines)
    out.write("\n--- the same, by cumulative time ---\n")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


# --- report ---------------------------------------------------------------------------------


def report(times: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    ratios = {}
    log(
        f"{'photo':<23}{'ingest':>9}{'worker':>9}{'floor':>9}{'ingest/floor':>14}{'worker/floor':>14}"
        "   (medians per photo; fastest ingest / fastest floor; n)"
    )
    for label, sides in times.items():
        ingest_s, worker_s, floor_s = (statistics.median(sides[side]) for side in SIDES)
        ratios[label] = ingest_s / floor_s
        verdict = "PASS" if ratios[label] <= TARGET_RATIO else "FAIL"
        log(
            f"{label:<23}{ingest_s * 1000:>6.0f} ms{worker_s * 1000:>6.0f} ms{floor_s * 1000:>6.0f} ms"
            f"{ratios[label]:>13.2f}x{worker_s / floor_s:>13.2f}x   "
            f"({min(sides['ingest']) / min(sides['floor']):.2f}x, n={len(sides['floor'])})  {verdict}"
        )
        if verdict == "FAIL":
            log(f"FAIL        {label}: ingest / floor = {ratios[label]:.2f}x, target <= {TARGET_RATIO}x")
    return ratios


def report_breakdown(parts: dict[str, dict]) -> None:
    for label, figures in parts.items():
        steps = figures["steps"]
        log(
            f"\nwhere the time goes, {label}: ingest {figures['ingest_ms']:.0f} ms, floor "
            f"{figures['floor_ms']:.0f} ms, difference {figures['ingest_ms'] - figures['floor_ms']:+.0f} ms "
            "(means of instrumented runs)"
        )
        log("  ingest (POST /api/v1/photos/ with the task run in-process)")
        top = 0.0
        for n, (name, _module, _attribute, parent) in enumerate(STEPS):
            log(f"    {'  ' if parent else ''}{steps[name]:7.1f} ms  {name}")
            if parent is None:
                top += steps[name]
            if parent is not None and (n + 1 == len(STEPS) or STEPS[n + 1][3] != parent):
                inner = sum(steps[child] for child, *_, of in STEPS if of == parent)
                log(f"      {steps[parent] - inner:7.1f} ms  rest of it")
        log(
            f"    {figures['ingest_ms'] - top:7.1f} ms  rest: WSGI, middleware, authentication, throttle, the "
            "serializers, permission checks, the photo's rows, commits, the response"
        )
        log(
            f"    (database queries in all: {figures['database_ms']:.1f} ms in {figures['queries']:.0f} "
            "queries, included above)"
        )
        log("  floor")
        for name, ms in figures["floor_steps"].items():
            log(f"    {ms:7.1f} ms  {name}")
        log(
            f"  for information: the photo's bytes written to a new file, kept as an original is "
            f"{figures['write_kept_ms']:.1f} ms; removed before the next {figures['write_dropped_ms']:.1f} ms"
        )


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="three rounds: a smoke run")
    parser.add_argument("--profile", action="store_true", help="print cProfile of the ingest even on a PASS")
    args, _others = parser.parse_known_args(argv)  # bench/run.py passes every benchmark the same arguments
    args.quick = args.quick or photo_env.quick_from_env()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    photo_env.stop_on_sigterm()
    plan = QUICK if args.quick else FULL
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="attest-bench-ingest-"))
    server_url = os.environ.get("ATTEST_BENCH_DATABASE_URL", "").strip()
    database_url = None
    try:
        if server_url:
            database_url = photo_env.create_postgres_database(server_url)
        photo_env.configure_environment(tmp, database_url=database_url)
        import django

        django.setup()
        from django.conf import settings
        from django.db import connections

        from bench import photo_images
        from cases.services import create_api_token
        from config.celery import app

        if not app.conf.task_always_eager:
            raise RuntimeError("the embedded default runs Celery eagerly; this run has a broker")
        photo_env.migrate()
        user, _case, items = photo_env.make_team(items=1)
        _token, token = create_api_token(actor=user, name="ingest bench", two_factor_verified=True)
        uploader = Uploader(token, items[0].pk)
        set_up = time.perf_counter()

        subjects = [
            Subject(
                f"{size}, orientation {orientation}",
                size,
                orientation,
                photo_images.camera_jpeg_variants(
                    dimensions, seed=1000 * (n + 1) + orientation, orientation=orientation
                ),
            )
            for n, (size, dimensions) in enumerate(photo_images.SIZES.items())
            for orientation in ORIENTATIONS
        ]
        for subject in subjects:
            subject.variants = itertools.chain([next(subject.variants)], subject.variants)  # encode now
        made = time.perf_counter()

        log("ingest      POST /api/v1/photos/ through config.wsgi.application, task in-process (Celery eager)")
        log("worker      the same upload, task held back, then services.process_photo in-process (no broker hop)")
        log("floor       sha256 + open + draft + load + resize 1600 + quarter turn + thumbnail 400 + pHash, in memory")
        log(f"database    {photo_env.describe_database()}; DEBUG={settings.DEBUG}{'; QUICK RUN' if args.quick else ''}")
        log(
            f"photos      camera-like JPEG q{photo_images.QUALITY}, EXIF with GPS, orientation {ORIENTATIONS}, "
            "a new original (own SHA-256) for every upload"
        )
        log(f"setup       migrate {set_up - began:.1f} s, encode {made - set_up:.1f} s")
        log(
            f"machine     {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start "
            "(other processes' work skews the figures)"
        )
        log(f"runs        {plan.rounds} rounds x {len(subjects)} photos, the three sides in turn, after a warm-up")

        times, rerun, kept_disturbed = measure(plan, uploader, subjects)
        for subject in subjects:
            sizes = subject.sizes_seen
            log(f"            {subject.label}: {min(sizes) / 1e6:.2f}-{max(sizes) / 1e6:.2f} MB a photo")
        ratios = report(times)
        log(
            f"            sets run again because this process got < {CLEAN_SHARE:.0%} of a CPU: {rerun}"
            + (f"; {kept_disturbed} kept after {RETRIES} tries" if kept_disturbed else "")
        )
        passed = all(ratio <= TARGET_RATIO for ratio in ratios.values())

        report_breakdown(breakdown(plan, uploader, subjects))
        if args.profile or not passed:
            log(cprofile_ingest(uploader, subjects[0], runs=3 if args.quick else 6, lines=30 if args.profile else 18))

        worst = max(ratios, key=ratios.get)
        log(
            f"result      {'PASS' if passed else 'FAIL'}: ingest / floor = "
            + ", ".join(f"{ratios[label]:.2f}x" for label in ratios)
            + f" (worst {ratios[worst]:.2f}x, {worst}); target <= {TARGET_RATIO}x; load average "
            + f"{os.getloadavg()[0]:.2f}; the bench took {time.perf_counter() - began:.0f} s"
        )
        connections.close_all()
        return 0
    finally:
        try:
            photo_env.close_and_drop(server_url, database_url)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
