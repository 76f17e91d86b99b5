"""Admin of the evidence app, one module per subject; importing them registers the pages."""

from evidence.admin import (  # noqa: F401
    audit,
    cases,
    components,
    exports,
    files,
    items,
    ledger,
    links,
    markings,
    photos,
    sources,
    tracing,
)
