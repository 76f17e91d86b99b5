"""Stream one large multipart photo upload to a server on loopback, never holding the body.

    python bench/upload_client.py --port 8123 --item 1 --size 2000000000 \\
        --head head.jpg --filler block.bin --trailer-prefix ffd8ffe0

Run by bench/bench_upload.py as its own process. The file part is the JPEG in --head followed
by --trailer-prefix (hex) and then the 1 MiB block in --filler repeated up to --size bytes; the
multipart body around it is sent with a precomputed Content-Length, a MiB at a time, with
http.client. The API token comes from ATTEST_UPLOAD_TOKEN. Prints one JSON object: the status,
the start of the response body, the bytes sent, time.monotonic() at the start, when the last
byte was sent and when the response was read, and this process's peak RSS.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20


def parts(head: bytes, prefix: bytes, block: bytes, size: int) -> Iterator[bytes | memoryview]:
    """The file part's bytes, `size` in all, a MiB at a time at most."""
    yield head
    yield prefix
    remaining = size - len(head) - len(prefix)
    view = memoryview(block)
    while remaining > 0:
        piece = view[: min(remaining, len(view))]
        yield piece
        remaining -= len(piece)


def peak_rss() -> int:
    """This process's VmHWM in bytes (ru_maxrss would count the parent's image from before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/api/v1/photos/")
    parser.add_argument("--item", type=int, required=True)
    parser.add_argument("--size", type=int, required=True, help="bytes of the file part")
    parser.add_argument("--head", type=Path, required=True, help="a small valid JPEG: the start of the file")
    parser.add_argument("--filler", type=Path, required=True, help="a block repeated after it")
    parser.add_argument("--trailer-prefix", default="", help="hex bytes between the JPEG and the filler")
    parser.add_argument("--filename", default="panorama.jpg")
    args = parser.parse_args()
    if not ipaddress.ip_address(args.host).is_loopback:
        parser.error(f"{args.host} is not a loopback address; the upload stays on this machine")
    token = os.environ["ATTEST_UPLOAD_TOKEN"]
    head, block = args.head.read_bytes(), args.filler.read_bytes()
    prefix = bytes.fromhex(args.trailer_prefix)
    if len(block) > CHUNK or args.size < len(head) + len(prefix):
        parser.error("the filler must be at most 1 MiB and the size at least the head's")

    boundary = f"attest-bench-{secrets.token_hex(12)}"
    preamble = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="item"\r\n\r\n{args.item}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{args.filename}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    epilogue = f"\r\n--{boundary}--\r\n".encode()
    if boundary.encode() in block:
        parser.error("the filler contains the boundary")
    length = len(preamble) + args.size + len(epilogue)

    connection = http.client.HTTPConnection(args.host, args.port, timeout=900)
    sent, error = 0, None
    started = time.monotonic()
    connection.putrequest("POST", args.path)
    connection.putheader("Authorization", f"Token {token}")
    connection.putheader("Accept", "application/json")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(length))
    connection.endheaders()
    try:
        connection.send(preamble)
        sent += len(preamble)
        for piece in parts(head, prefix, block, args.size):
            connection.send(piece)
            sent += len(piece)
        connection.send(epilogue)
        sent += len(epilogue)
    except OSError as exc:  # the server closed early: still read what it answered
        error = f"{type(exc).__name__}: {exc}"
    all_sent = time.monotonic()
    try:
        response = connection.getresponse()
        status, body = response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        status, body = None, b""
        error = (error + "; " if error else "") + f"no response: {type(exc).__name__}: {exc}"
    finished = time.monotonic()
    connection.close()
    print(
        json.dumps(
            {
                "status": status,
                "body": body[:2000].decode("utf-8", "replace"),
                "content_length": length,
                "sent": sent,
                "error": error,
                "started": started,
                "all_sent": all_sent,
                "finished": finished,
                "client_peak_rss": peak_rss(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
