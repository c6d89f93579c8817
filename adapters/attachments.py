"""The attachments store: a folder of photos, each with its thumbnail and its metadata.

``<folder>/<id[:2]>/<id>.photo``, ``.thumb`` and ``.json``: 0600 files in 0700 folders (reporters'
photos are personal data), each written aside and linked into place, so a reader never sees half a
file and a retry that stores the same photo again changes nothing. The metadata is written last: a
photo without it does not exist yet. The metadata names who sent the photo and the lead it belongs
to, so whoever serves it can check who may see it.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from schemas.private_files import private_dir, write_private
from schemas.timezones import AwareDatetime

ATTACHMENT_ID = re.compile(r"^[0-9a-f]{32}$")


class StoredPhoto(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    media_type: str
    size: int
    width: int
    height: int
    name: str | None = None  # the file's name as sent (shown, never trusted)
    reporter: str
    lead_id: str
    stored_at: AwareDatetime


class AttachmentStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, attachment_id: str, suffix: str) -> Path | None:
        # The id is part of a path: only the ids this store makes are looked up.
        if not ATTACHMENT_ID.match(attachment_id):
            return None
        return self.folder / attachment_id[:2] / f"{attachment_id}.{suffix}"

    def put(self, meta: StoredPhoto, data: bytes, thumbnail: bytes) -> None:
        photo, thumb, about = (self._path(meta.id, s) for s in ("photo", "thumb", "json"))
        if photo is None or thumb is None or about is None:
            raise ValueError(f"not an attachment id: {meta.id!r}")
        private_dir(self.folder)
        write_private(photo, data)
        write_private(thumb, thumbnail)
        write_private(about, meta.model_dump_json().encode("utf-8"))

    def metadata(self, attachment_id: str) -> StoredPhoto | None:
        path = self._path(attachment_id, "json")
        if path is None or not path.is_file():
            return None
        return StoredPhoto.model_validate_json(path.read_bytes())

    def get(self, attachment_id: str) -> bytes | None:
        return self._read(attachment_id, "photo")

    def thumbnail(self, attachment_id: str) -> bytes | None:
        return self._read(attachment_id, "thumb")

    def delete(self, attachment_id: str) -> bool:
        """Remove a photo, its thumbnail and its metadata (retention: the lead it belongs to is gone).
        The metadata goes first: a photo without it no longer exists for readers."""
        paths = [self._path(attachment_id, s) for s in ("json", "photo", "thumb")]
        if any(p is None for p in paths) or not any(p.exists() for p in paths if p is not None):
            return False
        for path in paths:
            if path is not None:
                path.unlink(missing_ok=True)
        return True

    def _read(self, attachment_id: str, suffix: str) -> bytes | None:
        if self.metadata(attachment_id) is None:
            return None
        path = self._path(attachment_id, suffix)
        return path.read_bytes() if path is not None and path.is_file() else None
