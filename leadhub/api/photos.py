"""Photos on experience officers' reports: reading a report with its photos from a request, checking
and storing them (enrichers.photos, adapters.attachments), and serving them at ``/attachments/{id}``.

A photo is served only to the officer who sent it, to the roles that may read its case (analysts and
officers: leadhub.access gives every reader every case, so an officer of another department sees it
as they see the case page), and to admins; anyone else gets a 404, as for a photo that does not exist.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from adapters.attachment_settings import AttachmentSettings
from adapters.attachments import AttachmentStore, StoredPhoto
from enrichers.photos import CheckedPhoto, PhotoLimits, PhotoRefused, check_photo
from leadhub.access import Permission, Principal
from leadhub.api.auth import context, principal
from leadhub.intake import FieldReport
from schemas.leads import Attachment
from schemas.timezones import now

PHOTO_FIELD = "photos"
# Routes that take a report with photos (the API and the /report page): their bodies may be larger.
UPLOAD_PATHS = ("/api/v1/reports", "/report")
# Form fields that may repeat (FieldReport's lists).
LIST_FIELDS = ("evidence",)


@dataclass
class Photos:
    """The attachments store and the limits a photo is held to (settings section ``attachments``)."""

    store: AttachmentStore
    settings: AttachmentSettings

    @property
    def limits(self) -> PhotoLimits:
        s = self.settings
        return PhotoLimits(max_bytes=s.max_bytes, max_pixels=s.max_pixels, thumbnail_px=s.thumbnail_px)


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def is_form(request: Request) -> bool:
    """A form (multipart, or url-encoded when it has no photos) rather than a JSON body."""
    return request.headers.get("content-type", "").lower().startswith(("multipart/form-data", "application/x-www-form-urlencoded"))


async def read_report(request: Request, max_files: int | None) -> tuple[FieldReport, list[Upload]]:
    """The report a request carries: a JSON body, or form fields and up to ``max_files`` photos
    (multipart/form-data; url-encoded without photos). A report that does not validate is a RequestValidationError, the same
    422 as any other body."""
    if not is_form(request):
        body = await request.body()
        try:
            return FieldReport.model_validate_json(body), []
        except ValidationError as exc:
            raise RequestValidationError(_in_body(exc)) from None
    fields, uploads = await read_form(request)
    if max_files is not None and len(uploads) > max_files:  # None: no store; a photo is then a 503
        raise HTTPException(422, detail=[{"loc": ["body", PHOTO_FIELD], "msg": f"{len(uploads)} photos; at most {max_files} per report",
                                          "type": "too_many_photos"}])  # fmt: skip
    return report_from_fields(fields), uploads


async def read_form(request: Request) -> tuple[dict[str, Any], list[Upload]]:
    """The form's text fields (repeatable ones as lists) and its chosen files. A browser sends an
    empty part for a file input left empty: that is no photo."""
    try:
        # More file parts than allowed are counted (and refused by name) rather than cut off here;
        # the body limit (UPLOAD_PATHS) bounds the whole.
        form = await request.form(max_files=100, max_fields=100)
    except MultiPartException as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"unreadable form: {exc.message}") from None
    fields: dict[str, Any] = {}
    uploads: list[Upload] = []
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                if value.filename or data:
                    uploads.append(Upload(value.filename or f"photo-{len(uploads) + 1}", data))
            elif key in LIST_FIELDS:
                fields.setdefault(key, []).append(value)
            else:
                fields[key] = value
    finally:
        await form.close()
    return fields, uploads


def report_from_fields(fields: dict[str, Any]) -> FieldReport:
    # An empty form field is a field not given (an optional one keeps its default).
    given = {k: v for k, v in fields.items() if k != PHOTO_FIELD and v not in ("", [])}
    if "evidence" in given:
        given["evidence"] = [link.strip() for link in given["evidence"] if link.strip()]
    try:
        return FieldReport.model_validate(given)
    except ValidationError as exc:
        raise RequestValidationError(_in_body(exc)) from None


def _in_body(exc: ValidationError) -> list[dict[str, Any]]:
    return [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]


def check_all(uploads: list[Upload], limits: PhotoLimits) -> list[CheckedPhoto]:
    """Every photo checked before any is stored: one bad photo refuses the report (a 422 naming each
    bad file and why), and nothing of it is kept."""
    checked: list[CheckedPhoto] = []
    problems: list[dict[str, Any]] = []
    for upload in uploads:
        try:
            checked.append(check_photo(upload.data, limits))
        except PhotoRefused as exc:
            problems.append({"loc": ["body", PHOTO_FIELD, upload.name], "msg": f"{upload.name}: {exc.message}",
                             "type": f"photo_{exc.code}", "file": upload.name, "reason": exc.code, **exc.values})  # fmt: skip
    if problems:
        raise HTTPException(422, detail=problems)
    return checked


def attachment_id(lead_id: str, data: bytes) -> str:
    """Per report and photo: the same report sent again with the same photo stores nothing new."""
    return hashlib.sha256(lead_id.encode() + b"\x1f" + data).hexdigest()[:32]


def store_photos(photos: Photos, uploads: list[Upload], checked: list[CheckedPhoto], *, reporter: str, lead_id: str) -> list[Attachment]:
    attachments = []
    for upload, photo in zip(uploads, checked, strict=True):
        ident = attachment_id(lead_id, upload.data)
        meta = StoredPhoto(id=ident, media_type=photo.media_type, size=len(photo.data), width=photo.width, height=photo.height,
                           name=upload.name[:300], reporter=reporter, lead_id=lead_id, stored_at=now())  # fmt: skip
        photos.store.put(meta, photo.data, photo.thumbnail)
        attachments.append(Attachment(url=f"/attachments/{ident}", id=ident, name=meta.name, media_type=meta.media_type,
                                      size=meta.size, width=meta.width, height=meta.height))  # fmt: skip
    return attachments


def digest_with_photos(digest: str, lead_id: str, uploads: list[Upload]) -> str:
    """The report's digest (leadhub.intake) with its photos': the same id with other photos is another
    report; without photos it is the report's own digest (reports stored before photos keep theirs)."""
    if not uploads:
        return digest
    ids = sorted(attachment_id(lead_id, upload.data) for upload in uploads)
    return hashlib.sha256(json.dumps([digest, ids]).encode()).hexdigest()


