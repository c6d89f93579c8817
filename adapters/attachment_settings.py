"""The attachments store's settings section (``attachments`` in leadhub.yaml): where photos are kept and
what a photo may be."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from schemas.sections import Section


class AttachmentSettings(Section):
    path: Path | None = Field(
        None, description="Folder of the stored photos; default .local/attachments. Every process that serves or"
        " stores photos (the API replicas) must see the same folder (a shared volume).",
    )  # fmt: skip
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024, description="Largest photo file accepted.")
    max_pixels: int = Field(40_000_000, ge=10_000, le=200_000_000, description="Most pixels (width × height) of a photo.")
    max_files: int = Field(6, ge=0, le=20, description="Most photos on one report.")
    thumbnail_px: int = Field(320, ge=32, le=2048, description="Longer side of a thumbnail, in pixels.")

    def folder(self, local_dir: Path) -> Path:
        return self.path or local_dir / "attachments"

    def upload_bytes(self) -> int:
        """The largest request a report with photos may be: every photo at its limit, and the text fields."""
        return self.max_files * self.max_bytes + 1024 * 1024
