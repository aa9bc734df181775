"""Fingerprints made in the browser (/fingerprint/ page) against the server's, in real Chromium.

Starts Jium's web server on a free port (throw-away SQLite data folder), drives Debian's
chromium through Playwright and prints:

1. PDQ and band-hash (bands.py) bits of difference, browser vs server, on every photo of
   photos-dev and on Meta's PDQ reference vectors (browser decoding end to end), and on the same
   decoded pixels (the server's decoded RGB handed to the browser's code);
2. matching recall and false matches on the photos-dev accuracy bench (bench/matching_accuracy.py
   transformations, undress_edit included) with browser-made reference fingerprints vs
   server-made ones, and browser-made ones without their band hashes, same candidates;
3. browser time per photo for a 12-megapixel and a 1-megapixel JPEG (both levels), and what the
   band hashes add to it (the same pixels fingerprinted with and without them);
4. page weight (JS/WASM bytes downloaded) and time to first fingerprint on a cold load.

    .venv/bin/python bench/device_fingerprints.py [--photos DIR] [--skip-accuracy] [--mirrored]
        [--only undress_edit,...]
"""

from __future__ import annotations

import argparse
import base64
import csv
import dataclasses
import io
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from matching_accuracy import DEFAULT_PHOTOS, MIRRORED, TRANSFORMS, split  # noqa: E402

from app.matching.bands import MIN_QUALITY, N_BANDS  # noqa: E402
from app.matching.decode import decode_media  # noqa: E402
from app.matching.engine import Matcher  # noqa: E402
from app.matching.fingerprint import (  # noqa: E402
    Fingerprint,
    candidate_face_boxes,
    fingerprint_candidate,
    fingerprint_reference,
)

PDQ_REFERENCE = Path("/work/shared/data/pdq-reference")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FILE_JS = """async ([b64, name, level]) => {
  const bin = atob(b64); const a = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
  return await window.Jium.fingerprintFile(new File([a], name), {level: level || 'features'});
}"""
# The browser's own code (core.js + OpenCV.js) on pixels decoded by the server (Pillow): PDQ
# and the band hashes of the picture shrunk for PDQ, as fingerprintPixels computes them.
PIXELS_JS = """async ([b64, w, h]) => {
  const cv = await window.cv;
  const bin = atob(b64); const a = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
  const J = window.JiumCore;
  const fp = J.fingerprintPixels(cv, a, w, h, {level: 'hash'});
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0, j = 0; i < a.length; i += 4, j += 3) { rgb[j] = a[i]; rgb[j + 1] = a[i + 1]; rgb[j + 2] = a[i + 2]; }
  const small = J.shrinkRGB(cv, rgb, w, h, 512);
  const b = J.bandHashes(cv, small.rgb, small.w, small.h);
  return [J.hex(fp.pdq), J.hex(b.hashes), Array.from(b.qualities)];
}"""
# The worker's own path (createImageBitmap, canvas, fingerprintPixels) in the page, timed with and
# without band hashes on the same decoded pixels: what the bands add to a photo's time.
BANDS_COST_JS = """async ([b64, runs]) => {
  const cv = await window.cv;
  const bin = atob(b64); const a = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
  const bitmap = await createImageBitmap(new Blob([a], {type: 'image/jpeg'}),
    {imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none'});
  const w = bitmap.width, h = bitmap.height;
  const canvas = new OffscreenCanvas(w, h), ctx = canvas.getContext('2d', {willReadFrequently: true});
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, w, h); ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const J = window.JiumCore, out = {with: [], without: [], bands: []};
  for (let r = 0; r < runs; r++) {
    for (const bands of [true, false]) {
      const t0 = performance.now();
      J.fingerprintPixels(cv, rgba, w, h, {level: 'features', jpeg: true, bands: bands});
      out[bands ? 'with' : 'without'].push(performance.now() - t0);
    }
  }
  // The band hashes alone, on the picture shrunk for PDQ (what fingerprintPixels hands them).
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) { rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2]; }
  const small = J.shrinkRGB(cv, rgb, w, h, 512);
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    J.bandHashes(cv, small.rgb, small.w, small.h);
    out.bands.push(performance.now() - t0);
  }
  return out;
}"""


def bits(a: bytes, b: bytes) -> int:
    return int(np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())


def band_bits(a: Fingerprint | tuple[bytes, bytes], b: Fingerprint) -> tuple[list[int], list[int]]:
    """Bits of difference of each band that counts (quality >= MIN_QUALITY on the server), and the
    quality difference of every band."""
    hashes, qualities = (a.bands, a.band_qualities) if isinstance(a, Fingerprint) else a
    if len(hashes) != 32 * N_BANDS:
        return [], []
    used = [
        bits(hashes[32 * k : 32 * (k + 1)], b.bands[32 * k : 32 * (k + 1)])
        for k in range(N_BANDS)
        if b.band_qualities[k] >= MIN_QUALITY
    ]
    return used, [abs(int(x) - int(y)) for x, y in zip(qualities, b.band_qualities, strict=True)]


