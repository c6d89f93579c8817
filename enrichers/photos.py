"""Photos from experience officers, checked and cleaned before anything keeps them. Pure (bytes in, bytes out).

- The type comes from the bytes (JPEG, PNG or WebP), never from the file's name or Content-Type.
- Size and pixel count are checked before any pixel is decoded: a small file that says it is
  100,000 × 100,000 pixels (a decompression bomb) is refused from its header alone.
- Every photo is re-encoded from its pixels, so EXIF (GPS position, camera serial), XMP and comments
  are gone: a photo's GPS says where its taker was, which is personal data. The EXIF orientation is
  applied first, so the photo still stands the right way up.
- A thumbnail (JPEG, at most ``thumbnail_px`` on its longer side) is made for the pages.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# What the bytes start with -> (Pillow's format name, media type).
_JPEG, _PNG, _WEBP = ("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")
MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")
THUMBNAIL_TYPE = "image/jpeg"


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    thumbnail_px: int = 320


class PhotoRefused(ValueError):
    """Why a photo is not accepted. ``code``: type, too_big, too_many_pixels, unreadable (a stable
    word the pages translate); ``values``: the figures the message names."""

    def __init__(self, code: str, message: str, **values: int | str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.values = values


@dataclass(frozen=True)
class CheckedPhoto:
    media_type: str
    width: int
    height: int
    data: bytes  # re-encoded: no EXIF, XMP or comments
    thumbnail: bytes  # THUMBNAIL_TYPE


def sniff(data: bytes) -> tuple[str, str] | None:
    """(Pillow format, media type) from the first bytes, or None for anything but JPEG, PNG, WebP."""
    if data.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _WEBP
    return None


def check_photo(data: bytes, limits: PhotoLimits) -> CheckedPhoto:
    """The photo cleaned, with its thumbnail; PhotoRefused says why not."""
    if len(data) > limits.max_bytes:
        raise PhotoRefused("too_big", f"{len(data)} bytes; at most {limits.max_bytes} are accepted",
                           size=len(data), limit=limits.max_bytes)  # fmt: skip
    kind = sniff(data)
    if kind is None:
        raise PhotoRefused("type", "not a JPEG, PNG or WebP image (judged by its content, not its name)")
    fmt, media_type = kind
    try:
        # open() reads the header only: the size is known before any pixel is decoded. Our limit
        # (max_pixels) is checked next, so Pillow's warning on the way is noise; its hard refusal
        # (DecompressionBombError, far above) stays on.
        with warnings.catch_warnings(action="ignore", category=Image.DecompressionBombWarning):
            image = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError:
        raise _too_many_pixels(None, limits) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise PhotoRefused("unreadable", f"the {fmt} image cannot be read: {exc}") from None
    with image:
        width, height = image.size
        if width * height > limits.max_pixels:
            raise _too_many_pixels(width * height, limits)
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise PhotoRefused("unreadable", f"the {fmt} image cannot be decoded: {exc}") from None
        return CheckedPhoto(media_type, upright.width, upright.height, _reencode(upright, fmt), _thumbnail(upright, limits))


def _too_many_pixels(pixels: int | None, limits: PhotoLimits) -> PhotoRefused:
    said = f"{pixels / 1e6:.1f} megapixels" if pixels is not None else "far too many pixels"
    return PhotoRefused("too_many_pixels", f"{said}; at most {limits.max_pixels / 1e6:g} are accepted",
                        limit_mp=f"{limits.max_pixels / 1e6:g}")  # fmt: skip


def _plain(image: Image.Image) -> Image.Image:
    """A copy that carries pixels only: Pillow writes what ``info`` holds (XMP, ICC, comments) back out."""
    clean = image.copy()
    clean.info = {}
    return clean


def _reencode(image: Image.Image, fmt: str) -> bytes:
    clean = _plain(image)
    out = io.BytesIO()
    if fmt == "JPEG":
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=90)
    elif fmt == "PNG":
        clean.save(out, "PNG")  # the first frame of an animated PNG
    else:
        if clean.mode not in ("RGB", "RGBA"):
            clean = clean.convert("RGBA" if "A" in clean.getbands() or "transparency" in image.info else "RGB")
        clean.save(out, "WEBP", quality=90)
    return out.getvalue()


def _thumbnail(image: Image.Image, limits: PhotoLimits) -> bytes:
    small = _plain(image)
    small.thumbnail((limits.thumbnail_px, limits.thumbnail_px))
    if small.mode != "RGB":
        # A transparent photo's thumbnail on white (JPEG has no alpha).
        rgba = small.convert("RGBA")
        small = Image.new("RGB", rgba.size, "white")
        small.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()
