"""What vPDQ adds to keyframe matching on videos, and what it costs per second of video.

    nice .venv/bin/python bench/video_matching.py [--seconds 16] [--fps 20]

Reference videos are made with PyAV from photos-dev (slow pans over ordinary photos, 4 s a
scene), once starting on a picture and once fading in from black for a second, as many real
videos do. Each is edited the ways reposts are (re-encoded to VP9 at another frame rate,
trimmed, scaled down, cropped, mirrored, letterboxed, inside a longer video) and each edit is
looked for three ways:

* keyframes, today: the reference is its first frame (``decode_media(max_frames=1)``), the
  fetched video's keyframes go through the image matcher (PDQ, rotations/flips, trimmed PDQ, ORB);
* keyframes, best frame: the reference is its most detailed keyframe (what uploads do now);
* vPDQ as Meta specifies it: a PDQ hash a second on both sides, Jium's rule (80 % of either);
* Jium's vPDQ: the same, but the reference is also hashed between those frames, 5 frames a second
  (``vpdq_hash_reference``), so cuts that start between two of its frames still line up.

Unrelated videos (other photos) check that none of the three matches what it should not.
Costs: hashing a second of video (vPDQ) against reading the keyframes and fingerprinting them
for the image matcher (what every fetched video already pays), at two frame sizes, in the same
run; and one vPDQ comparison of two ten-minute hashes. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")

import av  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from app.matching.decode import decode_media  # noqa: E402
from app.matching.engine import Matcher  # noqa: E402
from app.matching.fingerprint import fingerprint_candidate, fingerprint_reference, pdq_hash  # noqa: E402
from app.matching.vpdq import (  # noqa: E402
    VpdqFeature,
    VpdqMatcher,
    vpdq_compare,
    vpdq_hash_reference,
    vpdq_hash_video,
)

PHOTOS = REPO.parent / "shared" / "data" / "photos-dev"
if not PHOTOS.is_dir():
    PHOTOS = Path("/work/shared/data/photos-dev")

Frames = Iterator[Image.Image]


def _photos() -> list[Path]:
    return sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def scenes(
    paths: list[Path], *, seconds: int, fps: int, size: tuple[int, int], fade_in: bool
) -> list[Image.Image]:
    """Slow pans over photos, 4 s a scene; with ``fade_in`` the first second rises from black."""
    w, h = size
    frames: list[Image.Image] = []
    per_scene = 4 * fps
    for i in range(seconds * fps):
        k = i // per_scene
        photo = Image.open(paths[k % len(paths)]).convert("RGB").resize((int(w * 1.25), int(h * 1.25)))
        step = i % per_scene
        x = int((photo.width - w) * step / per_scene)
        y = int((photo.height - h) * step / per_scene / 2)
        frame = photo.crop((x, y, x + w, y + h))
        if fade_in and i < fps:
            frame = Image.blend(Image.new("RGB", (w, h)), frame, i / fps)
        frames.append(frame)
    return frames


def encode(
    frames: list[Image.Image], *, fps: int, fmt: str = "mp4", codec: str = "libx264", crf: int = 23
) -> bytes:
    out = io.BytesIO()
    w, h = frames[0].size
    with av.open(out, mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps, options={"crf": str(crf)})
        stream.width, stream.height, stream.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        for img in frames:
            if img.size != (stream.width, stream.height):
                img = img.crop((0, 0, stream.width, stream.height))
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def edits(frames: list[Image.Image], others: list[Image.Image], fps: int) -> dict[str, Callable[[], bytes]]:
    w, h = frames[0].size
    n = len(frames)

    def crop(img: Image.Image) -> Image.Image:
        return img.crop((w // 10, h // 10, w - w // 10, h - h // 10)).resize((w, h))

    def letterbox(img: Image.Image) -> Image.Image:
        canvas = Image.new("RGB", (w, h))
        small = img.resize((w * 3 // 4, h * 3 // 4))
        canvas.paste(small, ((w - small.width) // 2, (h - small.height) // 2))
        return canvas

    # Another frame rate: every 5th frame dropped (4/5 of the rate), as a re-upload would.
    slower = [f for i, f in enumerate(frames) if i % 5 != 4]
    return {
        "same file re-encoded (H.264, lower quality)": lambda: encode(frames, fps=fps, crf=35),
        "re-encoded VP9 WebM, 4/5 of the frame rate": lambda: encode(
            slower, fps=fps * 4 // 5, fmt="webm", codec="libvpx-vp9"
        ),
        # A cut starting on a whole second keeps Meta's 1-a-second frames in step; most cuts do not.
        "trimmed (middle third, from a whole second)": lambda: encode(
            frames[n // 3 - n // 3 % fps : 2 * n // 3], fps=fps
        ),
        "trimmed (middle third, from any frame)": lambda: encode(
            frames[n // 3 + fps // 2 : 2 * n // 3], fps=fps
        ),
        "scaled to half size": lambda: encode([f.resize((w // 2, h // 2)) for f in frames], fps=fps),
        "cropped 10 % each side": lambda: encode([crop(f) for f in frames], fps=fps),
        "mirrored": lambda: encode([ImageOps.mirror(f) for f in frames], fps=fps),
        "letterboxed (black bars)": lambda: encode([letterbox(f) for f in frames], fps=fps),
        "inside a 3x longer video": lambda: encode(others[:n] + frames + others[n : 2 * n], fps=fps),
    }


def keyframe_matches(matcher: Matcher, data: bytes) -> bool:
    media = decode_media(data)
    return any(matcher.match(fingerprint_candidate(frame)) is not None for frame in media.frames)


def best_frame(data: bytes) -> Image.Image:
    frames = decode_media(data).frames
    return max(frames, key=lambda f: pdq_hash(f)[1])


def _timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=16)
    parser.add_argument("--fps", type=int, default=20)
    args = parser.parse_args()
    fps, seconds = args.fps, args.seconds
    photos = _photos()
    print(f"load: {os.getloadavg()[0]:.1f} (1-min average, {os.cpu_count()} CPUs)")
    print(f"videos: {seconds} s at {fps} fps, 640x360, 4 s a scene, photos-dev\n")

    rows: list[tuple[str, str, list[bool]]] = []
    columns = ("today", "best", "vPDQ 1/s", "Jium")
    for label, fade in (("starts on a picture", False), ("fades in from black", True)):
        ref_frames = scenes(photos[0:12], seconds=seconds, fps=fps, size=(640, 360), fade_in=fade)
        other_frames = scenes(photos[40:60], seconds=2 * seconds, fps=fps, size=(640, 360), fade_in=False)
        reference = encode(ref_frames, fps=fps)
        first = decode_media(reference, max_frames=1).frames[0]
        today = Matcher([("ref", fingerprint_reference(first))])
        best = Matcher([("ref", fingerprint_reference(best_frame(reference)))])
        ref_hash = vpdq_hash_video(reference)
        meta = VpdqMatcher([("ref", ref_hash)])  # Meta's vPDQ: a frame a second on both sides
        main_hash, between = vpdq_hash_reference(reference)
        assert main_hash == ref_hash
        jium = VpdqMatcher([("ref", ref_hash)], {"ref": between})  # references: 5 frames a second
        cases = edits(ref_frames, other_frames, fps)
        unrelated = other_frames[: len(ref_frames)]
        cases["unrelated video (other photos)"] = lambda u=unrelated: encode(u, fps=fps)
        cases["unrelated, similar photos (next ones in the set)"] = lambda f=fade: encode(
            scenes(photos[12:24], seconds=seconds, fps=fps, size=(640, 360), fade_in=f), fps=fps
        )
        for name, make in cases.items():
            data = make()
            cand_hash = vpdq_hash_video(data)
            found = [
                keyframe_matches(today, data),
                keyframe_matches(best, data),
                meta.match(cand_hash) is not None,
                jium.match(cand_hash) is not None,
            ]
            rows.append((label, name, found))
            c = vpdq_compare(cand_hash, ref_hash)
            j = vpdq_compare(cand_hash, ref_hash, compared_between=between)
            print(
                f"  {label:20} {name:48} "
                + " ".join(
                    f"{col}={'yes' if hit else 'no':3}" for col, hit in zip(columns, found, strict=True)
                )
                + f"  video/reference %: 1/s {c.query_percent:3.0f}/{c.compared_percent:3.0f}"
                + f", Jium {j.query_percent:3.0f}/{j.compared_percent:3.0f}"
            )

    print("\nfound (should: every edit; should not: the two unrelated videos)")
    print(f"  {'reference video':20} {'':48} " + " ".join(f"{c:>9}" for c in columns))
    for label in ("starts on a picture", "fades in from black"):
        mine = [r for r in rows if r[0] == label]
        should = [r for r in mine if not r[1].startswith("unrelated")]
        wrong = [r for r in mine if r[1].startswith("unrelated")]
        counts = [sum(r[2][i] for r in should) for i in range(4)]
        false = [sum(r[2][i] for r in wrong) for i in range(4)]
        print(
            f"  {label:20} {'edits found (of ' + str(len(should)) + ')':48} "
            + " ".join(f"{c:>9}" for c in counts)
        )
        print(
            f"  {label:20} {'unrelated matched (of ' + str(len(wrong)) + ')':48} "
            + " ".join(f"{c:>9}" for c in false)
        )
    edits_rows = [r for r in rows if not r[1].startswith("unrelated")]
    either = sum(1 for r in edits_rows if r[2][1] or r[2][3])
    only_v = [f"{r[0]}: {r[1]}" for r in edits_rows if r[2][3] and not r[2][1]]
    only_k = [f"{r[0]}: {r[1]}" for r in edits_rows if r[2][1] and not r[2][3]]
    print(f"\n  best keyframe or Jium's vPDQ: {either} of {len(edits_rows)} edits")
    print("  only vPDQ finds: " + ("; ".join(only_v) or "none"))
    print("  only keyframes find: " + ("; ".join(only_k) or "none"))

    print("\ncost per second of video (best of 3, same run)")
    for size in ((640, 360), (1280, 720)):
        frames = scenes(photos[0:4], seconds=12, fps=30, size=size, fade_in=False)
        data = encode(frames, fps=30)
        t_v = _timed(lambda data=data: vpdq_hash_video(data))
        t_r = _timed(lambda data=data: vpdq_hash_reference(data))
        t_k = _timed(lambda data=data: [fingerprint_candidate(f) for f in decode_media(data).frames])
        t_d = _timed(lambda data=data: decode_media(data))
        print(
            f"  {size[0]}x{size[1]} 30 fps: vPDQ {t_v / 12 * 1000:6.1f} ms/s   keyframes read {t_d / 12 * 1000:6.1f} ms/s"
            f"   keyframes read + fingerprinted {t_k / 12 * 1000:6.1f} ms/s   vPDQ / keyframes {t_v / t_k:4.2f}x"
            f"   reference (5 a second) {t_r / 12 * 1000:6.1f} ms/s"
        )
    rng = np.random.default_rng(1)
    ten_min = [VpdqFeature(i, 100, rng.bytes(32), float(i)) for i in range(600)]
    other = [VpdqFeature(i, 100, rng.bytes(32), float(i)) for i in range(600)]
    t_c = _timed(lambda: vpdq_compare(ten_min, other), repeat=5)
    print(f"  one comparison of two 600-frame (10 min) hashes: {t_c * 1000:.1f} ms")
    print(f"  storage: 41 bytes a frame (10 min: {41 * 600 / 1024:.0f} KB before encryption)")
    print(f"\nload after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
