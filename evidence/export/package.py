"""The evidence package: a BagIt bag (RFC 8493) that lets the other side check every byte offline.

The layout of data/, which verify.py and docs/custody-format.md expect, is in
docs/modules.md#evidenceexportpackagepy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import bagit
from django.conf import settings
from django.utils import timezone

from cases import references
from cases.models import Case, Incident
from evidence import custody, filestore
from evidence.export import layout
from evidence.export.tracefiles import trace_files
from evidence.lib import ledger
from evidence.models import (
    Attribution,
    Checkpoint,
    CheckpointTimestamp,
    Component,
    DateCodeReading,
    EvidenceFile,
    EvidenceItem,
    Export,
    Manufacturer,
    Marking,
    Photo,
    Source,
    TraceRequest,
    TraceResponse,
)

VERIFY_SCRIPT = layout.VERIFY_SCRIPT
BAGIT_DECLARATION = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
SPECIFICATION = Path(settings.BASE_DIR) / "docs" / "custody-format.md"


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # same filesystem: no copy of gigabytes of photos
    except OSError:
        shutil.copyfile(source, target)


def _records(case: Case) -> dict:
    def rows(queryset):
        return [custody.snapshot(row) for row in queryset.order_by("pk")]

    manufacturer_ids = set(EvidenceItem.objects.filter(case=case).values_list("manufacturer_id", flat=True))
    manufacturer_ids |= set(Marking.objects.filter(item__case=case).values_list("manufacturer_id", flat=True))
    components = Component.objects.filter(item__case=case)
    manufacturer_ids |= set(components.values_list("manufacturer_id", flat=True))
    requests = TraceRequest.objects.filter(case=case).prefetch_related("components")
    return {
        "case": custody.snapshot(case),
        "legal_basis": [provision.citation for provision in case.legal_basis.all()],  # English: it is hashed
        "incidents": rows(Incident.objects.filter(case=case)),
        "evidence_items": rows(EvidenceItem.objects.filter(case=case)),
        "photos": [
            {**custody.snapshot(photo, exclude=("exif",)), "sha256": photo.original.sha256}
            for photo in Photo.objects.filter(item__case=case).select_related("original").order_by("pk")
        ],
        "evidence_files": [
            {**custody.snapshot(kept), "sha256": kept.file.sha256}
            for kept in EvidenceFile.objects.filter(item__case=case).select_related("file").order_by("pk")
        ],
        "markings": rows(Marking.objects.filter(item__case=case)),
        "manufacturers": rows(Manufacturer.objects.filter(pk__in=manufacturer_ids - {None})),
        "sources": rows(Source.objects.filter(case=case)),
        "attributions": rows(Attribution.objects.filter(case=case)),
        "components": rows(components),
        "date_readings": rows(DateCodeReading.objects.filter(component__item__case=case)),
        "trace_requests": [
            {**custody.snapshot(request), "components": sorted(component.pk for component in request.components.all())}
            for request in requests.order_by("pk")
        ],
        "trace_responses": rows(TraceResponse.objects.filter(request__case=case)),
    }


def _ledger_lines(case: Case, size: int) -> bytes:
    lines = []
    for entry in custody.ledger_entries(case):
        if entry.get("seq", 0) > size:
            break
        record = {name: entry[name] for name in ledger.EVENT_FIELDS}
        lines.append(ledger.ledger_line(record, entry["hash"]) + b"\n")
    return b"".join(lines)


def build_package(
    export: Export,
    *,
    checkpoint: Checkpoint,
    dossier: Path,
    workdir: Path,
    seal: Callable[[list[dict]], Checkpoint],
    progress: Callable[[int, str], None] = lambda percent, stage: None,
) -> tuple[Path, Checkpoint]:
    """Assemble, bag and zip the package in `workdir`; returns the zip's path and the checkpoint it ships.

    `seal(files)` records the package's own files (case.json, the dossier) in the ledger and signs
    the checkpoint that covers them (docs/custody-format.md, sections 5 and 10): no event before
    it records them, and verify.py refuses a file the ledger does not record."""
    case = export.case
    name = f"{case.file_stem}-package-{export.pk}"
    # Inside the package a ledger is named by its reference (the format requires it): only a reference
    # of the policy's alphabet can be a file name; an older, free-text one stops the build here.
    stem = references.file_stem(case.reference)
    root = workdir / name
    root.mkdir()
    files: list[dict] = []

    def add(stored_path: str, relative: str, sha256: str, size: int) -> None:
        _place(filestore.fetch(stored_path, workdir), root / relative)
        files.append({"path": relative, "sha256": sha256, "size": size})

    photos = (
        Photo.objects.filter(item__case=case).select_related("item", "original").order_by("item__exhibit_number", "pk")
    )
    total = photos.count() or 1
    for number, photo in enumerate(photos.iterator(), start=1):
        sha = photo.original.sha256
        relative = layout.photo_path(photo.item.exhibit_number, sha, photo.format)
        add(photo.original.path, relative, sha, photo.original.size)
        if number % 50 == 0:
            progress(60 + 25 * number // total, f"originals {number}/{total}")
    kept_files = EvidenceFile.objects.filter(item__case=case).select_related("item", "file")
    for kept in kept_files.order_by("item__exhibit_number", "pk"):
        stored = kept.file  # not an image anyone vetted: shipped under its hash, never under its own name
        add(stored.path, layout.kept_file_path(kept.item.exhibit_number, stored.sha256), stored.sha256, stored.size)
    for source in Source.objects.filter(case=case, archived_copy__isnull=False).select_related("archived_copy"):
        stored = source.archived_copy
        relative = layout.source_path(source.pk, stored.sha256, source.archived_copy_name)
        add(stored.path, relative, stored.sha256, stored.size)
    for stored, relative in trace_files(case):
        add(stored.path, relative, stored.sha256, stored.size)
    dossier_sha, dossier_size = filestore.hash_file(dossier)
    _place(dossier, root / layout.dossier_path(stem))
    files.append({"path": layout.dossier_path(stem), "sha256": dossier_sha, "size": dossier_size})
    case_record = (json.dumps(_records(case), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    (root / "case.json").write_bytes(case_record)
    sealed = [
        {"path": "case.json", "sha256": hashlib.sha256(case_record).hexdigest(), "size": len(case_record)},
        files[-1],
    ]
    checkpoint = seal(sealed)

    progress(88, "ledger")
    (root / "ledger").mkdir()
    (root / "ledger" / f"{stem}.jsonl").write_bytes(_ledger_lines(case, checkpoint.size))
    (root / "checkpoints").mkdir()
    signed = [item.as_signed(case.reference) for item in case.checkpoints.filter(signed_at__lte=checkpoint.signed_at)]
    (root / "checkpoints" / f"{stem}.json").write_text(json.dumps(signed, indent=2) + "\n")
    shipped = CheckpointTimestamp.objects.filter(checkpoint__case=case, checkpoint__signed_at__lte=checkpoint.signed_at)
    for token in shipped.order_by("sha256"):  # each names itself: the SHA-256 of its bytes
        (root / "timestamps" / stem).mkdir(parents=True, exist_ok=True)
        (root / "timestamps" / stem / f"{token.sha256}.tsr").write_bytes(bytes(token.reply))
    (root / "public-keys").mkdir()
    known = custody.trusted_public_keys()  # after a rotation, older checkpoints are signed by retired keys
    for kid in sorted({item["key"] for item in signed}):
        if kid in known:
            (root / "public-keys" / f"{kid}.pem").write_bytes(custody.public_pem_of(known[kid]))
    (root / "files.json").write_text(json.dumps(files, indent=2) + "\n")

    progress(92, "bagging")
    bag = bagit.make_bag(
        str(root),
        bag_info={
            "Source-Organization": "Attest",
            "External-Description": f"Evidence package of case {case.reference}: {case.title}",
            "External-Identifier": name,
            "Bagging-Date": timezone.localdate().isoformat(),
            "Attest-Ledger-Head": f"{checkpoint.size}:{checkpoint.head_hash}",
            "Attest-Checkpoint-Key": checkpoint.key_id,
            "Attest-Key-Fingerprint": custody.key_fingerprint(),
            "Attest-Format": "attest-custody-ledger/1",
        },
        checksums=["sha256"],
    )
    # bagit-python writes version 0.97; the package follows BagIt 1.0 (RFC 8493), whose layout,
    # manifests and bag-info it already meets. Re-read, so that saving checks it as a 1.0 bag.
    (root / "bagit.txt").write_text(BAGIT_DECLARATION, encoding="utf-8")
    bag = bagit.Bag(str(root))
    shutil.copyfile(VERIFY_SCRIPT, root / "verify.py")
    if SPECIFICATION.exists():
        shutil.copyfile(SPECIFICATION, root / "custody-format.md")
    bag.save()  # the tag manifest now covers verify.py and the specification too
    progress(96, "zipping")
    archive = workdir / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as bundle:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                # Photos and PDFs are compressed already: storing them is as small and much faster.
                packed = path.suffix.lower() in {".jpg", ".heic", ".webp", ".pdf", ".png"}
                compression = zipfile.ZIP_STORED if packed else zipfile.ZIP_DEFLATED
                bundle.write(path, path.relative_to(workdir).as_posix(), compress_type=compression)
    return archive, checkpoint
