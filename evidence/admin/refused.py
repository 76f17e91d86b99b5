"""A file refused as a photo at upload can be kept as an evidence file instead of being lost."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evidence import filestore, services
from evidence.services.files import refusal_codes


def keep_refused_upload(model_admin, request, item, uploaded, refusal: ValidationError) -> None:
    """After a file was refused as a photo: keep it as an evidence file if the uploader asked to, else say how."""
    if not request.POST.get("keep_refused"):
        model_admin.message_user(
            request,
            gettext("%(name)s was not kept. To keep it as an evidence file, tick “%(option)s” and upload it again.")
            % {"name": uploaded.name, "option": KEEP_REFUSED_LABEL},
            messages.WARNING,
        )
        return
    try:
        result = services.keep_file(
            actor=request.user,
            item=item,
            upload=filestore.from_upload(uploaded),
            original_name=uploaded.name,
            # Stored (and hashed into the ledger) in English, with the refusal's codes.
            reason=f"refused as a photo ({', '.join(refusal_codes(refusal))})",
        )
    except ValidationError as error:
        model_admin.message_user(request, f"{uploaded.name}: {' '.join(error.messages)}", messages.ERROR)
        return
    model_admin.message_user(
        request,
        gettext("%(name)s was kept as an evidence file, SHA-256 %(sha256)s.")
        % {"name": uploaded.name, "sha256": result.kept.file.sha256},
        messages.SUCCESS,
    )


KEEP_REFUSED_LABEL = _("keep files refused as photos as evidence files")
