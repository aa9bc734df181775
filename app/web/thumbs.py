"""Previews of kept evidence, made on request and never stored.

The blurred preview is blurred on the server: the browser never receives a sharp image unless the
person asked for it, so the blur cannot be undone by disabling CSS or saving the image.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from app.matching.decode import DecodeError, decode_media

THUMB_SIZE = 240
REVEAL_SIZE = 900


def _first_frame(data: bytes) -> Image.Image | None:
    try:
        media = decode_media(data, max_pixels=40_000_000, max_frames=1)
    except DecodeError:
        return None
    return media.frames[0] if media.frames else None


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, format="JPEG", quality=70)
    return out.getvalue()


def blurred_preview(data: bytes) -> bytes | None:
    """A small, heavily blurred JPEG: shapes and colours only, nothing recognisable."""
    frame = _first_frame(data)
    if frame is None:
        return None
    # Shrink to a few dozen pixels first: the detail is gone, not just hidden.
    tiny = frame.copy()
    tiny.thumbnail((24, 24), Image.Resampling.BILINEAR)
    width, height = frame.size
    scale = THUMB_SIZE / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return _jpeg(tiny.resize(size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(6)))


def revealed_image(data: bytes) -> bytes | None:
    frame = _first_frame(data)
    if frame is None:
        return None
    frame.thumbnail((REVEAL_SIZE, REVEAL_SIZE), Image.Resampling.LANCZOS)
    return _jpeg(frame)
