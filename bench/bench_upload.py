"""Upload memory benchmark: peak RSS of the gunicorn worker during a 2 GB photo upload.

    DEBUG=1 .venv/bin/python bench/bench_upload.py [--quick]

The app runs under `gunicorn config.wsgi --workers 1 --worker-class sync --timeout 600` on a
free loopback port, with its own SQLite database (migrated first) and MEDIA_ROOT in a temporary
folder, no broker (the photo task runs in-process after commit, as `make run` does without one).
An investigator on a case with one evidence item uploads with an API token. A second process
(bench/upload_client.py) streams a multipart POST /api/v1/photos/ whose file part is
2,000,000,000 bytes, sent a MiB at a time with a precomputed Content-Length, never held in memory.
A 2 GB photo cannot be a real image within the pixel limit, so the file is a small valid
camera JPEG followed by 2 GB of appended bytes, in two variants, one after the other:

refused   followed by unknown data: the upload streams to disk while hashed, is vetted and
          refused as a polyglot (400), which the server can only say after reading every byte.
accepted  followed by a second JPEG stream (FF D8 FF ...), as phones append depth maps and
          previews: vetted and accepted (201), stored by a hard link, then processed in-process.

This process samples the worker's VmRSS (/proc/<pid>/status; the worker is the gunicorn master's
child) every 50 ms while each upload runs. Before each, the worker's peak is reset (writing 5
to /proc/<pid>/clear_refs), so VmHWM read after it is the true peak of that upload, samples or
not. The baseline is the worker's VmRSS after a warm-up upload of an ordinary photo. Target: the
peak grows less than 20 MB over that baseline (MB = 10^6 bytes here, as for throughput): the
worker's resting memory (about 150 MB: Django, DRF, Pillow) is not the upload's, and a target on
the absolute peak passed or failed on it. Also reported: the absolute peak, the upload rate, and
whether the temporary upload files were removed.

Needs twice the upload size plus 1 GiB free where the temporary folder lives (ATTEST_BENCH_TMPDIR,
else the system's temp folder); otherwise prints SKIPPED. Everything is removed at the end.
--quick (or ATTEST_BENCH_QUICK=1): 200 MB. A missed target prints FAIL and exits 0; an error exits 1.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import photo_env
from bench.photo_env import LOOPBACK, log

TARGET_GROWTH_BYTES = 20_000_000  # over the warm worker's own VmRSS
FULL_SIZE = 2_000_000_000
QUICK_SIZE = 200_000_000
SAMPLE_SECONDS = 0.05
MB = 1_000_000
API_PATH = "/api/v1/photos/"
PEAK_SCOPE = {True: " since a reset before the upload", False: ", whole process life: the reset was refused"}
VARIANTS = {
    # name: (bytes between the JPEG and the filler, expected status)
    "refused": (b"BENCH TRAILER\x01", 400),
    "accepted": (b"\xff\xd8\xff\xe0", 201),
}


@dataclass
class Upload:
    variant: str
    status: int | None
    body: str
    sent: int
    content_length: int
    error: str | None
    seconds_sending: float
    seconds_total: float
    peak_hwm: int  # bytes, VmHWM after the upload (peak since the reset before it)
    hwm_reset: bool
    rss_before: int
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, VmRSS bytes)
    started: float = 0.0
    all_sent: float = 0.0
    client_rss: int = 0
    leftovers: list[str] = field(default_factory=list)


# --- /proc --------------------------------------------------------------------------------------


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024
    return found


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux 4.0+, our own processes)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    figures = memory(pid)
    return figures["VmHWM"] <= figures["VmRSS"] + 4 * 1024 * 1024


# --- the server ---------------------------------------------------------------------------------


def start_gunicorn(port: int, tmp: Path):
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "1", "--worker-class", "sync",
        "--timeout", "600", "--bind", f"{LOOPBACK}:{port}", "--log-level", "warning", "--chdir",
        str(photo_env.ROOT),
    ]  # fmt: skip
    log_path = tmp / "gunicorn.log"
    return photo_env.start_process(command, env=dict(os.environ), log_path=log_path), log_path


wait_until_serving = photo_env.wait_until_serving


def small_upload(port: int, token: str, item_id: int, data: bytes) -> tuple[int, dict]:
    """An ordinary photo, built in memory (it is small): warms the worker up."""
    boundary = f"attest-bench-{secrets.token_hex(12)}"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="item"\r\n\r\n{item_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="warm-up.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=120)
    try:
        connection.request(
            "POST",
            API_PATH,
            body=body,
            headers={
                "Authorization": f"Token {token}",
                "Accept": "application/json",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


# --- the upload ---------------------------------------------------------------------------------


def filler_block(seed: int) -> bytes:
    """1 MiB of random bytes that, repeated, hold no document markup and no ZIP directory."""
    from evidence.lib.sniff import find_active_content

    for attempt in range(100):
        block = random.Random(seed + attempt).randbytes(1 << 20)
        wrapped = block + block[:4096]  # where one copy meets the next
        if find_active_content(wrapped) is None and b"PK\x05\x06" not in wrapped and b"attest-bench" not in block:
            return block
    raise RuntimeError("no clean filler block in 100 tries")


def run_upload(
    variant: str, *, size: int, port: int, token: str, item_id: int, worker: int, files: dict[str, Path], tmp: Path
) -> Upload:
    prefix, _expected = VARIANTS[variant]
    hwm_reset = reset_peak(worker)
    rss_before = memory(worker)["VmRSS"]
    command = [
        sys.executable, str(Path(__file__).resolve().parent / "upload_client.py"), "--host", LOOPBACK,
        "--port", str(port), "--item", str(item_id), "--size", str(size), "--head", str(files["head"]),
        "--filler", str(files["filler"]), "--trailer-prefix", prefix.hex(), "--filename", f"{variant}.jpg",
    ]  # fmt: skip
    out_path = tmp / f"client-{variant}.json"
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + 120 + size / (5 * MB)  # at least 5 MB/s, or give up
    with out_path.open("wb") as out:
        client = subprocess.Popen(
            command, cwd=photo_env.ROOT, env={**os.environ, "ATTEST_UPLOAD_TOKEN": token}, stdout=out
        )
        try:
            while client.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the {variant} upload did not finish in time")
                try:
                    samples.append((time.monotonic(), memory(worker)["VmRSS"]))
                except (OSError, KeyError):
                    raise RuntimeError("the gunicorn worker went away during the upload") from None
                time.sleep(SAMPLE_SECONDS)
        finally:
            if client.poll() is None:
                client.terminate()
                try:
                    client.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    client.kill()
                    client.wait()
    peak = memory(worker)["VmHWM"]
    if client.returncode != 0:
        raise RuntimeError(f"the upload client failed ({client.returncode}): {out_path.read_text()[-2000:]}")
    result = json.loads(out_path.read_text())
    return Upload(
        variant=variant,
        status=result["status"],
        body=result["body"],
        sent=result["sent"],
        content_length=result["content_length"],
        error=result["error"],
        seconds_sending=result["all_sent"] - result["started"],
        seconds_total=result["finished"] - result["started"],
        peak_hwm=peak,
        hwm_reset=hwm_reset,
        rss_before=rss_before,
        samples=samples,
        started=result["started"],
        all_sent=result["all_sent"],
        client_rss=result["client_peak_rss"],
    )


def leftover_uploads(media_root: Path, wait: float = 5.0) -> list[str]:
    """Temporary upload files still in MEDIA_ROOT/incoming (the request closes them as it ends)."""
    incoming = media_root / "incoming"
    deadline = time.monotonic() + wait
    while True:
        names = sorted(path.name for path in incoming.iterdir()) if incoming.exists() else []
        if not names or time.monotonic() > deadline:
            return names
        time.sleep(0.1)


def check(upload: Upload, size: int) -> str:
    """What the server said, checked against what the variant must get."""
    _prefix, expected = VARIANTS[upload.variant]
    if upload.sent != upload.content_length or upload.error:
        return f"the body was not fully sent ({upload.sent:,} of {upload.content_length:,} bytes): {upload.error}"
    if upload.status != expected:
        return f"expected {expected}, got {upload.status}: {upload.body[:300]}"
    if expected == 201:
        stored = json.loads(upload.body).get("size")
        if stored != size:
            return f"the stored original has {stored} bytes, not {size}"
        return f"201, stored ({stored:,} bytes), processed: status {json.loads(upload.body).get('status')}"
    trailing = re.search(r"(\d+) bytes of unknown data", upload.body)
    if trailing is None:
        return f"400 for another reason than the trailing data: {upload.body[:300]}"
    return f"400 after the whole body: {int(trailing[1]):,} bytes of unknown data follow the image (polyglot)"


def report(upload: Upload, size: int, baseline: int) -> bool:
    sending = [rss for moment, rss in upload.samples if upload.started <= moment <= upload.all_sent]
    after = [rss for moment, rss in upload.samples if moment > upload.all_sent]
    passed = upload.peak_hwm - baseline < TARGET_GROWTH_BYTES
    log(f"{upload.variant:<9} {check(upload, size)}")
    log(
        f"  memory  {(upload.peak_hwm - baseline) / MB:+.1f} MB over the baseline "
        f"(target < +{TARGET_GROWTH_BYTES / MB:.0f} MB)   {'PASS' if passed else 'FAIL'}; "
        f"peak {upload.peak_hwm / MB:.1f} MB (VmHWM{PEAK_SCOPE[upload.hwm_reset]})"
    )
    log(
        f"          sampled every {SAMPLE_SECONDS * 1000:.0f} ms ({len(upload.samples)} samples): "
        f"max {max(sending, default=0) / MB:.1f} MB while the body streamed in, "
        f"max {max(after, default=0) / MB:.1f} MB after the last byte (vetting, storing, processing)"
    )
    log(
        f"  rate    {size / MB / upload.seconds_sending:6.1f} MB/s while sending ({upload.seconds_sending:.1f} s); "
        f"{size / MB / upload.seconds_total:.1f} MB/s to the response ({upload.seconds_total:.1f} s; "
        f"{upload.seconds_total - upload.seconds_sending:.1f} s after the last byte)"
    )
    log(
        f"  client  peak RSS {upload.client_rss / MB:.0f} MB (streamed); temporary upload files left: "
        f"{', '.join(upload.leftovers) if upload.leftovers else 'none'}"
    )
    return passed


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE // MB} MB instead of {FULL_SIZE // MB} MB")
    parser.add_argument("--variant", choices=sorted(VARIANTS), action="append", help="only this one (repeatable)")
    # bench/run.py passes its arguments to every benchmark: ignore those meant for another.
    args, _others = parser.parse_known_args(argv)
    args.quick = args.quick or photo_env.quick_from_env()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    photo_env.stop_on_sigterm()
    size = QUICK_SIZE if args.quick else FULL_SIZE
    variants = args.variant or list(VARIANTS)
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="attest-bench-upload-", dir=os.environ.get("ATTEST_BENCH_TMPDIR") or None))
    gunicorn = None
    try:
        need = 2 * size + (1 << 30)
        free = shutil.disk_usage(tmp).free
        if free < need:
            log(f"SKIPPED: {free / 1e9:.1f} GB free in {tmp.parent}, {need / 1e9:.1f} GB needed (ATTEST_BENCH_TMPDIR)")
            return 0
        photo_env.configure_environment(tmp)
        import django

        django.setup()
        from django.conf import settings
        from django.db import connections

        from bench import photo_images
        from cases.services import create_api_token

        photo_env.migrate()
        user, _case, items = photo_env.make_team(items=1)
        _token, token = create_api_token(actor=user, name="upload bench", two_factor_verified=True)
        files = {"head": tmp / "head.jpg", "filler": tmp / "filler.bin"}
        files["head"].write_bytes(photo_images.camera_jpeg(1024, 768, seed=77))
        files["filler"].write_bytes(filler_block(seed=2024))
        warm_up = photo_images.camera_jpeg(1600, 1200, seed=78)
        assert size <= settings.ATTEST_MAX_UPLOAD_BYTES, "the upload would be over the limit"
        connections.close_all()

        port = photo_env.free_loopback_port()
        assert ipaddress.ip_address(LOOPBACK).is_loopback
        gunicorn, log_path = start_gunicorn(port, tmp)
        wait_until_serving(gunicorn, port, log_path)
        workers = photo_env.children_of(gunicorn.pid)
        if len(workers) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {workers}")
        worker = workers[0]
        booted = memory(worker)
        status, body = small_upload(port, token, items[0].pk, warm_up)
        if status != 201 or body.get("status") != "done":
            raise RuntimeError(f"the warm-up upload answered {status}: {body}\n{photo_env.tail(log_path)}")
        time.sleep(0.5)
        baseline = memory(worker)
        started_at = time.perf_counter()

        log(f"server      gunicorn config.wsgi, 1 sync worker (pid {worker}), --timeout 600, {LOOPBACK}:{port}")
        log("database    SQLite temporary file; no broker: the photo task runs in the worker after commit")
        log(
            f"media       {tmp} ({free / 1e9:.0f} GB free); "
            f"ATTEST_MAX_UPLOAD_BYTES {settings.ATTEST_MAX_UPLOAD_BYTES:,}"
        )
        log(
            f"upload      POST {API_PATH}, multipart, file part {size:,} bytes = a "
            f"{files['head'].stat().st_size:,}-byte 1024x768 camera JPEG + appended bytes; "
            f"from bench/upload_client.py{'; QUICK RUN' if args.quick else ''}"
        )
        log(
            f"baseline    worker VmRSS {booted['VmRSS'] / MB:.1f} MB after start-up and a /healthz request, "
            f"{baseline['VmRSS'] / MB:.1f} MB after a warm-up upload of a 1600x1200 photo (VmHWM so far "
            f"{baseline['VmHWM'] / MB:.1f} MB); target: peak less than {TARGET_GROWTH_BYTES / MB:.0f} MB over it"
        )
        uploads = []
        for variant in variants:
            upload = run_upload(
                variant, size=size, port=port, token=token, item_id=items[0].pk, worker=worker, files=files, tmp=tmp
            )
            upload.leftovers = leftover_uploads(Path(settings.MEDIA_ROOT))
            uploads.append(upload)
            report(upload, size, baseline["VmRSS"])
        if gunicorn.poll() is not None:
            raise RuntimeError(f"gunicorn exited during the run:\n{photo_env.tail(log_path)}")
        failures = [check(upload, size) for upload in uploads if not check(upload, size).startswith(("201", "400"))]
        if failures:
            raise RuntimeError("the uploads did not go as designed: " + "; ".join(failures))
        worst = max(uploads, key=lambda upload: upload.peak_hwm)
        growth = worst.peak_hwm - baseline["VmRSS"]
        passed = growth < TARGET_GROWTH_BYTES
        log(
            f"result      {'PASS' if passed else 'FAIL'}: {growth / MB:+.1f} MB over the worker's baseline "
            f"(peak {worst.peak_hwm / MB:.1f} MB) during a {size / 1e9:g} GB upload ({worst.variant}), "
            f"target < +{TARGET_GROWTH_BYTES / MB:.0f} MB; "
            f"uploads {time.perf_counter() - started_at:.0f} s, "
            f"the bench took {time.perf_counter() - began:.0f} s"
        )
        return 0
    finally:
        try:
            photo_env.stop_process(gunicorn)
            if "django.db" in sys.modules:
                from django.db import connections

                connections.close_all()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
