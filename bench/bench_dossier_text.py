"""Dossier long-text benchmark: the build time for 4N characters of free text against N, per place.

    .venv/bin/python bench/bench_dossier_text.py [--quick] [--rounds N]

Each free-text place of the dossier (the case summary; an exhibit's description; a custody row's
details; an attribution's claim; a marking's transcription) gets N, then 4N characters of numbered
words, all in DejaVu Sans ("latin") or with a Hangul syllable in every word ("hangul", which takes
ReportLab's Paragraph path). The figure is the ratio of the median render times: 4 is linear, 16
quadratic (what one long paragraph in a table cell used to cost). Target: at most 5. No database:
the case is plain data; charts and crops are made in-process. A missed target prints FAIL and exits 0.
--quick (or ATTEST_BENCH_QUICK=1): N = 5,000, one round.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evidence.export.pdf import sidejob  # noqa: E402
from evidence.export.pdf.data import (  # noqa: E402
    AttributionRow,
    CustodyRow,
    DossierData,
    Exhibit,
    MarkingRow,
)
from evidence.export.pdf.render import render_dossier  # noqa: E402

TARGET_RATIO = 5.0
PLACES = ("summary", "description", "custody", "claim", "transcription")


def words(length: int, hangul: bool) -> str:
    out, size, number = [], 0, 0
    while size < length:
        number += 1
        word = f"w{number:06d}" + ("주" if hangul else "") + ("\n\n" if number % 700 == 0 else " ")
        out.append(word)
        size += len(word)
    return "".join(out)[:length]


def case(place: str, text: str) -> DossierData:
    moment = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)

    def at(name: str, default: str) -> str:
        return text if place == name else default

    exhibit = Exhibit(
        number="EX-0001",
        title="Rocket motor casing",
        kind="Physical debris",
        description=at("description", "Burnt casing."),
        status="In custody",
        custodian="National Police",
        custody=[CustodyRow(1, moment, "Examined", "lab", at("custody", "Markings photographed."))],
        markings=[MarkingRow(at("transcription", "AD7541AKN"), "Stencil", "", "High")],
        attributions=[AttributionRow("B2", "supports", at("claim", "A Hwasong-11."), "UN Panel", "para 84")],
    )
    return DossierData(
        case_reference="PGO-2024-0001",
        case_title="Long text",
        case_status="Open",
        case_summary=at("summary", "Launches at Ukraine."),
        legal_basis=[],
        opened_on=None,
        generated_at=moment,
        generated_by="bench",
        language="en",
        ledger_size=1,
        ledger_head="0" * 64,
        checkpoint_signed_at="2024-01-02T09:00:00Z",
        checkpoint_key="k",
        checkpoint_signature="s",
        public_key_fingerprint="f",
        exhibits=[exhibit],
    )


def render_seconds(data: DossierData) -> float:
    started = time.perf_counter()
    render_dossier(data, io.BytesIO())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("ATTEST_BENCH_QUICK") == "1")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    size = 5_000 if args.quick else 20_000
    rounds = args.rounds or (1 if args.quick else 3)
    sidejob.IN_CHILD_PROCESS = False  # nothing to draw beside the layout here
    render_seconds(case("summary", "warm-up"))  # fonts parsed, modules imported
    worst = 0.0
    print(f"{'place':<14} {'script':<7} {size:>8,} ch  {4 * size:>8,} ch   ratio (4 = linear)", flush=True)
    for place in PLACES:
        for hangul in (False, True):
            times = {}
            for length in (size, 4 * size):
                data = case(place, words(length, hangul))
                times[length] = statistics.median(render_seconds(data) for _ in range(rounds))
            ratio = times[4 * size] / times[size]
            worst = max(worst, ratio)
            script = "hangul" if hangul else "latin"
            print(
                f"{place:<14} {script:<7} {times[size]:>9.2f} s  {times[4 * size]:>9.2f} s   {ratio:5.1f}",
                flush=True,
            )
    verdict = "ok" if worst <= TARGET_RATIO else "FAIL"
    print(f"worst ratio {worst:.1f} (target <= {TARGET_RATIO:g}): {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
