"""Dossier PDF benchmark: render_dossier on a generated case of 500 photos, against bare ReportLab.

    .venv/bin/python bench/bench_dossier.py [--quick] [--rounds N]

The case is generated once into a temporary folder and reused by every run: 500 preview JPEGs
(1600x1067, textured like a camera photo, quality 85, every one different) and one 400 px
thumbnail per exhibit; 100 exhibits of 5 photos each, about 400 custody rows, 300 incidents,
two markings (Hangul, Cyrillic) on every other exhibit, two attributions per exhibit, 40
sources and a manifest of every file. No database: the case is plain data (DossierData).

dossier  evidence.export.pdf.render.render_dossier: embedded DejaVu/Nanum fonts, script-aware text
         in every table, two matplotlib charts (made by its side-job child process beside the
         layout), each marking outlined on a clipped view of its embedded preview, outline,
         headers and footers with "page N of M", the streaming writer.
bare     a plain ReportLab SimpleDocTemplate with the same preview and thumbnail JPEGs (same
         files, same sizes, also passed through unchanged) and the same tables with the same rows,
         as plain Tables of strings in Helvetica: no script handling, no charts, no crops, no
         embedded fonts.

Each run is a fresh process (so that its peak memory is its own: VmHWM from /proc/self/status,
imports included; the side job's peak is added to the dossier's); the two alternate, order
swapped every round. Two figures: the median wall time, and the median CPU time (the dossier's
own plus its side job's). The side job runs on the second core, so wall time alone flatters the
dossier: on a machine busy with other work it grows with the total CPU time. Targets: dossier
wall time and CPU time each within 1.5x of bare, and the dossier's
peak RSS (with its side job) under 400 MB. A missed target prints FAIL and exits 0; an error
exits 1. --quick (or ATTEST_BENCH_QUICK=1): 50 photos, one round; a smoke run whose ratio is
dominated by fixed costs (fonts, matplotlib's import) and FAILs by design.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.5
TARGET_RSS_MB = 400
PREVIEW_SIZE = (1600, 1067)
THUMB_PX = 400
QUALITY = 85
PHOTOS_PER_EXHIBIT = 5
BASE_TEXTURES = 24  # distinct camera-like backgrounds; each photo adds its own shapes and label
CHILD_TIMEOUT = 600


@dataclass(frozen=True)
class Plan:
    photos: int
    rounds: int


FULL = Plan(photos=500, rounds=3)
QUICK = Plan(photos=50, rounds=1)


def log(message: str = "") -> None:
    print(message, flush=True)


# --- the generated case -----------------------------------------------------------------------


def generate_images(folder: Path, photos: int) -> tuple[int, int]:
    """Preview JPEGs (every one different) and one thumbnail per exhibit; returns (bytes, seconds)."""
    from PIL import Image, ImageDraw

    from bench.photo_images import camera_image

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    bases = [camera_image(*PREVIEW_SIZE, seed=7000 + n) for n in range(min(BASE_TEXTURES, photos))]
    total = 0
    for n in range(photos):
        rng = random.Random(n)
        image = bases[n % len(bases)].copy()
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = rng.randrange(PREVIEW_SIZE[0]), rng.randrange(PREVIEW_SIZE[1])
            size = rng.randrange(30, 260)
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            draw.rectangle((x, y, x + size, y + size // 2), fill=colour, outline=(0, 0, 0), width=3)
        draw.text((40, 40), f"EX-{n // PHOTOS_PER_EXHIBIT + 1:04d} photo {n % PHOTOS_PER_EXHIBIT + 1}", fill=(255,) * 3)
        path = folder / f"preview-{n:04d}.jpg"
        image.save(path, "JPEG", quality=QUALITY)
        total += path.stat().st_size
        if n % PHOTOS_PER_EXHIBIT == 0:
            image.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.LANCZOS)
            image.save(folder / f"thumb-{n // PHOTOS_PER_EXHIBIT:04d}.jpg", "JPEG", quality=QUALITY)
    return total, time.perf_counter() - started


def build_case(folder: Path, photos: int):
    """The DossierData of the generated case (deterministic: both sides build the same)."""
    import hashlib

    from evidence.export.pdf.data import (
        AttributionRow,
        CustodyRow,
        DossierData,
        Exhibit,
        IncidentRow,
        ManifestRow,
        MarkingRow,
        PhotoRow,
        SourceRow,
    )

    rng = random.Random(1718)
    start = datetime(2024, 1, 2, 5, 40, tzinfo=UTC)
    places = [
        ("Харків", "Kharkiv", 49.9935, 36.2304),
        ("Kupiansk", "Kharkiv", 49.7106, 37.6156),
        ("Kyiv", "Kyiv City", 50.4501, 30.5234),
        ("Запоріжжя", "Zaporizhzhia", 47.8388, 35.1396),
        ("Dnipro", "Dnipropetrovsk", 48.4647, 35.0462),
        ("Odesa", "Odesa", 46.4825, 30.7233),
    ]
    kinds = ["Launch", "Impact", "Debris found", "Interception"]
    outcomes = ["Impact", "Intercepted", "Failed in flight", "Unknown"]
    digest = lambda text: hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
    exhibits_count = max(1, photos // PHOTOS_PER_EXHIBIT)
    incidents = []
    for n in range(exhibits_count * 3):
        place, region, lat, lon = places[n % len(places)]
        incidents.append(
            IncidentRow(
                start + timedelta(hours=37 * n),
                kinds[n % 4],
                place,
                region,
                lat + rng.uniform(-0.2, 0.2),
                lon + rng.uniform(-0.2, 0.2),
                "KN-23 (Hwasong-11)",
                outcomes[n % 4],
                rng.randrange(4),
                rng.randrange(20),
            )
        )
    exhibits, manifest = [], []
    for e in range(exhibits_count):
        number = f"EX-{e + 1:04d}"
        photo_rows = []
        for k in range(PHOTOS_PER_EXHIBIT):
            index = e * PHOTOS_PER_EXHIBIT + k
            if index >= photos:
                break
            sha = digest(f"original-{index}")
            photo_rows.append(
                PhotoRow(
                    folder / f"preview-{index:04d}.jpg",
                    *PREVIEW_SIZE,
                    sha,
                    f"IMG_{index:04d}.JPG",
                    "Canon EOS 90D · EF-S18-135mm · 2024-01-02 05:40:11+02:00 · 49.99350 N 36.23040 E",
                )
            )
            manifest.append(ManifestRow(f"files/{sha[:2]}/{sha}/original.jpg", sha, 3_600_000 + index))
        custody = [
            CustodyRow(
                e * 6 + c + 1,
                start + timedelta(days=e, hours=c),
                ["Recovered", "Transfer", "Examined", "Transfer"][c % 4],
                "o.kovalenko",
                f"Handed over at Харків, вул. Сумська {c + 1}; seal UA-{e:04d} intact",
            )
            for c in range(3 + e % 3)
        ]
        markings = []
        if e % 2 == 0 and photo_rows:
            markings = [
                MarkingRow(
                    "주체112",
                    "Stencil",
                    "Juche year 112 = 2023",
                    "High",
                    "analyst",
                    photo_rows[0].preview_path,
                    (600, 400, 240, 120),
                ),
                MarkingRow(
                    "9M723 ЗАВ №5",  # noqa: RUF001 (Cyrillic on purpose)
                    "Stamp",
                    "Factory stamp",
                    "Medium",
                    None,
                    photo_rows[-1].preview_path,
                    (200, 700, 300, 90),
                ),
            ]
        attributions = [
            AttributionRow(
                "B2",
                "supports",
                "Component made by Analog Devices in 2023, after the 2022 controls",
                "UN Panel of Experts S/2024/215",
                f"para {80 + e % 9}",
            ),
            AttributionRow(
                "C3", "contradicts", "Debris attributed to a Russian Iskander-M", "Telegram channel", "post 1234"
            ),
        ]
        exhibits.append(
            Exhibit(
                number,
                f"Rocket motor fragment {e + 1}",
                "Physical debris",
                "Burnt casing, stencilled.",
                "In custody",
                "National Police, Kharkiv",
                None,
                "Analog Devices AD7541AKN, United States, made 2023-03 (month)" if e % 4 == 1 else None,
                folder / f"thumb-{e:04d}.jpg",
                custody,
                photo_rows,
                markings,
                attributions,
            )
        )
    sources = [
        SourceRow(
            f"Source document {s + 1}",
            "Report",
            "United Nations",
            date(2024, 3, 7),
            "ABCDEF"[s % 6],
            f"S/2024/{200 + s}",
            f"https://example.org/reports/{s + 1}",
            digest(f"source-{s}"),
            s % 9 == 8,
        )
        for s in range(40)
    ]
    manifest += [
        ManifestRow(f"sources/{source.archived_sha256}.pdf", source.archived_sha256, 250_000) for source in sources
    ]

    def by(values: list[str]) -> dict[str, int]:
        return {value: sum(1 for row in incidents if value in (row.kind, row.outcome, row.region)) for value in values}

    return DossierData(
        case_reference="PGO-2024-0001",
        case_title="KN-23 / Hwasong-11 strikes on Ukraine, 2024",
        case_status="Open",
        case_summary="North Korean Hwasong-11 missiles fired at Ukraine.",
        legal_basis=["UNSCR 1718 (2006), paragraph 8", "UNSCR 2270 (2016)"],
        opened_on=date(2024, 1, 2),
        generated_at=datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        generated_by="o.kovalenko",
        language="en",
        ledger_size=4321,
        ledger_head=digest("head"),
        checkpoint_signed_at="2024-05-01T09:59:00.000000Z",
        checkpoint_key="21fe31dfa154a261",
        checkpoint_signature="JtL9BxrR7dixslI2xCOlg2boiHf3VCO1vmWzRwf+ahU0J1z/glTPiwRGjQvGLIspk1tYP/tRUakEQ6ivootACg==",
        public_key_fingerprint="21fe31dfa154a261",
        statistics={
            "incidents": len(incidents),
            "killed": sum(row.killed for row in incidents),
            "wounded": sum(row.wounded for row in incidents),
            "launches": len(incidents) // 4,
            "launches_failed_in_flight": len(incidents) // 16,
            "failed_in_flight_share": 0.25,
            "launches_identified_by_debris": len(incidents) // 8,
            "launches_identified_by_trajectory_speed_or_launch_site": len(incidents) // 8,
            "by_kind": by(kinds),
            "by_outcome": by(outcomes),
            "by_region": by(sorted({place[1] for place in places})),
        },
        incidents=incidents,
        exhibits=exhibits,
        sources=sources,
        manifest=manifest,
        include_photos=True,
    )


# --- the two sides (each in its own process) ----------------------------------------------------


def render_dossier_side(data, out: Path) -> None:
    from evidence.export.pdf.render import render_dossier

    render_dossier(data, out)


def render_bare_side(data, out: Path) -> None:
    """Plain ReportLab: the same JPEGs at the same sizes, the same tables with the same rows, as strings."""
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    rl_config.useA85 = 0  # JPEGs passed through unchanged, as in the dossier
    sheet = getSampleStyleSheet()
    width = A4[0] - 36 * mm
    grid = [
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#B8C0CA"),
    ]

    def table(rows):
        result = Table(rows, repeatRows=1, hAlign="LEFT")
        result.setStyle(grid)
        return result

    def fit(w, h, max_w, max_h):
        scale = min(max_w / w, max_h / h)
        return w * scale, h * scale

    story = [Paragraph(data.case_reference, sheet["Title"]), Paragraph(data.case_title, sheet["Heading2"])]
    story.append(
        table(
            [
                ["Statistic", "Value"],
                *[[key, str(value)] for key, value in data.statistics.items() if not isinstance(value, dict)],
            ]
        )
    )
    story += [PageBreak(), Paragraph("Incidents", sheet["Heading1"])]
    story.append(
        table(
            [["Time", "Kind", "Place", "Coordinates", "Weapon", "Outcome", "Killed", "Wounded"]]
            + [
                [
                    row.occurred_at.strftime("%Y-%m-%d %H:%M"),
                    row.kind,
                    row.place,
                    f"{row.latitude:.4f}, {row.longitude:.4f}",
                    row.weapon,
                    row.outcome,
                    str(row.killed),
                    str(row.wounded),
                ]
                for row in data.incidents
            ]
        )
    )
    story += [PageBreak(), Paragraph("Exhibits", sheet["Heading1"])]
    story.append(
        table(
            [["Image", "Exhibit", "Title", "Kind", "Status", "Custodian"]]
            + [
                [
                    Image(str(ex.thumbnail_path), *fit(400, 267, 15 * mm, 15 * mm)),
                    ex.number,
                    ex.title,
                    ex.kind,
                    ex.status,
                    ex.custodian,
                ]
                for ex in data.exhibits
            ]
        )
    )
    for ex in data.exhibits:
        story += [PageBreak(), Paragraph(f"Exhibit {ex.number}", sheet["Heading1"])]
        story.append(table([["Kind", ex.kind], ["Status", ex.status], ["Custodian", ex.custodian]]))
        story.append(
            table(
                [["No.", "Time", "Event", "By", "Details"]]
                + [
                    [f"#{row.sequence}", row.occurred_at.strftime("%Y-%m-%d %H:%M"), row.event, row.actor, row.details]
                    for row in ex.custody
                ]
            )
        )
        for n, photo in enumerate(ex.photos, start=1):
            image = Image(str(photo.preview_path), *fit(photo.preview_width, photo.preview_height, width, 98 * mm))
            caption = table(
                [
                    [f"{ex.number} photo {n} of {len(ex.photos)} {photo.original_name}"],
                    [f"SHA-256 {photo.sha256}"],
                    [photo.exif_summary],
                ]
            )
            story.append(KeepTogether([Spacer(1, 3 * mm), image, caption]))
        if ex.markings:
            story.append(
                table(
                    [["Transcription", "Type", "Confidence", "Interpretation"]]
                    + [[m.transcription, m.marking_type, m.confidence, m.interpretation] for m in ex.markings]
                )
            )
        story.append(
            table(
                [["Grade", "Stance", "Claim", "Source"]]
                + [[a.grade, a.stance, a.claim, a.source_title] for a in ex.attributions]
            )
        )
    story += [PageBreak(), Paragraph("Sources", sheet["Heading1"])]
    story.append(
        table(
            [["Grade", "Title", "Publisher", "Reference", "Archived SHA-256"]]
            + [
                [s.reliability, s.title, s.publisher, s.document_reference, s.archived_sha256 or ""]
                for s in data.sources
            ]
        )
    )
    story += [PageBreak(), Paragraph("Manifest", sheet["Heading1"])]
    story.append(table([["File", "SHA-256", "Bytes"]] + [[m.path[:48], m.sha256, str(m.size)] for m in data.manifest]))

    def footer(canvas, doc):
        canvas.setFont("Helvetica", 7)
        canvas.drawString(18 * mm, 10 * mm, f"{data.case_reference}  page {doc.page}")

    doc = SimpleDocTemplate(str(out), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(side: str, folder: Path, photos: int, out: Path) -> int:
    data = build_case(folder, photos)
    started = time.perf_counter()
    cpu = time.process_time()
    (render_dossier_side if side == "dossier" else render_bare_side)(data, out)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    rss = peak_rss_mb()  # before pypdf, which reads the whole file into memory to count the pages
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the dossier's side job (charts, crops)
    from pypdf import PdfReader

    pages = len(PdfReader(out).pages)
    print(
        json.dumps(
            {
                "side": side,
                "seconds": seconds,
                "cpu": cpu,
                "side_cpu": children.ru_utime + children.ru_stime,
                "side_rss_mb": children.ru_maxrss / 1024,
                "rss_mb": rss,
                "bytes": out.stat().st_size,
                "pages": pages,
            }
        )
    )
    return 0


# --- the parent -----------------------------------------------------------------------------------


def run_side(side: str, folder: Path, photos: int) -> dict:
    out = folder / f"{side}.pdf"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        side,
        "--dir",
        str(folder),
        "--photos",
        str(photos),
        "--out",
        str(out),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{side} run failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 photos, one round: a smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of both sides (default 3, quick 1)")
    parser.add_argument("--child", choices=("dossier", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--photos", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.quick = args.quick or os.environ.get("ATTEST_BENCH_QUICK", "").strip().lower() in ("1", "true", "yes")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args.child, args.dir, args.photos, args.out)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    plan = QUICK if args.quick else FULL
    rounds = args.rounds or plan.rounds
    began = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="attest-bench-dossier-"))
    try:
        total, seconds = generate_images(folder, plan.photos)
        exhibits = max(1, plan.photos // PHOTOS_PER_EXHIBIT)
        log(
            f"case        {plan.photos} photos ({PREVIEW_SIZE[0]}x{PREVIEW_SIZE[1]} JPEG q{QUALITY}, "
            f"{total / plan.photos / 1024:.0f} KiB each, {total / 2**20:.0f} MiB in all), {exhibits} exhibits, "
            f"{exhibits * 3} incidents; generated in {seconds:.0f} s{'; QUICK RUN' if args.quick else ''}"
        )
        runs: dict[str, list[dict]] = {"dossier": [], "bare": []}
        for round_number in range(rounds):
            order = ("dossier", "bare") if round_number % 2 == 0 else ("bare", "dossier")
            for side in order:
                figures = run_side(side, folder, plan.photos)
                runs[side].append(figures)
                log(
                    f"round {round_number + 1}     {side:<8}{figures['seconds']:>7.2f} s  (cpu {figures['cpu']:.2f} s"
                    f" + side job {figures['side_cpu']:.2f} s)"
                    f"  peak RSS {figures['rss_mb']:>5.0f} MB  {figures['pages']} pages, "
                    f"{figures['bytes'] / 2**20:.0f} MiB"
                )
        previews = sorted(folder.glob("preview-*.jpg"))
        pdf = (folder / "dossier.pdf").read_bytes()
        unchanged = all(previews[n].read_bytes() in pdf for n in (0, len(previews) // 2, len(previews) - 1))
        del pdf
        dossier = statistics.median(run["seconds"] for run in runs["dossier"])
        bare = statistics.median(run["seconds"] for run in runs["bare"])
        # The dossier's memory: its own peak plus its side job's (both run at once, so the sum bounds it).
        dossier_main_rss = max(run["rss_mb"] for run in runs["dossier"])
        side_rss = max(run["side_rss_mb"] for run in runs["dossier"])
        dossier_rss = dossier_main_rss + side_rss
        bare_rss = max(run["rss_mb"] for run in runs["bare"])
        dossier_cpu = statistics.median(run["cpu"] for run in runs["dossier"])
        side_cpu = statistics.median(run["side_cpu"] for run in runs["dossier"])
        total_cpu = statistics.median(run["cpu"] + run["side_cpu"] for run in runs["dossier"])
        bare_cpu = statistics.median(run["cpu"] for run in runs["bare"])
        ratio, cpu_ratio = dossier / bare, total_cpu / bare_cpu
        # Both: wall time flatters the dossier while its side job has a core of its own; CPU time does not.
        time_ok = ratio <= TARGET_RATIO and cpu_ratio <= TARGET_RATIO
        rss_ok = dossier_rss <= TARGET_RSS_MB
        log(
            f"wall time   dossier {dossier:.2f} s, bare {bare:.2f} s: {ratio:.2f}x "
            f"(target <= {TARGET_RATIO}x)  {'PASS' if ratio <= TARGET_RATIO else 'FAIL'}"
        )
        log(
            f"cpu time    dossier {dossier_cpu:.2f} s + side job {side_cpu:.2f} s (charts, in a child process beside "
            f"the layout) = {total_cpu:.2f} s, bare {bare_cpu:.2f} s: {cpu_ratio:.2f}x "
            f"(target <= {TARGET_RATIO}x)  {'PASS' if cpu_ratio <= TARGET_RATIO else 'FAIL'}"
        )
        log(f"per photo   dossier {dossier / plan.photos * 1000:.1f} ms, bare {bare / plan.photos * 1000:.1f} ms")
        log(
            f"peak RSS    dossier {dossier_main_rss:.0f} MB + side job {side_rss:.0f} MB = {dossier_rss:.0f} MB "
            f"(target <= {TARGET_RSS_MB} MB)  {'PASS' if rss_ok else 'FAIL'}; bare {bare_rss:.0f} MB (for information)"
        )
        log(f"previews    embedded byte for byte in the dossier: {'yes' if unchanged else 'NO'}")
        verdict = "PASS" if time_ok and rss_ok and unchanged else "FAIL"
        log(
            f"result      {verdict}: dossier / bare = {ratio:.2f}x by wall time, {cpu_ratio:.2f}x by CPU time "
            f"(target <= {TARGET_RATIO}x each), dossier peak RSS "
            f"{dossier_rss:.0f} MB (target <= {TARGET_RSS_MB} MB), {plan.photos} photos, {rounds} round(s); "
            f"load average {os.getloadavg()[0]:.2f}; the bench took {time.perf_counter() - began:.0f} s"
        )
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
