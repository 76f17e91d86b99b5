"""Business logic of evidence: every change to evidence goes through a function here and appends
its custody event in the same transaction. One module per subject; import from this package."""

from evidence.services import exports, photos
from evidence.services.components import (
    attach_markings,
    correct_component,
    record_component,
    record_reading,
    verify_reading,
    withdraw_component,
    withdraw_reading,
)
from evidence.services.exports import request_export
from evidence.services.files import FileKept, keep_file, keep_file_from_path
from evidence.services.items import (
    check_fixity,
    correct_event,
    create_item,
    record_examination,
    record_fixity_check,
    transfer_custody,
    update_item,
)
from evidence.services.markings import (
    correct_marking,
    record_marking,
    verify_marking,
    withdraw_marking,
)
from evidence.services.photos import (
    PhotoAccepted,
    add_photo,
    add_photo_from_path,
    process_photo,
)
from evidence.services.sources import (
    add_attribution,
    add_source,
    add_source_from_path,
    update_source,
    withdraw_attribution,
    withdraw_source,
)
from evidence.services.tracing import (
    close_trace_request,
    draft_right_of_reply,
    draft_trace_request,
    issue_letter,
    mark_overdue,
    record_response,
    send_trace_request,
)

__all__ = [
    "FileKept",
    "PhotoAccepted",
    "add_attribution",
    "add_photo",
    "add_photo_from_path",
    "add_source",
    "add_source_from_path",
    "attach_markings",
    "check_fixity",
    "close_trace_request",
    "correct_component",
    "correct_event",
    "correct_marking",
    "create_item",
    "draft_right_of_reply",
    "draft_trace_request",
    "exports",
    "issue_letter",
    "keep_file",
    "keep_file_from_path",
    "mark_overdue",
    "photos",
    "process_photo",
    "record_component",
    "record_examination",
    "record_fixity_check",
    "record_marking",
    "record_reading",
    "record_response",
    "request_export",
    "send_trace_request",
    "transfer_custody",
    "update_item",
    "update_source",
    "verify_marking",
    "verify_reading",
    "withdraw_attribution",
    "withdraw_component",
    "withdraw_marking",
    "withdraw_reading",
    "withdraw_source",
]
