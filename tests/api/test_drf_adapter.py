"""The DRF internals core/api/drf_adapter.py relies on: pinned, so that an upgrade that changes them fails here.

If this fails after upgrading DRF, read the new code of each function named in the failure and check
that reader() still returns what DRF's get_attribute() and to_representation() would; then update
WRITTEN_FOR and the hashes. TestSerializerMatchesDrf (test_list_performance.py) compares whole pages.
"""

from __future__ import annotations

import hashlib
import inspect
from importlib import import_module

import pytest
import rest_framework

from core.api import drf_adapter

# SHA-256 of inspect.getsource() of each internal in drf_adapter.RELIES_ON, for DRF WRITTEN_FOR.
PINNED = {
    "rest_framework.fields.get_attribute": ("317c25d7087ede4d921f81bf5489ff306d18c01ad05a8dc64333d7a2a0da8970"),
    "rest_framework.fields.Field.get_attribute": ("d6478027a6aad6685ac668b8e37a5df76809dc2014b3f192a4e045c418d9e00e"),
    "rest_framework.relations.RelatedField.get_attribute": (
        "f7e66a6691bba553b67db25978a0b5bdfaf121a814a3ca79402bb96ce1488cb1"
    ),
    "rest_framework.relations.PrimaryKeyRelatedField.to_representation": (
        "36a65afe5b3078391c385cbe9dddaa8bdfd9a846224be057b7f8dee52e616ccf"
    ),
}


def _source_hash(dotted: str) -> str:
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target = import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return hashlib.sha256(inspect.getsource(target).encode()).hexdigest()
    raise ImportError(dotted)


def test_drf_is_the_version_the_adapter_was_written_for():
    assert rest_framework.__version__ == drf_adapter.WRITTEN_FOR, (
        f"DRF is {rest_framework.__version__}; core/api/drf_adapter.py was written for {drf_adapter.WRITTEN_FOR}: "
        "re-check each function it relies on (RELIES_ON), then update WRITTEN_FOR and PINNED here"
    )


def test_every_internal_the_adapter_relies_on_is_pinned():
    assert set(PINNED) == set(drf_adapter.RELIES_ON)


@pytest.mark.parametrize("dotted", sorted(PINNED))
def test_drf_internals_are_unchanged(dotted):
    assert _source_hash(dotted) == PINNED[dotted], (
        f"{dotted} changed in DRF {rest_framework.__version__}: check that core/api/drf_adapter.py still reads "
        "values as it does, then update the hash"
    )
