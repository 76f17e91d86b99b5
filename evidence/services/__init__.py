"""Business logic of evidence: every change to evidence goes through a function here and appends
its custody event in the same transaction. One module per subject; import from this package."""

from evidence.services.items import (
    correct_event,
    create_item,
    record_examination,
    record_fixity_check,
    transfer_custody,
    update_item,
)
from evidence.services.photos import (
    PhotoAccepted,
    add_photo,
    add_photo_from_path,
    near_duplicates,
    process_photo,
)

__all__ = [
    "PhotoAccepted",
    "add_photo",
    "add_photo_from_path",
    "correct_event",
    "create_item",
    "near_duplicates",
    "process_photo",
    "record_examination",
    "record_fixity_check",
    "transfer_custody",
    "update_item",
]