def may_see(who: Principal, meta: StoredPhoto, lead_known: bool) -> bool:
    """The sender, admins, and whoever may read the photo's case (once its lead is in the store). Pure."""
    if who.role == "admin" or (who.name == meta.reporter and who.can(Permission.submit_reports)):
        return True
    return who.can(Permission.read) and lead_known


def build_router() -> APIRouter:
    router = APIRouter(tags=["attachments"])

    def serve(attachment_id: str, who: Principal, ctx: Any, thumb: bool) -> Response:
        photos: Photos | None = getattr(ctx, "photos", None)
        missing = HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no attachment {attachment_id}")
        meta = photos.store.metadata(attachment_id) if photos else None
        if photos is None or meta is None:
            raise missing
        lead_known = who.can(Permission.read) and ctx.store.get("leads", meta.lead_id) is not None
        if not may_see(who, meta, lead_known):
            raise missing  # not "forbidden": whether a photo exists is not for others to learn
        data = photos.store.thumbnail(attachment_id) if thumb else photos.store.get(attachment_id)
        if data is None:
            raise missing
        return Response(data, media_type="image/jpeg" if thumb else meta.media_type, headers={
            "cache-control": "private, max-age=3600", "x-content-type-options": "nosniff", "vary": "Cookie, Authorization",
        })  # fmt: skip

    @router.get("/attachments/{attachment_id}", summary="A stored photo (its reporter, readers of its case, admins)")
    def photo(attachment_id: str, who: Principal = Depends(principal), ctx: Any = Depends(context)) -> Response:
        return serve(attachment_id, who, ctx, thumb=False)

    @router.get("/attachments/{attachment_id}/thumb", summary="A stored photo's thumbnail (JPEG)")
    def thumbnail(attachment_id: str, who: Principal = Depends(principal), ctx: Any = Depends(context)) -> Response:
        return serve(attachment_id, who, ctx, thumb=True)

    return router


def checked_photos(photos: Photos | None, uploads: list[Upload]) -> list[CheckedPhoto]:
    if not uploads:
        return []
    if photos is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="this server keeps no photos (no attachments store)")
    return check_all(uploads, photos.limits)


# POST /api/v1/reports reads its body itself (JSON or a form): its OpenAPI says what either holds.
REPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": FieldReport.model_json_schema(ref_template="#/components/schemas/{model}")},
            "multipart/form-data": {"schema": {
                "type": "object",
                "description": "The FieldReport's fields as form fields (evidence may repeat), and the photos.",
                "properties": {PHOTO_FIELD: {"type": "array", "items": {"type": "string", "format": "binary"},
                                             "description": "Up to attachments.max_files JPEG, PNG or WebP photos."}},
            }},
        },
    }
}  # fmt: skip