def band_summary(values: list[int], qualities: list[int]) -> str:
    if not values:
        return "n/a"
    same = sum(v == 0 for v in values) / len(values)
    return (
        f"median {statistics.median(values):g}, max {max(values)}, {100 * same:.1f}% identical, "
        f"{100 * sum(v <= 31 for v in values) / len(values):.1f}% within 31 bits (n={len(values)} bands of "
        f"quality >= {MIN_QUALITY}); quality bytes: max difference {max(qualities)}, "
        f"{100 * sum(q == 0 for q in qualities) / len(qualities):.1f}% equal (n={len(qualities)})"
    )


def summary(values: list[int]) -> str:
    if not values:
        return "n/a"
    within = sum(v <= 10 for v in values) / len(values)
    return (
        f"median {statistics.median(values):g}, max {max(values)}, "
        f"{100 * within:.1f}% within 10 bits (n={len(values)})"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_"))}
    env["JIUM_DATA_DIR"] = data_dir
    py = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    proc = subprocess.Popen(
        [py, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(200):
        try:
            if httpx.get(base + "/fingerprint/", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("web server did not start")


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def open_page(browser: Any, url: str, *, bypass_csp: bool = False) -> tuple[Any, Any, dict[str, Any]]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=bypass_csp)
    page = context.new_page()
    page.set_default_timeout(120_000)
    weight = {"js": 0, "other": 0}

    def on_response(response: Any) -> None:
        try:
            size = len(response.body())
        except Exception:  # redirects and failed loads have no body
            return
        kind = "js" if response.url.endswith((".js", ".wasm")) else "other"
        weight[kind] += size

    context.on("response", on_response)
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("#fp-status.ready")
    weight["ready_s"] = time.perf_counter() - t0
    weight["t0"] = t0
    return context, page, weight


def browser_fp(page: Any, data: bytes, name: str, level: str = "features") -> dict[str, Any]:
    return dict(page.evaluate(FILE_JS, [base64.b64encode(data).decode(), name, level]))


def pdq_parity(page: Any, pixel_page: Any, photos: list[Path]) -> dict[str, Fingerprint]:
    """Browser vs server PDQ on every photo; returns the browser-made reference fingerprints."""
    end_to_end, same_pixels, device = [], [], {}
    bands_end: list[int] = []
    bands_same: list[int] = []
    quality_end: list[int] = []
    quality_same: list[int] = []
    same_points: list[float] = []
    same_desc: list[float] = []
    for path in photos:
        data = path.read_bytes()
        frame = decode_media(data).frames[0]
        server = fingerprint_reference(frame)
        fp = browser_fp(page, data, path.name)
        made = Fingerprint.from_bytes(base64.b64decode(fp["fingerprint"]))
        device[path.name] = made
        end_to_end.append(bits(made.pdq, server.pdq))
        used, qd = band_bits(made, server)
        bands_end += used
        quality_end += qd
        for mine, theirs, desc_mine, desc_theirs in (
            (made.keypoints, server.keypoints, made.descriptors, server.descriptors),
            (
                made.mirror_keypoints,
                server.mirror_keypoints,
                made.mirror_descriptors,
                server.mirror_descriptors,
            ),
        ):
            at = {tuple(xy): i for i, xy in enumerate(np.round(mine * 4).astype(int))}
            shared = [
                (at[tuple(xy)], j) for j, xy in enumerate(np.round(theirs * 4).astype(int)) if tuple(xy) in at
            ]
            same_points.append(len(shared) / max(len(theirs), 1))
            same_desc.append(
                sum(bool((desc_mine[i] == desc_theirs[j]).all()) for i, j in shared) / max(len(shared), 1)
            )
        rgba = np.asarray(frame.convert("RGBA")).tobytes()
        hex_, bands_hex, qualities = pixel_page.evaluate(
            PIXELS_JS, [base64.b64encode(rgba).decode(), frame.width, frame.height]
        )
        same_pixels.append(bits(bytes.fromhex(hex_), server.pdq))
        used, qd = band_bits((bytes.fromhex(bands_hex), bytes(qualities)), server)
        bands_same += used
        quality_same += qd
    print(f"photos-dev, browser decoding end to end: {summary(end_to_end)}")
    print(f"photos-dev, same decoded pixels (server's decode, browser's code): {summary(same_pixels)}")
    print(f"band hashes, browser decoding end to end: {band_summary(bands_end, quality_end)}")
    print(f"band hashes, same decoded pixels: {band_summary(bands_same, quality_same)}")
    print(
        f"ORB features (own and mirrored views): {100 * statistics.mean(same_points):.2f}% of the server's "
        f"keypoints also chosen by the browser (min {100 * min(same_points):.2f}%); of those "
        f"{100 * statistics.mean(same_desc):.2f}% have bit-identical descriptors (min {100 * min(same_desc):.2f}%)"
    )
    return device


def pdq_reference_vectors(page: Any) -> None:
    rows = list(csv.DictReader((PDQ_REFERENCE / "expected.csv").open()))
    vs_meta, vs_server, server_vs_meta = [], [], []
    worst: list[tuple[int, str]] = []
    for row in rows:
        path = PDQ_REFERENCE / "images" / row["file"]
        data = path.read_bytes()
        try:
            server = fingerprint_reference(decode_media(data).frames[0])
        except Exception as exc:
            print(f"  server cannot read {row['file']}: {exc}")
            continue
        try:
            fp = browser_fp(page, data, row["file"], "hash")
        except Exception as exc:
            print(f"  browser cannot read {row['file']}: {str(exc).splitlines()[0]}")
            continue
        made = bytes.fromhex(fp["pdq"])
        meta = bytes.fromhex(row["pdq_hex"])
        vs_meta.append(bits(made, meta))
        vs_server.append(bits(made, server.pdq))
        server_vs_meta.append(bits(server.pdq, meta))
        worst.append((bits(made, server.pdq), row["file"]))
    print(f"PDQ reference vectors, browser vs server: {summary(vs_server)}")
    print(f"PDQ reference vectors, browser vs Meta's published hash: {summary(vs_meta)}")
    print(f"PDQ reference vectors, server vs Meta's published hash: {summary(server_vs_meta)}")
    print(
        f"  (Meta's own tests accept <= 16 bits; {sum(v <= 16 for v in vs_meta)}/{len(vs_meta)} browser hashes do)"
    )
    print("  largest browser/server differences:", sorted(worst, reverse=True)[:3])


def accuracy(photos_dir: Path, device: dict[str, Fingerprint], names: list[str]) -> None:
    paths = sorted(p for p in photos_dir.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"})
    photos = [(p.name, decode_media(p.read_bytes()).frames[0]) for p in paths]
    ref_ids, distractor_ids = split(photos, 60)
    server = Matcher([(i, fingerprint_reference(photos[i][1])) for i in ref_ids])
    browser = Matcher([(i, device[photos[i][0]]) for i in ref_ids])
    rng = random.Random(1)
    transforms = {**TRANSFORMS, **MIRRORED}
    # The "hash only" level: the same browser-made fingerprints without their shape features.
    hash_only = Matcher(
        [
            (i, Fingerprint(fp.pdq, fp.pdq_quality, fp.pdq_dihedral, fp.pdq_trim, fp.pdq_trim_quality))
            for i, fp in ((i, device[photos[i][0]]) for i in ref_ids)
        ]
    )
    # The same browser-made fingerprints without their band hashes: what the page made before.
    no_bands = Matcher(
        [
            (i, dataclasses.replace(fp, bands=b"", band_qualities=b""))
            for i, fp in ((i, device[photos[i][0]]) for i in ref_ids)
        ]
    )
    labels = ("server", "browser", "no_bands", "hash_only")
    recall: dict[str, dict[str, list[int]]] = {k: defaultdict(lambda: [0, 0]) for k in labels}
    false: dict[str, list[str]] = {k: [] for k in labels}
    refs = set(ref_ids)

    def run(src: int, tname: str, img: Image.Image) -> None:
        fp = fingerprint_candidate(img)
        for label, matcher in (
            ("server", server),
            ("browser", browser),
            ("no_bands", no_bands),
            ("hash_only", hash_only),
        ):
            # The browser's references have no face boxes: the candidate's are looked for when a
            # fit needs them, as the scan does (photos-dev has no faces: it only costs time).
            res = matcher.match(fp, faces=lambda f: candidate_face_boxes(f, img))
            if src in refs:
                recall[label][tname][1] += 1
                recall[label][tname][0] += res is not None and res.reference_key == src
            if res is not None and res.reference_key != src:
                false[label].append(f"{photos[src][0]} [{tname}] -> {photos[res.reference_key][0]}")

    for i in distractor_ids:
        run(i, "distractor_original", photos[i][1])
    for tname in names:
        for i in ref_ids + distractor_ids:
            pool = distractor_ids if i in refs else [d for d in distractor_ids if d != i]
            others = [photos[j][1] for j in rng.sample(pool, 3)]
            run(i, tname, transforms[tname](photos[i][1], others))
    print()
    print(
        "| transformation | server-made references | browser-made references "
        "| browser-made, without band hashes | browser-made, hash only |"
    )
    print("|---|---:|---:|---:|---:|")
    totals = {
        k: [sum(v[0] for v in recall[k].values()), sum(v[1] for v in recall[k].values())] for k in labels
    }
    for tname in names:
        cells = [f"{r[0] / r[1]:.3f} ({r[0]}/{r[1]})" for r in (recall[k][tname] for k in labels)]
        print(f"| {tname} | " + " | ".join(cells) + " |")
    cells = [f"**{t[0] / t[1]:.3f}** ({t[0]}/{t[1]})" for t in (totals[k] for k in labels)]
    print("| **all** | " + " | ".join(cells) + " |")
    print(
        f"false matches: server-made {len(false['server'])}, browser-made {len(false['browser'])}, "
        f"browser-made without band hashes {len(false['no_bands'])}, "
        f"browser-made hash only {len(false['hash_only'])}"
    )
    for f in false["browser"]:
        print("  FALSE (browser-made):", f)


def timing(page: Any, pixel_page: Any, photo: Path) -> None:
    base = Image.open(photo).convert("RGB")
    cases = {
        "12 MP JPEG (4000x3000)": jpeg(base.resize((4000, 3000), Image.Resampling.BICUBIC)),
        "1 MP JPEG (1155x866)": jpeg(base.resize((1155, 866), Image.Resampling.BICUBIC)),
    }
    print()
    print("| photo | level | browser time per photo (median of 3) | of which decoding | PDQ bits vs server |")
    print("|---|---|---:|---:|---:|")
    for label, data in cases.items():
        server = fingerprint_reference(decode_media(data).frames[0])
        for level in ("hash", "features"):
            runs = [browser_fp(page, data, "t.jpg", level) for _ in range(3)]
            total = statistics.median(r["timing"]["total_ms"] for r in runs)
            decode = statistics.median(r["timing"]["decode_ms"] for r in runs)
            d = bits(bytes.fromhex(runs[0]["pdq"]), server.pdq)
            print(f"| {label} | {level} | {total:.0f} ms | {decode:.0f} ms | {d} |")
    print()
    print(
        "| photo | fingerprintPixels, features, without band hashes | with them | ratio "
        "| band hashes alone (on 512 px) |"
    )
    print("|---|---:|---:|---:|---:|")
    for label, data in cases.items():
        runs = pixel_page.evaluate(BANDS_COST_JS, [base64.b64encode(data).decode(), 5])
        without, with_ = statistics.median(runs["without"]), statistics.median(runs["with"])
        alone = statistics.median(runs["bands"])
        print(f"| {label} | {without:.0f} ms | {with_:.0f} ms | {with_ / without:.3f} | {alone:.1f} ms |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--mirrored", action="store_true", help="also the mirrored combinations")
    ap.add_argument("--only", default="", help="comma-separated transformations for the accuracy part")
    args = ap.parse_args()
    every = {**TRANSFORMS, **MIRRORED}
    only = [n for n in args.only.split(",") if n]
    if unknown := [n for n in only if n not in every]:
        raise SystemExit(f"unknown transformations: {', '.join(unknown)}")

    import cv2
    from playwright.sync_api import sync_playwright

    cv2.setNumThreads(1)
    photos = sorted(
        p for p in args.photos.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}
    )
    with tempfile.TemporaryDirectory() as data_dir:
        proc, base = start_server(data_dir)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                # Cold load: a fresh context has an empty cache.
                _context, page, weight = open_page(browser, base + "/fingerprint/")
                first = browser_fp(page, jpeg(Image.open(photos[0]).convert("RGB")), "first.jpg")
                first_s = time.perf_counter() - weight["t0"]
                print(f"chromium {browser.version}; {len(photos)} photos")
                print(
                    f"cold load: {weight['js'] / 1024:.0f} KB of JS/WASM downloaded (uncompressed; the WASM is "
                    f"inside opencv.js), {weight['other'] / 1024:.0f} KB other; ready after {weight['ready_s']:.2f} s; "
                    f"first fingerprint ({first['width']}x{first['height']}, features) after {first_s:.2f} s"
                )
                _ctx2, pixel_page, _w = open_page(browser, base + "/fingerprint/", bypass_csp=True)
                pixel_page.add_script_tag(url=base + "/static/vendor/opencv-js/opencv.js")
                pixel_page.add_script_tag(url=base + "/static/fingerprint/core.js")
                device = pdq_parity(page, pixel_page, photos)
                pdq_reference_vectors(page)
                timing(page, pixel_page, photos[0])
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    if not args.skip_accuracy:
        names = only or (list(TRANSFORMS) + (list(MIRRORED) if args.mirrored else []))
        accuracy(args.photos, device, names)


if __name__ == "__main__":
    main()
