"""Admin of the evidence app, one module per subject; importing them registers the pages."""

from evidence.admin import audit, exports, files, items, ledger, links, markings, photos, sources  # noqa: F401
