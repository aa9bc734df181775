"""Stage 1 against imagehash.phash in CPU instructions (valgrind callgrind): a ratio that the
machine's load cannot move, beside bench/matching_speed.py's wall-clock one.

Each method runs in its own process under callgrind over the photos-dev JPEGs: one warm-up
pass (caches, imports), then one counted pass between two marker calls (callgrind dumps its
counters at each). Printed: instructions per image, and each against imagehash.phash.

    .venv/bin/python bench/stage1_instructions.py [--photos DIR] [--jobs 2] [--methods a,b]

Needs valgrind (apt install valgrind); ~2 min per method on an idle core.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos-dev"
if not DEFAULT_PHOTOS.exists():
    DEFAULT_PHOTOS = Path("/work/shared/data/photos-dev")

LABELS = {
    "phash": "imagehash.phash (Image.open + full RGB decode + phash)",
    "stage1": "Jium stage 1 (fast): luma at reduced DCT scale + PDQ + trimmed PDQ",
    "stage1_exact": "Jium stage 1, Meta-exact hashes (luma >= 512 px + PDQ + trimmed PDQ)",
    "phash_decode": "  decode only: Image.open + full RGB decode (phash's)",
    "stage1_pillow": "Jium stage 1 decoded through Pillow (its draft mode), as before simplejpeg",
    "stage1_decode": "  decode only: stage1_decode, luma at reduced DCT scale (stage 1's)",
    "jpeg_dc": "  floor: Image.open + libjpeg luma at 1/8 (entropy decoding of every block)",
    "jpeg_dc_sj": "  floor: simplejpeg luma at 1/8 (entropy decoding of every block)",
    "phash_hash": "  hashing only: imagehash.phash on the decoded image",
    "stage1_hash": "  hashing only: stage1_of_decoded on the decoded blocks",
}


def _child(method: str, photos: Path) -> None:
    import cv2
    import imagehash
    import simplejpeg
    from PIL import Image

    from app.matching.decode import decode_media
    from app.matching.fingerprint import PDQ_SIDE, fingerprint_hash_only_bytes
    from app.matching.stage1 import MIN_SIDE, fingerprint_stage1_bytes, stage1_of_decoded
    from app.matching.stage1 import stage1_decode as stage1_decode_bytes

    cv2.setNumThreads(1)
    blobs = [p.read_bytes() for p in sorted(photos.iterdir()) if p.suffix.lower() in {".jpg", ".jpeg"}]

    def decoded_rgb(b: bytes) -> Image.Image:
        img = Image.open(io.BytesIO(b))
        img.load()
        return img

    def stage1_decode(b: bytes) -> object:
        return stage1_decode_bytes(b)

    def jpeg_dc(b: bytes) -> None:
        img = Image.open(io.BytesIO(b))
        img.draft("L", (img.width // 8, img.height // 8))
        img.load()

    def jpeg_dc_sj(b: bytes) -> None:
        simplejpeg.decode_jpeg(b, "GRAY", min_height=1, min_width=1)

    def stage1_pillow(b: bytes) -> object:
        fps = stage1_of_decoded(decode_media(b, draft_size=PDQ_SIDE, mode="L", min_side=MIN_SIDE))
        return fingerprint_hash_only_bytes(b) if fps is None else fps

    items: list[object] = list(blobs)
    fn: Callable[[object], object]
    if method == "phash":
        fn = lambda b: imagehash.phash(Image.open(io.BytesIO(b)))  # type: ignore[arg-type]  # noqa: E731
    elif method == "stage1":
        fn = fingerprint_stage1_bytes  # type: ignore[assignment]
    elif method == "stage1_exact":
        fn = fingerprint_hash_only_bytes  # type: ignore[assignment]
    elif method == "phash_decode":
        fn = decoded_rgb  # type: ignore[assignment]
    elif method == "stage1_decode":
        fn = stage1_decode  # type: ignore[assignment]
    elif method == "jpeg_dc":
        fn = jpeg_dc  # type: ignore[assignment]
    elif method == "jpeg_dc_sj":
        fn = jpeg_dc_sj  # type: ignore[assignment]
    elif method == "stage1_pillow":
        fn = stage1_pillow  # type: ignore[assignment]
    elif method == "phash_hash":
        items = [decoded_rgb(b) for b in blobs]
        fn = imagehash.phash
    elif method == "stage1_hash":
        items = [stage1_decode(b) for b in blobs]
        fn = stage1_of_decoded  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown method {method}")
    for x in items:
        fn(x)
    os.getpgrp()  # marker: callgrind dumps (and resets) its counters here
    for x in items:
        fn(x)
    os.getsid(0)  # marker: this dump holds the counted pass only
    print(len(items))


def _measure(method: str, photos: Path, workdir: str) -> tuple[int, int]:
    out = os.path.join(workdir, f"cg.{method}")
    proc = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--dump-before=getpgrp", "--dump-before=getsid",
            f"--callgrind-out-file={out}", sys.executable, __file__, "--child", method, "--photos", str(photos),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    n = int(proc.stdout.strip().splitlines()[-1])
    for name in sorted(os.listdir(workdir)):
        if not name.startswith(f"cg.{method}."):
            continue
        text = Path(workdir, name).read_text(errors="replace")
        if "Trigger: --dump-before=getsid" in text:
            m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            assert m is not None
            return int(m.group(1)), n
    raise RuntimeError(f"no counted dump for {method}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--methods", default=",".join(LABELS))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.photos)
        return
    methods = args.methods.split(",")
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(args.jobs) as pool:
        results = dict(
            zip(methods, pool.map(lambda m: _measure(m, args.photos, workdir), methods), strict=True)
        )
    per_image = {m: instr / n for m, (instr, n) in results.items()}
    n = next(iter(results.values()))[1]
    print(f"CPU instructions per image (callgrind), {n} photos-dev JPEGs, one counted pass after a warm-up:")
    print("| method | instructions/image | vs imagehash.phash |")
    print("|---|---:|---:|")
    for m in methods:
        base = {
            "phash_decode": "phash_decode",
            "stage1_decode": "phash_decode",
            "jpeg_dc": "phash_decode",
            "jpeg_dc_sj": "phash_decode",
        }.get(m)
        if m in ("phash_hash", "stage1_hash"):
            base = "phash_hash"
        base = base or "phash"
        ratio = f"{per_image[base] / per_image[m]:.2f}x" if base in per_image else "-"
        if base != "phash":
            ratio += f" (vs {base})" if base in per_image else ""
        print(f"| {LABELS[m]} | {per_image[m] / 1e6:.2f} M | {ratio} |")


if __name__ == "__main__":
    main()
