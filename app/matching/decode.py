"""Turn untrusted bytes into RGB frames, with hard limits and a plain reason on failure.

Pure module: no Django. Everything fetched from the web passes through here, so every
failure becomes a ``DecodeError`` with a short human-readable ``reason`` instead of an
exception from deep inside Pillow or FFmpeg.
"""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageFile, ImageOps

try:  # HEIC/HEIF phone photos
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - dependency is declared in pyproject
    pass

with contextlib.suppress(ImportError):  # AVIF (registers itself with Pillow on import)
    import pillow_avif  # noqa: F401


DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_FRAMES = 40
DEFAULT_MAX_VIDEO_SECONDS = 600.0
# Local features work at ~800 px, so JPEGs only need decoding at >= 1024 px.
DEFAULT_DRAFT_SIZE = 1024
# A frame at least every this many seconds of video, on top of the keyframes.
VIDEO_FRAME_INTERVAL = 2.0

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VP",
    b"qt  ", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"dash", b"mmp4", b"f4v ", b"MSNV", b"XAVC",
}  # fmt: skip


class DecodeError(Exception):
    """A file we cannot or will not decode.

    ``reason`` is short English, safe to show (the command-line tools print it); ``code`` is
    stable, for pages that word it in the reader's language (app/fetching/messages.py).
    """

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass
class DecodedMedia:
    kind: str  # "image" | "video"
    mime: str
    width: int
    height: int
    frames: list[Image.Image] = field(default_factory=list)  # RGB (or L); one for images
    # JPEGs decoded in the DCT domain at 1/scale (``min_side``): each frame pixel is then the
    # mean of a scale x scale block of the file's pixels, counted from the stored top-left
    # corner, before ``orientation`` (EXIF, 1-8) was applied to the frame.
    scale: int = 1
    orientation: int = 1


