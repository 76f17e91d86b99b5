"""Trusted timestamps: asking the TSAs of ATTEST_TSA_URLS to timestamp checkpoints, and what came of it.

A TSA that cannot be reached never blocks work: the failure is recorded (TimestampAuthorityStatus,
shown on /healthz and the case page) and beat's timestamp_checkpoints tries again. A token is only
worth its time if that time is the checkpoint's own (lib/timestamps.WINDOW), so a retry signs a new
checkpoint of the head and keeps it only when a token for it arrived.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from cases.models import Case
from evidence import custody
from evidence.lib import timestamps
from evidence.models import Checkpoint, CheckpointTimestamp, TimestampAuthorityStatus

log = logging.getLogger(__name__)


class TsaUnavailable(Exception):
    """The TSA could not be asked, or its reply cannot be kept; the text is safe to show."""


def configured() -> list[str]:
    return list(settings.ATTEST_TSA_URLS)


def tsa_label(url: str) -> str:
    """The host only: enough to tell TSAs apart, never credentials or a path."""
    return urlsplit(url).hostname or "?"


def post_request(url: str, body: bytes, *, timeout: float) -> bytes:
    """POST a timestamp query (RFC 3161, section 3.4); the reply's bytes, or TsaUnavailable."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise TsaUnavailable("the TSA's URL is not http:// or https://")
    headers = {"Content-Type": "application/timestamp-query"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 (checked above)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            reply = response.read(timestamps.MAX_REPLY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise TsaUnavailable(f"the TSA answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        kind = "timed out" if isinstance(reason, TimeoutError) else f"unreachable ({type(reason).__name__})"
        raise TsaUnavailable(f"the TSA is {kind}") from None
    return reply


def request_token(url: str, signed: dict) -> timestamps.Token:
    query = timestamps.build_request(signed)
    reply = post_request(url, query.as_bytes(), timeout=settings.ATTEST_TSA_TIMEOUT)
    try:
        return timestamps.accept_reply(reply, request=query, signed=signed)
    except timestamps.TimestampRefused as exc:
        raise TsaUnavailable(str(exc)) from None


def _note(url: str, *, error: str = "") -> None:
    now = timezone.now()
    status, _created = TimestampAuthorityStatus.objects.get_or_create(url=url)
    if error:
        status.last_failure_at, status.last_error = now, error[:300]
    else:
        status.last_success_at = now
    status.save()


def _ask_all(checkpoint: Checkpoint, urls: list[str]) -> list[tuple[str, timestamps.Token]]:
    signed = checkpoint.as_signed(checkpoint.case.reference)
    tokens = []
    for url in urls:
        try:
            tokens.append((url, request_token(url, signed)))
        except TsaUnavailable as exc:
            log.warning("timestamp of checkpoint %s from %s failed: %s", checkpoint.pk, tsa_label(url), exc)
            _note(url, error=str(exc))
        else:
            _note(url)
    return tokens


def _keep(checkpoint: Checkpoint, tokens: list[tuple[str, timestamps.Token]]) -> list[CheckpointTimestamp]:
    kept = []
    for url, token in tokens:
        try:
            with transaction.atomic():
                row = CheckpointTimestamp.objects.create(
                    checkpoint=checkpoint, tsa_url=url, tsa_name=token.tsa_name[:500], reply=token.reply,
                    sha256=token.sha256, gen_time=token.gen_time, obtained_at=timezone.now(),
                )  # fmt: skip
            kept.append(row)
        except IntegrityError:  # another process kept one for this checkpoint and TSA first
            pass
    return kept


def stamp(checkpoint: Checkpoint) -> list[CheckpointTimestamp]:
    """Timestamp a checkpoint just signed, by every configured TSA that has not yet. Never raises for a
    TSA's failure: it is recorded, and timestamp_waiting() tries again with a new checkpoint."""
    have = set(checkpoint.timestamps.values_list("tsa_url", flat=True))
    return _keep(checkpoint, _ask_all(checkpoint, [url for url in configured() if url not in have]))


def waiting_cases(case: Case | None = None) -> list[tuple[Case, list[str]]]:
    """Cases (or just `case`) whose newest checkpoint some configured TSA has not timestamped, with those TSAs."""
    urls = configured()
    if not urls:
        return []
    checkpoints, tokens = Checkpoint.objects.all(), CheckpointTimestamp.objects.all()
    if case is not None:
        checkpoints, tokens = checkpoints.filter(case=case), tokens.filter(checkpoint__case=case)
    newest = {row["case"]: row["size"] for row in checkpoints.values("case").annotate(size=Max("size"))}
    stamped: dict[tuple[int, str], int] = {
        (row["checkpoint__case"], row["tsa_url"]): row["size"]
        for row in tokens.values("checkpoint__case", "tsa_url").annotate(size=Max("checkpoint__size"))
    }
    waiting = []
    for case in Case.objects.filter(pk__in=newest).order_by("pk"):
        missing = [url for url in urls if stamped.get((case.pk, url), -1) < newest[case.pk]]
        if missing:
            waiting.append((case, missing))
    return waiting


def timestamp_waiting() -> int:
    """The retry: for each case whose newest checkpoint lacks a token, sign the head anew and keep
    that checkpoint with the tokens that arrived (none arrived: nothing is kept). Returns how many
    tokens were obtained."""
    obtained = 0
    for case, urls in waiting_cases():
        # Never vouch for a head that does not verify (as the periodic signer).
        if not custody.verify_case(case, files=False).intact:
            continue
        checkpoint = custody.prepare_checkpoint(case=case, reason="trusted timestamp")
        tokens = _ask_all(checkpoint, urls)
        if tokens:
            with transaction.atomic():
                checkpoint.save()
                obtained += len(_keep(checkpoint, tokens))
    return obtained


@dataclass(frozen=True)
class Summary:
    """What /healthz and the case page say about trusted timestamps."""

    configured: int
    last_obtained: datetime | None
    last_tsa: str
    last_size: int | None
    failing: list[dict]
    waiting: int

    def as_dict(self) -> dict:
        return {
            "configured": self.configured,
            "last_obtained": self.last_obtained.isoformat() if self.last_obtained else None,
            "last_tsa": self.last_tsa,
            "failing": [{**entry, "since": entry["since"].isoformat()} for entry in self.failing],
            "waiting": self.waiting,
        }


def summary(case: Case | None = None) -> Summary:
    """The last token obtained (for one case, or any), the TSAs failing now, the cases waiting."""
    urls = configured()
    tokens = (
        CheckpointTimestamp.objects.all() if case is None else CheckpointTimestamp.objects.filter(checkpoint__case=case)
    )
    last = tokens.select_related("checkpoint").order_by("-obtained_at").first()
    failing = [
        {"tsa": tsa_label(status.url), "since": status.last_failure_at, "error": status.last_error}
        for status in TimestampAuthorityStatus.objects.filter(url__in=urls).order_by("url")
        if status.failing
    ]
    return Summary(
        configured=len(urls),
        last_obtained=last.obtained_at if last else None,
        last_tsa=last.tsa_name if last else "",
        last_size=last.checkpoint.size if last else None,
        failing=failing,
        waiting=len(waiting_cases(case)),
    )
