"""The pure photo checks (enrichers/photos.py) and the folder store (adapters/attachments.py), on real
small images made here with Pillow."""

from __future__ import annotations

import datetime as dt
import io
import stat
import struct
import zlib

import pytest
from PIL import Image

from adapters.attachments import AttachmentStore, StoredPhoto
from enrichers.photos import PhotoLimits, PhotoRefused, check_photo, sniff

LIMITS = PhotoLimits(max_bytes=1024 * 1024, max_pixels=4_000_000, thumbnail_px=64)


def image_bytes(fmt: str, size=(200, 120), color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (29.0, 18.0, 30.0)  # GPSLatitudeRef, GPSLatitude (义乌)
    gps[3], gps[4] = "E", (120.0, 4.0, 30.0)
    return image_bytes("JPEG", exif=exif)


@pytest.mark.parametrize("fmt,media_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_jpeg_png_and_webp_are_accepted_reencoded_and_get_a_thumbnail(fmt, media_type):
    photo = check_photo(image_bytes(fmt), LIMITS)
    assert photo.media_type == media_type and (photo.width, photo.height) == (200, 120)
    with Image.open(io.BytesIO(photo.data)) as again:
        assert again.format == fmt and again.size == (200, 120)
    with Image.open(io.BytesIO(photo.thumbnail)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 64


def test_gps_and_other_exif_are_removed():
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(0x8825)  # the fixture really carries a GPS position
    photo = check_photo(original, LIMITS)
    with Image.open(io.BytesIO(photo.data)) as after:
        assert not after.getexif() and "exif" not in after.info
    assert b"Exif" not in photo.data and b"PhoneMaker" not in photo.data
    assert b"Exif" not in photo.thumbnail


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to display
    photo = check_photo(image_bytes("JPEG", size=(200, 100), exif=exif), LIMITS)
    assert (photo.width, photo.height) == (100, 200)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def fake_png(width: int, height: int) -> bytes:
    """A decompression bomb's shape: a valid IHDR claiming width × height, then a tiny IDAT (a few
    hundred compressed bytes of zeros, far short of the pixels claimed) and IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 100_000, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [3000, 100_000])  # over our 4 MP limit; far over Pillow's own bomb limit too
def test_a_header_claiming_too_many_pixels_is_refused_without_decoding(side):
    data = fake_png(side, side)
    assert len(data) < 1000  # the pixels claimed are not there: refusing it can only come from the header
    with pytest.raises(PhotoRefused) as refused:
        check_photo(data, LIMITS)
    assert refused.value.code == "too_many_pixels"


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    with pytest.raises(PhotoRefused) as refused:
        check_photo(b"\xff\xd8\xff" + b"\0" * (LIMITS.max_bytes + 1), LIMITS)
    assert refused.value.code == "too_big" and refused.value.values["limit"] == LIMITS.max_bytes


@pytest.mark.parametrize("data", [
    image_bytes("GIF"),
    b"just some text, though the file was called photo.jpg",
    image_bytes("BMP"),
    b"",
], ids=["gif", "text named .jpg", "bmp", "empty"])  # fmt: skip
def test_other_types_are_refused_whatever_the_name(data):
    assert sniff(data) is None
    with pytest.raises(PhotoRefused) as refused:
        check_photo(data, LIMITS)
    assert refused.value.code == "type"


def test_a_truncated_jpeg_is_refused_as_unreadable():
    data = image_bytes("JPEG", size=(400, 400))[:200]
    with pytest.raises(PhotoRefused) as refused:
        check_photo(data, LIMITS)
    assert refused.value.code == "unreadable"


def test_a_transparent_png_keeps_its_alpha_and_gets_a_white_backed_thumbnail():
    out = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(out, "PNG")
    photo = check_photo(out.getvalue(), LIMITS)
    with Image.open(io.BytesIO(photo.data)) as again:
        assert again.mode == "RGBA"
    with Image.open(io.BytesIO(photo.thumbnail)) as thumb:
        assert thumb.getpixel((0, 0)) == (255, 255, 255)


def test_the_store_keeps_photo_thumbnail_and_metadata_private(tmp_path):
    store = AttachmentStore(tmp_path / "attachments")
    meta = StoredPhoto(id="a" * 32, media_type="image/png", size=3, width=1, height=1, name="x.png", reporter="officer-1",
                       lead_id="l1", stored_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # fmt: skip
    store.put(meta, b"png", b"thumb")
    assert store.get("a" * 32) == b"png" and store.thumbnail("a" * 32) == b"thumb"
    assert store.metadata("a" * 32).reporter == "officer-1" and store.metadata("a" * 32).lead_id == "l1"
    files = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    folders = [tmp_path / "attachments", *(p for p in (tmp_path / "attachments").rglob("*") if p.is_dir())]
    assert len(files) == 3 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in folders)
    store.put(meta, b"png", b"thumb")  # the same photo again (a retried report) changes nothing
    assert store.get("a" * 32) == b"png"
    for unknown in ("b" * 32, "../../etc/passwd", "A" * 32):
        assert store.get(unknown) is None and store.metadata(unknown) is None
