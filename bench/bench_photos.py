"""Photo pipeline benchmark: per-photo time of the worker's pipeline against a bare Pillow floor.

    DEBUG=1 .venv/bin/python bench/bench_photos.py [--quick] [--profile]

The photos are camera-like JPEGs generated once per run (bench/photo_images.py): 4000x3000
(12 MP) and 6000x4000 (24 MP), textured, quality 92, with make, model, lens, DateTimeOriginal,
GPS and orientation in their EXIF. Each is added through services.add_photo_from_path (vetted,
hashed, stored, photo.added in the ledger) with its processing task not queued.

pipeline  services.process_photo(photo_id=...) in this process, on a photo put back to pending
          before each run (outside the timing): what a Celery worker does per photo, minus the
          broker. The database connection is closed after each run, as Celery's Django fix-up
          does after each task, so the reconnect counts as it does in a worker.
floor     a bare loop with Pillow and imagehash directly on the same stored file: SHA-256 of the
          file, Image.open, draft("RGB", preview size), load, resize to 1600 px (LANCZOS), a
          400 px thumbnail of that, and its pHash; no EXIF, no encoding, no database, no files.

Both resize with the pipeline's filter and reducing gap, so the pHash of the floor must equal
the pHash the pipeline records (checked). The two alternate photo by photo, order swapped every
time, after a warm-up; the figure is the median per photo. Target: pipeline / floor <= 1.3 at
both sizes. Then a breakdown times each step of the pipeline inside services.process_photo (by
wrapping the functions it calls) and the floor's steps, and measures the alternatives the
recommendations rest on; with --profile, or on a FAIL, cProfile of the pipeline follows.

The database is a SQLite file in a temporary folder, or with ATTEST_BENCH_DATABASE_URL (e.g.
postgres://postgres@127.0.0.1:5432/postgres) a database attest_bench_<pid> created on that
server and dropped at the end. MEDIA_ROOT and VAR_DIR are temporary folders, removed at the end.
--quick (or ATTEST_BENCH_QUICK=1): one photo per size, three rounds. A missed target prints FAIL
and exits 0; an error exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import gc
import hashlib
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import photo_env
from bench.photo_env import log

TARGET_RATIO = 1.3
CLEAN_SHARE = 0.85  # CPU time / wall time of a run below this: the machine was busy elsewhere
RETRIES = 3
PREVIEW_PX = 1600  # make_derivatives' defaults
THUMB_PX = 400


@dataclass(frozen=True)
class Plan:
    photos_per_size: int
    rounds: int
    breakdown_runs: int  # instrumented pipeline runs per size


FULL = Plan(photos_per_size=3, rounds=8, breakdown_runs=6)
QUICK = Plan(photos_per_size=1, rounds=3, breakdown_runs=2)


# --- the floor ------------------------------------------------------------------------------


def _fit(size: tuple[int, int], limit: int) -> tuple[int, int]:
    width, height = size
    if max(width, height) <= limit:
        return width, height
    scale = limit / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def floor(path: Path, laps: dict[str, float] | None = None) -> str:
    """The bare minimum per photo, with Pillow and imagehash directly; returns the pHash."""
    import imagehash
    from PIL import Image

    started = time.perf_counter()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    digest.hexdigest()
    hashed = time.perf_counter()
    with Image.open(path) as im:
        target = _fit(im.size, PREVIEW_PX)
        im.draft("RGB", target)
        im.load()
        decoded = time.perf_counter()
        preview = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0) if im.size != target else im.copy()
    resized = time.perf_counter()
    thumb = preview.resize(_fit(preview.size, THUMB_PX), Image.Resampling.LANCZOS, reducing_gap=2.0)
    thumbed = time.perf_counter()
    phash = str(imagehash.phash(thumb, hash_size=8))
    if laps is not None:
        finished = time.perf_counter()
        for name, seconds in (
            ("sha256 of the file", hashed - started),
            ("open + draft + load (decode)", decoded - hashed),
            ("resize to 1600 px", resized - decoded),
            ("thumbnail 400 px", thumbed - resized),
            ("pHash", finished - thumbed),
        ):
            laps[name] = laps.get(name, 0.0) + seconds
    return phash


# --- the pipeline ---------------------------------------------------------------------------


def reset(photo_id: int) -> None:
    """Back to pending, as a re-queued photo is; outside the timing."""
    from evidence.choices import PhotoStatus
    from evidence.models import Photo

    Photo.objects.filter(pk=photo_id).update(status=PhotoStatus.PENDING, error="")


def pipeline(photo_id: int) -> str:
    """services.process_photo as the task runs it; returns the recorded pHash."""
    from django.db import close_old_connections

    from evidence import services
    from evidence.choices import PhotoStatus

    photo = services.process_photo(photo_id=photo_id)
    close_old_connections()  # Celery's Django fix-up does this after every task (CONN_MAX_AGE=0)
    if photo.status != PhotoStatus.DONE:
        raise RuntimeError(f"photo {photo_id} ended {photo.status}: {photo.error}")
    return photo.phash


def timed(call, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = call(*args)
    return time.perf_counter() - started, result


# --- measurement ----------------------------------------------------------------------------


@dataclass
class Subject:
    label: str  # "12 MP"
    photo_id: int
    path: Path  # the stored original, which both read


def measure(plan: Plan, subjects: list[Subject]) -> tuple[dict[str, dict[str, list[float]]], int, int]:
    """Seconds per photo of pipeline and floor, alternating, after one warm-up of each per size.

    A pair during which this process got less than CLEAN_SHARE of a CPU (other processes had it)
    is run again, up to RETRIES times. Returns the times, the pairs re-run, and those kept anyway.
    """
    warmed: set[str] = set()
    for subject in subjects:
        if subject.label not in warmed:
            reset(subject.photo_id)
            pipeline_hash = pipeline(subject.photo_id)
            floor_hash = floor(subject.path)
            if pipeline_hash != floor_hash:
                raise AssertionError(
                    f"{subject.path.name}: the floor's pHash {floor_hash} differs from the pipeline's "
                    f"{pipeline_hash}, so they do not do the same work"
                )
            warmed.add(subject.label)
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"pipeline": [], "floor": []})
    turn = rerun = kept_disturbed = 0
    gc.collect()
    for _round in range(plan.rounds):
        for subject in subjects:
            order = ("pipeline", "floor") if turn % 2 == 0 else ("floor", "pipeline")
            turn += 1
            for attempt in range(RETRIES + 1):
                reset(subject.photo_id)
                pair = {}
                for name in order:
                    call, argument = (pipeline, subject.photo_id) if name == "pipeline" else (floor, subject.path)
                    wall, cpu = time.perf_counter(), time.process_time()
                    call(argument)
                    pair[name] = (time.perf_counter() - wall, time.process_time() - cpu)
                if all(cpu >= CLEAN_SHARE * wall for wall, cpu in pair.values()):
                    break
                if attempt == RETRIES:
                    kept_disturbed += 1
                else:
                    rerun += 1
            for name, (wall, _cpu) in pair.items():
                times[subject.label][name].append(wall)
    return times, rerun, kept_disturbed


# --- where the time goes --------------------------------------------------------------------


class Stopwatch:
    """Total time spent in each wrapped function, across calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, name: str, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return wrapper

    def database(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds["database queries"] += time.perf_counter() - started
            self.calls["database queries"] += 1


# (label, module, attribute, parent): the functions services.process_photo calls, by the names it
# looks them up with at call time, so wrapping the module attribute times the real calls.
DERIVE = "make_derivatives"
EVENT = "custody event (_photo_event: snapshot, hash, insert)"
STEPS = [
    ("claim_for_processing (select for update, save)", "evidence.services.photos", "claim_for_processing", None),
    ("read_metadata (EXIF parse and tag dump)", "evidence.services.photos", "read_metadata", None),
    (DERIVE, "evidence.services.photos", "make_derivatives", None),
    ("decode at draft scale (load)", "evidence.lib.imaging", "_decode", DERIVE),
    ("JPEG encode preview + thumbnail, q85, optimize=True", "evidence.lib.imaging", "_jpeg_bytes", DERIVE),
    ("pHash", "imagehash", "phash", DERIVE),
    ("dHash", "imagehash", "dhash", DERIVE),
    ("write_derivative (preview, thumbnail)", "evidence.filestore", "write_derivative", None),
    (EVENT, "evidence.services.photos", "_photo_event", None),
    ("append_event (case lock, last event, hash, insert)", "evidence.custody", "append_event", EVENT),
    ("close_old_connections (after the task, as Celery does)", "django.db", "close_old_connections", None),
]


def breakdown(plan: Plan, subjects: list[Subject]) -> dict[str, dict]:
    """Per size: mean ms of each pipeline step (instrumented runs) and of each floor step."""
    import importlib

    from django.db import connection

    results = {}
    for label in dict.fromkeys(subject.label for subject in subjects):
        chosen = [subject for subject in subjects if subject.label == label]
        watch = Stopwatch()
        total = 0.0
        with contextlib.ExitStack() as stack:
            for name, module_name, attribute, _depth in STEPS:
                module = importlib.import_module(module_name)
                stack.enter_context(mock.patch.object(module, attribute, watch.wrap(name, getattr(module, attribute))))
            for n in range(plan.breakdown_runs):
                subject = chosen[n % len(chosen)]
                reset(subject.photo_id)
                with connection.execute_wrapper(watch.database):
                    seconds, _hash = timed(pipeline, subject.photo_id)
                total += seconds
        runs = plan.breakdown_runs
        floor_laps: dict[str, float] = {}
        floor_total = 0.0
        for n in range(runs):
            seconds, _hash = timed(floor, chosen[n % len(chosen)].path, floor_laps)
            floor_total += seconds
        results[label] = {
            "pipeline_ms": total / runs * 1000,
            "steps": {name: watch.seconds[name] / runs * 1000 for name, *_ in STEPS},
            "database_ms": watch.seconds["database queries"] / runs * 1000,
            "queries": watch.calls["database queries"] / runs,
            "floor_ms": floor_total / runs * 1000,
            "floor_steps": {name: seconds / runs * 1000 for name, seconds in floor_laps.items()},
        }
    return results


def alternatives(subject: Subject, repeats: int = 7) -> dict[str, float]:
    """Costs the recommendations rest on, on one photo: encoding options and the EXIF read."""
    from PIL import Image

    from evidence.lib.exif import read_metadata

    with Image.open(subject.path) as im:
        target = _fit(im.size, PREVIEW_PX)
        im.draft("RGB", target)
        im.load()
        preview = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    thumb = preview.resize(_fit(preview.size, THUMB_PX), Image.Resampling.LANCZOS, reducing_gap=2.0)

    def encode(image, **options):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85, **options)
        return out.getvalue()

    def best(call) -> tuple[float, object]:
        runs = [timed(call) for _ in range(repeats)]
        return statistics.median(seconds for seconds, _ in runs) * 1000, runs[0][1]

    figures: dict[str, float] = {}
    for label, options in (("optimize", {"optimize": True}), ("plain", {})):
        ms, data = best(lambda options=options: encode(preview, **options))
        figures[f"preview_{label}_ms"], figures[f"preview_{label}_bytes"] = ms, len(data)
        ms, data = best(lambda options=options: encode(thumb, **options))
        figures[f"thumb_{label}_ms"], figures[f"thumb_{label}_bytes"] = ms, len(data)

    def bare_exif():
        with Image.open(subject.path) as im:
            exif = im.getexif()
            exif.get_ifd(0x8769)
            exif.get_ifd(0x8825)

    figures["exif_read_metadata_ms"], _ = best(lambda: read_metadata(subject.path))
    figures["exif_bare_ms"], _ = best(bare_exif)
    return figures


