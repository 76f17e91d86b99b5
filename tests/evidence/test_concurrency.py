"""Concurrent appends to one case's ledger on PostgreSQL: no fork, no reused sequence number."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from evidence import custody, services
from evidence.lib import ledger
from evidence.models import CustodyEvent, EvidenceItem

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 8
APPENDS_EACH = 6


def test_eight_concurrent_writers_keep_one_unbroken_chain(team):
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for round_ in range(APPENDS_EACH):
                # Alternate new exhibits (which also draw a number) with updates of one's own.
                if round_ == 0:
                    item = services.create_item(
                        actor=team.ivan, case=team.case, kind="physical_debris", title=f"Fragment {index}"
                    )
                else:
                    services.update_item(actor=team.ivan, item=item, condition=f"state {round_}")
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    sequences = list(CustodyEvent.objects.filter(case=team.case).values_list("sequence", flat=True))
    assert sorted(sequences) == list(range(1, WRITERS * APPENDS_EACH + 1))
    numbers = sorted(EvidenceItem.objects.filter(case=team.case).values_list("exhibit_number", flat=True))
    assert numbers == [f"EX-{n:04d}" for n in range(1, WRITERS + 1)]
    report = custody.verify_case(team.case)
    assert report.intact, report.problems
    assert report.size == WRITERS * APPENDS_EACH
    # No fork: every prev hash is used exactly once.
    prevs = list(CustodyEvent.objects.filter(case=team.case).values_list("prev_hash", flat=True))
    assert len(set(prevs)) == len(prevs)
    assert ledger.GENESIS_HASH in prevs
