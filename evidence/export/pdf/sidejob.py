"""The dossier's pictures that must be made, not just embedded: made by a child process beside the layout.

Child: python -m evidence.export.pdf.sidejob SPEC.json. See docs/modules.md#evidenceexportpdfsidejobpy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# False makes everything in this process, when first needed.
IN_CHILD_PROCESS = True
CHILD_TIMEOUT = 600
PIXEL_LIMIT_VARIABLE = "ATTEST_SIDEJOB_PIXEL_LIMIT"


def run(part: str, spec: Any) -> None:
    """Make one part of the side work: "crops" (in document order) or "charts"."""
    if part == "crops":
        from PIL import Image

        from evidence.export.pdf.images import CropGeometry, marking_crop

        # Markings on the same photo follow each other: its preview is decoded once for all of them.
        decoded: tuple[str, Image.Image | None] = ("", None)
        for crop in spec:
            geometry = CropGeometry(tuple(crop["box"]), tuple(crop["region"]), tuple(crop["size"]))
            try:
                if decoded[0] != crop["preview"]:
                    decoded = ("", None)
                    image = Image.open(crop["preview"])
                    image.load()  # reads the whole file and closes it
                    decoded = (crop["preview"], image if image.mode == "RGB" else image.convert("RGB"))
                marking_crop(decoded[1], geometry, Path(crop["out"]))
            except (OSError, ValueError, Image.DecompressionBombError):
                continue  # the writer finds no file and draws a grey box instead
    elif part == "charts":
        from evidence.export import charts

        charts.draw_charts(spec)
    else:
        raise ValueError(f"unknown part {part!r}")


class SideJob:
    """The side work (crops, then charts) in one child process from now on.

    wait() returns once it is done, making in this process whatever the child did not make.
    One child, not one per part: on two cores the layout keeps one and the child the other.
    """

    def __init__(self, parts: dict[str, Any], folder: Path) -> None:
        self.parts = {name: spec for name, spec in parts.items() if spec}
        self.process: subprocess.Popen | None = None
        self.done = not self.parts
        self.lock = threading.Lock()
        if self.done or not IN_CHILD_PROCESS or not sys.executable:
            return
        spec_path = folder / "sidejob.json"
        spec_path.write_text(json.dumps(self.parts, ensure_ascii=False), encoding="utf-8")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        env["MPLBACKEND"] = "Agg"
        from PIL import Image

        # The child has no Django settings: it takes this process's pixel limit (ATTEST_MAX_IMAGE_PIXELS).
        env[PIXEL_LIMIT_VARIABLE] = str(Image.MAX_IMAGE_PIXELS)
        try:
            # Our own interpreter running our own module on a file we wrote: no untrusted input.
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "evidence.export.pdf.sidejob", str(spec_path)],
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self.process = None

    def wait(self) -> None:
        with self.lock:
            if self.done:
                return
            succeeded = False
            if self.process is not None:
                try:
                    succeeded = self.process.wait(timeout=CHILD_TIMEOUT) == 0
                except subprocess.TimeoutExpired:
                    self.close()
            if not succeeded:
                for name, spec in self.parts.items():
                    run(name, spec)
            self.done = True

    def close(self) -> None:
        """Stop the child if it still runs (the dossier failed, or the child hung)."""
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m evidence.export.pdf.sidejob SPEC.json", file=sys.stderr)
        return 2
    if os.environ.get(PIXEL_LIMIT_VARIABLE, "").isdigit():
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = int(os.environ[PIXEL_LIMIT_VARIABLE])  # what set_pillow_pixel_limit sets
    for name, spec in json.loads(Path(args[0]).read_text(encoding="utf-8")).items():
        run(name, spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