def _ftyp_brands(data: bytes) -> set[bytes]:
    if len(data) < 12 or data[4:8] != b"ftyp":
        return set()
    size = int.from_bytes(data[0:4], "big")
    end = min(max(size, 16), len(data), 256)
    brands = {data[8:12]}
    brands.update(data[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def sniff_mime(data: bytes) -> str | None:
    """MIME type from magic bytes only (never trust a server's Content-Type)."""
    head = data[:512]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:2] == b"BM" and len(head) >= 26:
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    brands = _ftyp_brands(head)
    if brands:
        major = head[8:12]
        if major in _AVIF_BRANDS:
            return "image/avif"
        if major in _HEIF_BRANDS:
            return "image/heic"
        if brands & _AVIF_BRANDS and not brands & _VIDEO_BRANDS:
            return "image/avif"
        if brands & _HEIF_BRANDS and not brands & _VIDEO_BRANDS:
            return "image/heic"
        if major == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in data[:4096].lower():
        return "image/svg+xml"
    return None


def sniff_media_kind(data: bytes) -> str | None:
    """'image', 'video', 'svg' or None, by magic bytes only."""
    mime = sniff_mime(data)
    if mime is None:
        return None
    if mime == "image/svg+xml":
        return "svg"
    return mime.split("/", 1)[0]


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        # Transparent areas become white, as a browser shows them on a white page.
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return img.convert("RGB")


def _to_mode(img: Image.Image, mode: str) -> Image.Image:
    rgb = _to_rgb(img) if img.mode != "L" else img
    return rgb if rgb.mode == mode else rgb.convert(mode)


def _dct_scale(width: int, height: int, min_side: int) -> int:
    """The largest JPEG DCT scale denominator (8, 4, 2 or 1) that keeps both sides >= min_side."""
    for scale in (8, 4, 2):
        if min(-(-width // scale), -(-height // scale)) >= min_side:
            return scale
    return 1


def _decode_image(
    data: bytes,
    mime: str,
    max_pixels: int,
    draft_size: int | None,
    mode: str = "RGB",
    min_side: int | None = None,
) -> DecodedMedia:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data))
            width, height = img.size
            if width <= 0 or height <= 0:
                raise DecodeError("image has no pixels", "decode_empty")
            if width * height > max_pixels:
                raise DecodeError("image too large (decompression bomb)", "decode_too_large")
            drafted = None
            if img.format == "JPEG" and min_side:
                # Stage 1 needs only coarse pixels: at 1/8 each pixel is an 8x8 block's
                # mean (its DC coefficient), and libjpeg does no IDCT of AC coefficients.
                denominator = _dct_scale(width, height, min_side)
                drafted = img.draft(mode, (width // denominator, height // denominator))
            elif img.format == "JPEG" and (mode == "L" or (draft_size and max(width, height) > draft_size)):
                # DCT-domain downscaling: decodes a 1/2, 1/4 or 1/8 size image directly,
                # never below draft_size on the long side. In "L" mode libjpeg also skips
                # the colour planes' IDCT, upsampling and colour conversion (JPEG's Y is luma).
                ratio = min(1.0, draft_size / max(width, height)) if draft_size else 1.0
                drafted = img.draft(mode, (max(1, int(width * ratio)), max(1, int(height * ratio))))
            # Pillow answers with the decoded area in 1/scale units (None: not drafted).
            scale = round(width / drafted[1][2]) if drafted else 1
            orientation = img.getexif().get(0x0112, 1)
            img.load()
            if orientation in (2, 3, 4, 5, 6, 7, 8):
                img = ImageOps.exif_transpose(img) or img
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            frame = _to_mode(img, mode)
    except DecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecodeError("image too large (decompression bomb)", "decode_too_large") from exc
    except MemoryError as exc:
        raise DecodeError("image too large (decompression bomb)", "decode_too_large") from exc
    except Image.UnidentifiedImageError as exc:
        # The magic bytes said image, but nothing behind them decodes.
        raise DecodeError(f"corrupt {mime.split('/', 1)[1].upper()}", "decode_corrupt") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        msg = str(exc).lower()
        kind = mime.split("/", 1)[1].upper()
        if "truncated" in msg or "premature" in msg or isinstance(exc, EOFError):
            raise DecodeError(f"truncated {kind}", "decode_truncated") from exc
        raise DecodeError(f"corrupt {kind}", "decode_corrupt") from exc
    return DecodedMedia(
        kind="image", mime=mime, width=width, height=height, frames=[frame], scale=scale,
        orientation=orientation if orientation in (2, 3, 4, 5, 6, 7, 8) else 1,
    )  # fmt: skip


@dataclass
class JpegBlocks:
    """A JPEG decoded luma-only at 1/scale in the DCT domain (``decode_jpeg_blocks``)."""

    pixels: np.ndarray  # uint8 (h, w), or (h, w, 3) in RGB, as shown (EXIF orientation applied)
    width: int  # the shown image's size in file pixels
    height: int
    # Each pixel is the mean of a scale x scale block of the file's pixels, counted from the
    # stored top-left corner before ``orientation`` (EXIF, 1-8) was applied.
    scale: int
    orientation: int


# EXIF orientations 2-8 as ImageOps.exif_transpose applies them, on numpy arrays (h, w) or
# (h, w, 3).
_TRANSPOSE = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


_BYTE_ORDERS: dict[bytes, Literal["little", "big"]] = {b"II": "little", b"MM": "big"}
_U16 = struct.Struct(">H")


def _tiff_orientation(tiff: bytes) -> int | None:
    """Tag 0x0112 of an EXIF block's first IFD (1 when absent), or None when anything about it
    is unusual (then Pillow reads it)."""
    order = _BYTE_ORDERS.get(tiff[:2])
    if order is None or len(tiff) < 8 or int.from_bytes(tiff[2:4], order) != 42:
        return None
    ifd = int.from_bytes(tiff[4:8], order)
    if ifd < 8 or ifd + 2 > len(tiff):
        return None
    count = int.from_bytes(tiff[ifd : ifd + 2], order)
    if ifd + 2 + 12 * count > len(tiff):
        return None
    found = []
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        if int.from_bytes(tiff[entry : entry + 2], order) == 0x0112:
            # SHORT (3), one value, stored in the entry itself.
            if tiff[entry + 2 : entry + 8] != (3).to_bytes(2, order) + (1).to_bytes(4, order):
                return None
            found.append(int.from_bytes(tiff[entry + 8 : entry + 10], order))
    if not found:
        return 1
    return found[0] if len(found) == 1 and 1 <= found[0] <= 8 else None


def _jpeg_orientation(data: bytes) -> int | None:
    """The EXIF orientation Pillow's ``getexif()`` would report for this JPEG (1 when none), read
    from the markers before the first scan; None for anything it might read otherwise (XMP,
    fill bytes, odd markers): then Pillow is asked. Saves opening the file with Pillow."""
    pos, end = 2, len(data)
    orientation = 1
    seen_exif = False
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the pixels follow
            return orientation
        if marker in (0xFF, 0xD8, 0xD9, 0x01) or 0xD0 <= marker <= 0xD7:
            return None
        (length,) = _U16.unpack_from(data, pos + 2)  # no slice copied: this runs per marker
        if length < 2:
            return None
        if marker == 0xE1:
            segment = data[pos + 4 : pos + 2 + length]
            if not segment.startswith(b"Exif\x00\x00"):
                return None  # XMP may carry an orientation too
            if not seen_exif:  # Pillow keeps the first
                seen_exif = True
                found = _tiff_orientation(segment[6:])
                if found is None:
                    return None
                orientation = found
        pos += 2 + length
    return None


def _draft_scale(width: int, height: int, draft_size: int) -> int:
    """The DCT scale Pillow's ``draft`` picks when ``_decode_image`` asks for draft_size (its
    JpegImagePlugin: the largest of 8, 4, 2, 1 within both sides' integer ratios)."""
    ratio = min(1.0, draft_size / max(width, height))
    ratios = min(width // max(1, int(width * ratio)), height // max(1, int(height * ratio)))
    return next(s for s in (8, 4, 2, 1) if ratios >= s)


def decode_jpeg_blocks(
    data: bytes,
    *,
    min_side: int | None = None,
    draft_size: int | None = None,
    mode: str = "L",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> JpegBlocks | None:
    """A JPEG decoded at the DCT scale ``decode_media`` would use for ``min_side`` (the smallest
    of 1/8, 1/4, 1/2 or full that keeps both sides >= min_side) or for ``draft_size`` (Pillow's
    draft), in ``mode`` "L" (luma only) or "RGB"; or None when it is not that kind of JPEG
    (or damaged in any way): then ``decode_media`` decides, and words any error.

    libjpeg-turbo through simplejpeg straight into a numpy array: the same decode as Pillow's
    draft mode (the same pixels, tested) without Pillow's per-file parsing, decoder set-up and
    copy into an Image, which together cost about as much as stage 1's hashing."""
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    try:
        # Imported here: a virtualenv made before simplejpeg was added (uv sync fixes it) still
        # imports this module, and stage 1 then decodes through Pillow - the same pixels, slower.
        import simplejpeg
    except ImportError:  # pragma: no cover - pinned in uv.lock
        return None
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
        limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
        if colorspace not in ("YCbCr", "Gray") or not 0 < width * height <= limit:
            return None  # CMYK and the like; what decode_media refuses
        if min_side is not None:
            scale = _dct_scale(width, height, min_side)
        else:
            scale = _draft_scale(width, height, draft_size) if draft_size else 1
        shape = (-(-height // scale), -(-width // scale))
        # strict: libjpeg's warnings (truncated or damaged data) raise instead of grey blocks.
        pixels = simplejpeg.decode_jpeg(
            data, "GRAY" if mode == "L" else "RGB", min_height=shape[0], min_width=shape[1], strict=True
        )
    except (ValueError, TypeError, OverflowError, MemoryError):
        return None
    if mode == "L":
        pixels = pixels.reshape(pixels.shape[:2])
    if pixels.shape[:2] != shape:
        return None
    orientation = _jpeg_orientation(data)
    if orientation is None:
        try:
            orientation = int(Image.open(io.BytesIO(data)).getexif().get(0x0112, 1))
        except Exception:  # Pillow's own parsing errors: decode_media words them
            return None
    if orientation in _TRANSPOSE:
        pixels = np.ascontiguousarray(_TRANSPOSE[orientation](pixels))
        if orientation >= 5:
            width, height = height, width
    else:
        orientation = 1
    return JpegBlocks(pixels=pixels, width=width, height=height, scale=scale, orientation=orientation)


def video_stream(container: Any, max_pixels: int) -> Any:
    """The container's first video stream, refused before decoding when its frames are too large.

    Shared by keyframe extraction and vPDQ so both refuse the same files with the same codes.
    """
    if not container.streams.video:
        raise DecodeError("no video stream", "decode_corrupt")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    width = stream.codec_context.width or 0
    height = stream.codec_context.height or 0
    if width * height > max_pixels:
        raise DecodeError("video frame too large", "decode_too_large")
    return stream


# Given the video stream, returns the function that takes each decoded frame (number in decoding
# order, PyAV frame) and answers False when it wants no more (vpdq.VpdqFrames.start).
FrameSink = Callable[[Any], Callable[[int, Any], bool]]


def _decode_video(
    data: bytes,
    mime: str,
    max_pixels: int,
    max_frames: int,
    max_video_seconds: float,
    mode: str = "RGB",
    frame_sink: FrameSink | None = None,
) -> DecodedMedia:
    import av  # imported lazily: FFmpeg start-up is only paid for videos

    frames: list[Image.Image] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = video_stream(container, max_pixels)
            offer = frame_sink(stream) if frame_sink is not None else None
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration:
                duration = container.duration / 1_000_000
            interval = VIDEO_FRAME_INTERVAL
            if duration and duration > 0:
                # Spread the frame budget over the part of the video we look at.
                interval = max(interval, min(duration, max_video_seconds) / max(max_frames, 1))
            last_taken: float | None = None
            picking = True
            for number, frame in enumerate(container.decode(stream)):
                t = float(frame.time) if frame.time is not None else 0.0
                if picking and t > max_video_seconds:
                    picking = False
                elif picking:
                    if frame.width * frame.height > max_pixels:
                        raise DecodeError("video frame too large", "decode_too_large")
                    take = last_taken is None or t - last_taken >= interval
                    # Keyframes are often scene cuts; keep them unless they crowd the budget.
                    if not take and frame.key_frame and t - (last_taken or 0.0) >= interval / 4:
                        take = True
                    if take:
                        frames.append(frame.to_image().convert(mode))
                        last_taken = t
                        picking = len(frames) < max_frames
                # The same decoding also feeds the frame sink (vPDQ), which may want frames past
                # the last keyframe: the video is decoded once for both.
                if offer is not None and not offer(number, frame):
                    offer = None
                if not picking and offer is None:
                    break
    except DecodeError:
        raise
    except MemoryError as exc:
        raise DecodeError("video too large", "decode_too_large") from exc
    except Exception as exc:  # PyAV raises many FFmpeg error classes
        if frames:  # a truncated video still gave us something worth matching
            pass
        else:
            raise DecodeError(f"corrupt or truncated video ({type(exc).__name__})", "decode_corrupt") from exc
    if not frames:
        raise DecodeError("video has no decodable frames", "decode_corrupt")
    return DecodedMedia(
        kind="video", mime=mime, width=frames[0].width, height=frames[0].height, frames=frames
    )


def decode_media(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int = DEFAULT_MAX_FRAMES,
    max_video_seconds: float = DEFAULT_MAX_VIDEO_SECONDS,
    draft_size: int | None = DEFAULT_DRAFT_SIZE,
    mode: str = "RGB",
    min_side: int | None = None,
    frame_sink: FrameSink | None = None,
) -> DecodedMedia:
    """Decode an image or video held in memory; raise ``DecodeError`` for anything unusable.

    ``draft_size``: JPEGs larger than this are decoded directly at a reduced scale (never
    below this size on either side); pass None for full resolution.
    ``min_side``: instead, JPEGs are decoded at the smallest DCT scale (down to 1/8) that
    keeps both sides >= min_side; ``DecodedMedia.scale`` says which.
    ``mode``: "RGB" frames, or "L" (luma) for hashing and features, which never look at colour.
    ``frame_sink``: videos only, given every frame the keyframes are decoded from, and more if it
    asks (see ``FrameSink``); it must not raise. Its frames are lost if this raises.
    """
    if mode not in ("RGB", "L"):
        raise ValueError("mode is 'RGB' or 'L'")
    # WeasyPrint turns this global on when it is imported (same worker process, notice PDFs);
    # a half-downloaded image must still be an error here, so it is reset on every call.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    if not data:
        raise DecodeError("empty file", "decode_empty")
    mime = sniff_mime(data)
    if mime is None:
        raise DecodeError("not an image or video", "not_media")
    if mime == "image/svg+xml":
        # SVG can carry scripts and external references; we never render it.
        raise DecodeError("SVG images are not supported", "svg")
    if mime.startswith("video/"):
        return _decode_video(data, mime, max_pixels, max_frames, max_video_seconds, mode, frame_sink)
    return _decode_image(data, mime, max_pixels, draft_size, mode, min_side)