def cprofile_pipeline(subjects: list[Subject], runs: int, lines: int) -> str:
    profiler = cProfile.Profile()
    for n in range(runs):
        subject = subjects[n % len(subjects)]
        reset(subject.photo_id)
        profiler.enable()
        pipeline(subject.photo_id)
        profiler.disable()
    out = io.StringIO()
    out.write(f"\n--- cProfile of the pipeline, {runs} photos ({subjects[0].label}), by own time ---\n")
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(lines)
    out.write("\n--- the same, by cumulative time ---\n")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


# --- report ---------------------------------------------------------------------------------


def report(times: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    ratios = {}
    log(
        f"{'size':<7}{'pipeline median':>17}{'floor median':>15}{'ratio':>8}   "
        "(fastest pipeline / floor and their ratio, n per side)"
    )
    for label, sides in times.items():
        pipe, base = statistics.median(sides["pipeline"]), statistics.median(sides["floor"])
        ratios[label] = pipe / base
        verdict = "PASS" if ratios[label] <= TARGET_RATIO else "FAIL"
        log(
            f"{label:<7}{pipe * 1000:>14.0f} ms{base * 1000:>12.0f} ms{ratios[label]:>7.2f}x   "
            f"({min(sides['pipeline']) * 1000:.0f} / {min(sides['floor']) * 1000:.0f} ms = "
            f"{min(sides['pipeline']) / min(sides['floor']):.2f}x, "
            f"n={len(sides['pipeline'])})  {verdict}"
        )
    return ratios


def report_breakdown(parts: dict[str, dict]) -> None:
    for label, figures in parts.items():
        steps = figures["steps"]
        log(
            f"\nwhere the time goes, {label}: pipeline {figures['pipeline_ms']:.0f} ms, floor "
            f"{figures['floor_ms']:.0f} ms, difference {figures['pipeline_ms'] - figures['floor_ms']:+.0f} ms "
            f"(means of instrumented runs; the wrappers add a few microseconds)"
        )
        log("  pipeline (services.process_photo)")
        top = 0.0
        for n, (name, _module, _attribute, parent) in enumerate(STEPS):
            log(f"    {'  ' if parent else ''}{steps[name]:7.1f} ms  {name}")
            if parent is None:
                top += steps[name]
            if parent == DERIVE and (n + 1 == len(STEPS) or STEPS[n + 1][3] != DERIVE):
                inner = sum(steps[child] for child, *_, of in STEPS if of == DERIVE)
                log(f"      {steps[DERIVE] - inner:7.1f} ms  rest: open, draft, resizes, orientation, ICC check")
        log(
            f"    {figures['pipeline_ms'] - top:7.1f} ms  rest of process_photo: the result's select for update, "
            "save and commit, glue"
        )
        log(
            f"    (database queries in all: {figures['database_ms']:.1f} ms in {figures['queries']:.0f} "
            "queries, included above)"
        )
        log("  floor")
        for name, ms in figures["floor_steps"].items():
            log(f"    {ms:7.1f} ms  {name}")


def report_alternatives(label: str, figures: dict[str, float]) -> None:
    log(f"\nalternatives, one {label} photo (median of 7)")
    log(
        f"  preview 1600 px JPEG q85: optimize=True {figures['preview_optimize_ms']:.1f} ms, "
        f"{figures['preview_optimize_bytes'] / 1000:.0f} kB; without {figures['preview_plain_ms']:.1f} ms, "
        f"{figures['preview_plain_bytes'] / 1000:.0f} kB"
    )
    log(
        f"  thumbnail 400 px JPEG q85: optimize=True {figures['thumb_optimize_ms']:.1f} ms, "
        f"{figures['thumb_optimize_bytes'] / 1000:.1f} kB; without {figures['thumb_plain_ms']:.1f} ms, "
        f"{figures['thumb_plain_bytes'] / 1000:.1f} kB"
    )
    log(
        f"  EXIF: read_metadata {figures['exif_read_metadata_ms']:.1f} ms; bare open + getexif + "
        f"Exif/GPS IFDs {figures['exif_bare_ms']:.1f} ms"
    )


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one photo per size, three rounds: a smoke run")
    parser.add_argument("--profile", action="store_true", help="print cProfile of the pipeline even on a PASS")
    # bench/run.py passes its arguments to every benchmark: ignore those meant for another.
    args, _others = parser.parse_known_args(argv)
    args.quick = args.quick or photo_env.quick_from_env()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    photo_env.stop_on_sigterm()
    plan = QUICK if args.quick else FULL
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="attest-bench-photos-"))
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
        from evidence import filestore
        from evidence.models import Photo

        photo_env.migrate()
        user, _case, items = photo_env.make_team(items=1)
        set_up = time.perf_counter()

        subjects: list[Subject] = []
        generated: dict[str, list[Path]] = {}
        for n, (label, size) in enumerate(photo_images.SIZES.items()):
            prefix = label.replace(" ", "").lower()
            generated[label] = photo_images.write_camera_jpegs(
                tmp / "camera", size, plan.photos_per_size, seed=1000 * (n + 1), prefix=prefix
            )
        made = time.perf_counter()
        for label, paths in generated.items():
            for photo_id in photo_env.add_photos(user, items, paths):
                photo = Photo.objects.select_related("original").get(pk=photo_id)
                subjects.append(Subject(label, photo_id, filestore.absolute(photo.original.path)))
        added = time.perf_counter()
        # Interleave the sizes (12 MP, 24 MP, 12 MP, ...), so both see the same conditions through the run.
        subjects = [subject for n in range(plan.photos_per_size) for subject in subjects[n :: plan.photos_per_size]]

        log("pipeline    services.process_photo(photo_id=...) in-process, photo reset to pending before each")
        log("floor       sha256 + Image.open + draft + load + resize 1600 + thumbnail 400 + imagehash.phash")
        log(f"database    {photo_env.describe_database()}; DEBUG={settings.DEBUG}{'; QUICK RUN' if args.quick else ''}")
        for label, paths in generated.items():
            log(f"photos      {label}: {photo_images.describe(paths)}, EXIF with GPS, orientation 1")
        log(
            f"setup       migrate {set_up - began:.1f} s, generate {made - set_up:.1f} s, "
            f"add (vet + hash + store) {added - made:.1f} s"
        )
        log(
            f"machine     {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start "
            "(other processes' work skews the figures)"
        )
        log(f"runs        {plan.rounds} rounds x {plan.photos_per_size} photos per size, alternating, after a warm-up")

        times, rerun, kept_disturbed = measure(plan, subjects)
        ratios = report(times)
        log(
            f"            pairs run again because this process got < {CLEAN_SHARE:.0%} of a CPU: {rerun}"
            + (f"; {kept_disturbed} kept after {RETRIES} tries" if kept_disturbed else "")
        )
        passed = all(ratio <= TARGET_RATIO for ratio in ratios.values())

        parts = breakdown(plan, subjects)
        report_breakdown(parts)
        first: dict[str, Subject] = {}
        for subject in subjects:
            first.setdefault(subject.label, subject)
        for label, subject in first.items():
            report_alternatives(label, alternatives(subject))
        if args.profile or not passed:
            chosen = [subject for subject in subjects if subject.label == next(iter(first))]
            log(cprofile_pipeline(chosen, runs=4 if args.quick else 8, lines=30 if args.profile else 18))

        worst = max(ratios, key=ratios.get)
        verdict = "PASS" if passed else "FAIL"
        log(
            f"result      {verdict}: pipeline / floor = "
            + ", ".join(f"{ratios[label]:.2f}x at {label}" for label in ratios)
            + f" (worst {worst}); target <= {TARGET_RATIO}x; load average {os.getloadavg()[0]:.2f}; "
            + f"the bench took {time.perf_counter() - began:.0f} s"
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
