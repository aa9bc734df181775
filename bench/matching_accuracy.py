"""Matching accuracy: recall per transformation and false matches, on photos-dev.

Half of the photos are references; the other half are distractors. Every photo (reference or
distractor) is transformed in the ways below; a transformed reference must match its own
reference, and anything else (a transformed distractor, an untouched distractor) must match
nothing. A match to the wrong reference counts as a false match.

    .venv/bin/python bench/matching_accuracy.py [--photos DIR] [--refs N] [--stats FILE] [--mirrored]
        [--only NAMES] [--no-guided] [--no-banded] [--no-mirror-bands] [--no-face-only]
        [--one-ref | --case-size K]
        [--jobs N]

``mirror_undress`` (an undress edit flipped left to right) uses the same fills as ``undress_edit``
when both run, so the two rows differ by the flip alone.

By default one matcher holds all the references. A real case holds few (often one), and what
the matcher decides for a pair depends on the other references it holds: Lowe's ratio test
takes its rivals from them, and "best match wins" hides a weaker wrong fit behind the right
one. ``--one-ref`` compares every candidate with each reference alone (a matcher holding only
that reference, as a one-reference case in the pipeline), ``--case-size K`` with cases of K
consecutive references; every case that does not hold the candidate's source must match nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.matching import engine
from app.matching.decode import decode_media
from app.matching.engine import PREFILTER, Matcher
from app.matching.fingerprint import (
    Fingerprint,
    candidate_face_boxes,
    fingerprint_candidate,
    fingerprint_reference,
)

LEGACY_HASHES = {"phash": imagehash.phash, "dhash": imagehash.dhash}
DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos-dev"
if not DEFAULT_PHOTOS.exists():
    DEFAULT_PHOTOS = Path("/work/shared/data/photos-dev")

LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation."
)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - old Pillow
        return ImageFont.load_default()


def _reencode(img: Image.Image, fmt: str, **kw: object) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _crop(img: Image.Image, frac: float, where: str) -> Image.Image:
    w, h = img.size
    cw, ch = round(w * (1 - frac)), round(h * (1 - frac))
    if where == "centre":
        left, top = (w - cw) // 2, (h - ch) // 2
    else:  # off-centre: keep the top-left part
        left, top = round(w * frac * 0.15), round(h * frac * 0.1)
    return img.crop((left, top, left + cw, top + ch))


def _letterbox(img: Image.Image) -> Image.Image:
    w, h = img.size
    if w / h < 16 / 9:
        cw, ch = round(h * 16 / 9), h
    else:
        cw, ch = w, round(w * 9 / 16)
    canvas = Image.new("RGB", (cw, ch), (0, 0, 0))
    canvas.paste(img, ((cw - w) // 2, (ch - h) // 2))
    return canvas


def _screenshot(img: Image.Image) -> Image.Image:
    page_w = 1280
    shown_w = page_w // 2  # the photo takes ~50% of the page width
    shown = img.resize((shown_w, round(img.height * shown_w / img.width)), Image.Resampling.BILINEAR)
    page_h = 140 + shown.height + 220
    page = Image.new("RGB", (page_w, page_h), (250, 250, 250))
    d = ImageDraw.Draw(page)
    d.rectangle((0, 0, page_w, 64), fill=(40, 60, 120))
    d.text((24, 18), "example-forum.net  |  Home  Latest  Popular  Login", fill="white", font=_font(24))
    d.text((40, 84), "Posted by someone 3 hours ago", fill=(90, 90, 90), font=_font(18))
    page.paste(shown, (40, 120))
    for i in range(6):
        d.text((40, 140 + shown.height + i * 30), LOREM[: 70 + i * 5], fill=(30, 30, 30), font=_font(18))
    d.rectangle((shown_w + 80, 120, page_w - 40, 120 + shown.height), fill=(235, 235, 240))
    for i in range(8):
        d.text((shown_w + 100, 140 + i * 40), f"Related thread {i}", fill=(20, 60, 160), font=_font(18))
    return page


def _text_bar(img: Image.Image) -> Image.Image:
    out = img.copy()
    w, h = out.size
    d = ImageDraw.Draw(out)
    bar = round(h * 0.15)
    d.rectangle((0, h - bar, w, h), fill=(0, 0, 0))
    d.text(
        (10, h - bar + bar // 4),
        "leaked!! full set at the link below",
        fill="white",
        font=_font(max(10, bar // 2)),
    )
    return out


def _watermark(img: Image.Image) -> Image.Image:
    base = img.convert("RGBA")
    w, h = base.size
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    size = max(12, w // 7)
    for i, y in enumerate(range(0, h, size * 2)):
        d.text(((i % 2) * size, y), "WATERMARK", fill=(255, 255, 255, 110), font=_font(size))
    layer = layer.rotate(25, resample=Image.Resampling.BILINEAR)
    return Image.alpha_composite(base, layer).convert("RGB")


def _blur_noise(img: Image.Image) -> Image.Image:
    b = np.asarray(img.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float32)
    rng = np.random.default_rng(7)
    b += rng.normal(0, 8, b.shape)
    return Image.fromarray(np.clip(b, 0, 255).astype(np.uint8))


def _perspective(img: Image.Image) -> Image.Image:
    import cv2

    a = np.asarray(img)
    h, w = a.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[w * 0.06, h * 0.04], [w * 0.97, 0], [w, h], [0, h * 0.95]])
    m = cv2.getPerspectiveTransform(src, dst)
    return Image.fromarray(cv2.warpPerspective(a, m, (w, h), borderValue=(255, 255, 255)))


def _collage(img: Image.Image, others: list[Image.Image]) -> Image.Image:
    cell_w, cell_h = 512, 384
    canvas = Image.new("RGB", (cell_w * 2, cell_h * 2), (255, 255, 255))
    for i, im in enumerate([others[0], img, others[1], others[2]]):
        tile = ImageOps.fit(im, (cell_w, cell_h), Image.Resampling.BILINEAR)
        canvas.paste(tile, ((i % 2) * cell_w, (i // 2) * cell_h))
    return canvas


def _undress(img: Image.Image, others: list[Image.Image], *, rerender: bool = True) -> Image.Image:
    """Stand-in for an "undress" edit: a soft-edged region over the lower centre (40-60 % of
    the picture) replaced by other content, then the whole picture re-rendered the way an
    inpainting model's round trip changes it (slight resize, light blur, noise, a small colour
    shift, JPEG). Face, hair and background above and beside the region stay. The new content
    comes from a distractor photo, smoothed as generated content is, so an edited distractor
    must still match nothing."""
    import cv2

    w, h = img.size
    rng, mask = _undress_mask(img)
    mask = mask[:, :, None]
    fill = ImageOps.fit(others[0], (w, h), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(2.0))
    fill_a = np.asarray(fill, np.float32) * np.array([1.08, 0.98, 0.92], np.float32)  # warmer, smoother
    out = np.asarray(img, np.float32) * (1 - mask) + fill_a * mask
    if rerender:
        scale = rng.uniform(0.85, 0.95)
        small = cv2.resize(out, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), 0.8)
        small += rng.normal(0, 3.0, small.shape).astype(np.float32)
        small = small * rng.uniform(0.96, 1.04, 3).astype(np.float32) + rng.uniform(-6, 6, 3).astype(
            np.float32
        )
        out = small
    edited = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    return _reencode(edited, "JPEG", quality=85) if rerender else edited


def _undress_mask(img: Image.Image) -> tuple[np.random.Generator, np.ndarray]:
    """The undress edit's soft mask (1 where the picture is replaced) and the photo's generator,
    drawn from as the edit goes on (bench/undress_ceiling.py reads the mask too)."""
    import cv2

    w, h = img.size
    # Deterministic per photo, without a shared generator (the order of runs must not matter).
    rng = np.random.default_rng(int(np.asarray(img.resize((8, 8))).sum()) + w * 7 + h)
    area = rng.uniform(0.40, 0.60)
    fw = rng.uniform(0.70, 0.90)
    fh = min(area / fw, 0.85)
    fw = area / fh
    x0 = round(w * (1 - fw) / 2 + rng.uniform(-0.04, 0.04) * w)
    x1, y0 = x0 + round(w * fw), h - round(h * fh)
    mask = np.zeros((h, w), np.float32)
    mask[y0:, max(x0, 0) : min(x1, w)] = 1.0
    soft = max(3.0, 0.03 * max(w, h))
    return rng, cv2.GaussianBlur(mask, (0, 0), soft)


Transform = Callable[[Image.Image, list[Image.Image]], Image.Image]

TRANSFORMS: dict[str, Transform] = {
    "jpeg_q20": lambda im, _: _reencode(im, "JPEG", quality=20),
    "downscale_320": lambda im, _: im.resize(
        (320, max(1, round(im.height * 320 / im.width)))
        if im.width >= im.height
        else (max(1, round(im.width * 320 / im.height)), 320),
        Image.Resampling.BILINEAR,
    ),
    "crop10_centre": lambda im, _: _crop(im, 0.10, "centre"),
    "crop10_offcentre": lambda im, _: _crop(im, 0.10, "off"),
    "crop20_centre": lambda im, _: _crop(im, 0.20, "centre"),
    "crop20_offcentre": lambda im, _: _crop(im, 0.20, "off"),
    "rotate_7": lambda im, _: im.rotate(7, resample=Image.Resampling.BILINEAR),
    "rotate_90": lambda im, _: im.transpose(Image.Transpose.ROTATE_90),
    "mirror": lambda im, _: ImageOps.mirror(im),
    "letterbox_16x9": lambda im, _: _letterbox(im),
    "screenshot": lambda im, _: _screenshot(im),
    "text_bar": lambda im, _: _text_bar(im),
    "watermark": lambda im, _: _watermark(im),
    "brightness_contrast": lambda im, _: ImageEnhance.Contrast(
        ImageEnhance.Brightness(im).enhance(1.3)
    ).enhance(0.75),
    "blur_noise": lambda im, _: _blur_noise(im),
    "perspective": lambda im, _: _perspective(im),
    "collage_2x2": _collage,
    "webp": lambda im, _: _reencode(im, "WEBP", quality=75),
    "png": lambda im, _: _reencode(im, "PNG"),
    "grayscale": lambda im, _: ImageOps.grayscale(im).convert("RGB"),
    "undress_edit": _undress,
    # The undress edit then flipped left to right, as reposts often are to evade matching: the
    # bands and the whole-frame guide of the banded path must then be taken from the mirror image.
    "mirror_undress": lambda im, others: ImageOps.mirror(_undress(im, others)),
}

# A transformation that takes the fills of another in the same run, so its row differs from that
# one's by its own step only: each mirror_undress candidate is an undress_edit candidate flipped
# (which fill replaces the lower centre decides more than anything else whether an edit is found).
SAME_FILLS = {"mirror_undress": "undress_edit"}

# The same edit without the re-render (``--only undress_edit_plain``): which part costs recall.
EXTRA: dict[str, Transform] = {"undress_edit_plain": lambda im, others: _undress(im, others, rerender=False)}


# Reposts are often mirrored on top of another edit; the hashes' flipped variants only catch a
# plain mirror, so these combinations are measured too (``--mirrored``).
MIRRORED: dict[str, Transform] = {
    f"mirror+{name}": (lambda t: lambda im, others: t(ImageOps.mirror(im), others))(TRANSFORMS[name])
    for name in (
        "crop10_centre",
        "crop20_offcentre",
        "rotate_7",
        "text_bar",
        "screenshot",
        "letterbox_16x9",
        "watermark",
        "perspective",
    )
}


def load_photos(folder: Path) -> list[tuple[str, Image.Image]]:
    out = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}:
            out.append((p.name, decode_media(p.read_bytes()).frames[0]))
    return out


def split(photos: list[tuple[str, Image.Image]], n_refs: int) -> tuple[list[int], list[int]]:
    """Every other photo is a reference, so every source group has both sides."""
    idx = list(range(len(photos)))
    refs = idx[::2][:n_refs]
    return refs, [i for i in idx if i not in set(refs)]


def fill_draws(
    names: list[str], ref_ids: list[int], distractor_ids: list[int]
) -> dict[tuple[str, int], list[int]]:
    """The extra photos (collage tiles, undress fills) each transformation takes for each photo:
    three distractors (never the photo itself), from one seeded generator in this order, so every
    mode and bench/undress_ceiling.py edit the same photos the same way."""
    rng = random.Random(1)
    refs = set(ref_ids)
    draws: dict[tuple[str, int], list[int]] = {}
    for tname in names:
        for i in ref_ids + distractor_ids:
            pool = distractor_ids if i in refs else [d for d in distractor_ids if d != i]
            draws[tname, i] = rng.sample(pool, 3)
    return draws


# Filled before the worker processes fork (see _candidate); read-only afterwards.
_STATE: dict[str, object] = {}


def _candidate(job: tuple[int, str, list[int]]) -> dict[str, object]:
    """Transform one photo, fingerprint it once and match it against every case's matcher.

    Runs in a worker process (or in the main one with ``--jobs 1``); returns only plain data."""
    src, tname, other_ids = job
    photos: list[tuple[str, Image.Image]] = _STATE["photos"]  # type: ignore[assignment]
    matchers: list[Matcher] = _STATE["matchers"]  # type: ignore[assignment]
    transforms: dict[str, Transform] = _STATE["transforms"]  # type: ignore[assignment]
    img = (
        photos[src][1]
        if tname.endswith("_original")
        else transforms[tname](photos[src][1], [photos[j][1] for j in other_ids])
    )
    # CPU seconds of this process: the machine is shared, so wall time says little.
    t = time.process_time()
    fp = fingerprint_candidate(img)
    t_fp = time.process_time() - t
    t = time.process_time()
    results = []  # (case, reference key, method, details) for every case that matched
    looked = [0]

    def faces(fp_: Fingerprint) -> None:
        # As the scan does: the candidate's faces, only when a fit asks (fitcheck.face_details).
        looked[0] += 1
        candidate_face_boxes(fp_, img)

    for c, m in enumerate(matchers):
        res = m.match(fp, faces=faces)
        if res is not None:
            results.append((c, res.reference_key, res.method, res.details))
    t_match = time.process_time() - t
    stats = []
    if _STATE["stats"]:
        for c, m in enumerate(matchers):
            # reference index; v says "mirrored" for the mirror view, "guided" for a re-verified near miss
            for ref, v in m.verify_all(fp, prefilter=PREFILTER, guided=engine.GUIDED):
                stats.append({"src": src, "ref": m.keys[ref], "t": tname, "case": c, **v})
    legacy = {name: fn(img).hash.ravel() for name, fn in LEGACY_HASHES.items()} if _STATE["legacy"] else {}
    return {
        "src": src,
        "t": tname,
        "results": results,
        "t_fp": t_fp,
        "looked": looked[0],
        "t_match": t_match,
        "stats": stats,
        "legacy": legacy,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    ap.add_argument("--refs", type=int, default=60)
    ap.add_argument("--stats", type=Path, help="write raw verification stats (JSON lines) here")
    ap.add_argument("--only", help="comma-separated transforms to run")
    ap.add_argument("--mirrored", action="store_true", help="run the mirrored combinations instead")
    ap.add_argument("--no-guided", action="store_true", help="without guided matching of near misses")
    ap.add_argument("--no-banded", action="store_true", help="without band-nominated verification")
    ap.add_argument(
        "--no-mirror-bands", action="store_true", help="band-nominated verification of unmirrored edits only"
    )
    ap.add_argument(
        "--case-size",
        type=int,
        default=0,
        help="split the references into cases of this many (consecutive photos) and compare every "
        "candidate with each case alone, as the pipeline does; 0 (default): one matcher holding "
        "every reference",
    )
    ap.add_argument(
        "--no-face-only", action="store_true", help="without the face-only rule (app/matching/fitcheck.py)"
    )
    ap.add_argument(
        "--unlooked",
        action="store_true",
        help="references as a device makes them: no face boxes, so the candidate's faces are looked for "
        "when a fit needs them",
    )
    ap.add_argument("--one-ref", action="store_true", help="--case-size 1: each reference alone")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (nice them)")
    args = ap.parse_args()

    import cv2
    import faiss

    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)

    if args.no_guided:
        engine.GUIDED = False
    if args.no_banded:
        engine.BANDED = False
    if args.no_face_only:
        engine.FACE_ONLY = False
    if args.no_mirror_bands:
        engine.BANDED_MIRROR = False
    photos = load_photos(args.photos)
    ref_ids, distractor_ids = split(photos, args.refs)
    case_size = 1 if args.one_ref else (args.case_size or len(ref_ids))
    t0 = time.perf_counter()
    ref_fps = {i: fingerprint_reference(photos[i][1]) for i in ref_ids}
    if args.unlooked:
        for fp in ref_fps.values():
            fp.face_boxes, fp.faces_checked = [], False
    cases = [ref_ids[k : k + case_size] for k in range(0, len(ref_ids), case_size)]
    # One matcher per case holding only that case's references, exactly as the pipeline builds
    # one for a case: the ratio test's rivals, the prefilter and "best match wins" all see only
    # them. With one case of every reference this is the 60-reference bench of before.
    matchers = [Matcher([(i, ref_fps[i]) for i in case]) for case in cases]
    print(
        f"{len(photos)} photos: {len(ref_ids)} references in {len(cases)} case(s) of {case_size}, "
        f"{len(distractor_ids)} distractors (fingerprinted in {time.perf_counter() - t0:.1f} s)"
    )
    transforms = {**TRANSFORMS, **MIRRORED, **EXTRA}
    names = list(MIRRORED if args.mirrored else TRANSFORMS) if not args.only else args.only.split(",")
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    methods: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    false: list[tuple[str, dict[str, object]]] = []
    false_per_t: dict[str, int] = defaultdict(int)
    negatives = 0
    negative_cases = 0
    stats_out = args.stats.open("w") if args.stats else None
    t_fp = t_match = 0.0
    n_match = looked = 0
    # pHash/dHash (64-bit, imagehash) beside Jium's matcher: would they add recall, and at
    # what cost in false matches? (The issue: keep them only where they measurably help.)
    legacy = len(cases) == 1
    ref_row = {src: row for row, src in enumerate(ref_ids)}
    ref_hashes = (
        {
            name: np.array([fn(photos[i][1]).hash.ravel() for i in ref_ids])
            for name, fn in LEGACY_HASHES.items()
        }
        if legacy
        else {}
    )
    cand_hashes: dict[str, list[np.ndarray]] = defaultdict(list)
    cand_info: list[tuple[int, bool]] = []  # (source photo, found by Jium)
    ref_set = set(ref_ids)

    # The transformations' extra photos (collage tiles, undress fills) are drawn here, in the
    # order of the single-process bench, so every mode edits the same photos the same way.
    jobs: list[tuple[int, str, list[int]]] = [(i, "distractor_original", []) for i in distractor_ids]
    if len(cases) > 1:
        # Untouched references are negatives for every other case (the 123 toy blocks, a
        # reference, matched the ABC blocks, another reference, alone); in one matcher with
        # every reference they only find themselves.
        jobs += [(i, "reference_original", []) for i in ref_ids]
    all_ids = ref_ids + distractor_ids
    draws = fill_draws(names, ref_ids, distractor_ids)
    for tname in names:
        fills_of = SAME_FILLS[tname] if SAME_FILLS.get(tname) in names else tname
        jobs += [(i, tname, draws[fills_of, i]) for i in all_ids]

    _STATE.update(
        photos=photos, matchers=matchers, transforms=transforms, stats=stats_out is not None, legacy=legacy
    )
    t_run = time.perf_counter()
    if args.jobs > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(args.jobs) as pool_:
            outs = pool_.imap(_candidate, jobs, chunksize=8)
            done = list(outs)
    else:
        done = [_candidate(j) for j in jobs]
    t_run = time.perf_counter() - t_run

    for out in done:
        src, tname = out["src"], out["t"]
        assert isinstance(src, int) and isinstance(tname, str)
        t_fp += out["t_fp"]  # type: ignore[operator]
        t_match += out["t_match"]  # type: ignore[operator]
        looked += out["looked"]  # type: ignore[operator]
        n_match += 1
        if stats_out is not None:
            for line in out["stats"]:  # type: ignore[attr-defined]
                stats_out.write(json.dumps(line) + "\n")
        is_ref = src in ref_set
        hit = False
        for _case, key, method, details in out["results"]:  # type: ignore[attr-defined]
            if key == src:
                hit = True
                methods[tname][method] += 1
            else:
                false.append((f"{photos[src][0]} [{tname}] -> {photos[key][0]} ({method})", details))
                false_per_t[tname] += 1
        for name, h in out["legacy"].items():  # type: ignore[attr-defined]
            cand_hashes[name].append(h)
        cand_info.append((src, hit))
        if is_ref:
            recall[tname][1] += 1
            recall[tname][0] += hit
        # Every reference other than the source is a negative pair for this candidate, and
        # every case that does not hold the source is a negative case.
        negatives += len(ref_ids) - (1 if is_ref else 0)
        negative_cases += len(cases) - (1 if is_ref else 0)

    total_hit = sum(v[0] for v in recall.values())
    total = sum(v[1] for v in recall.values())
    print()
    print("| transformation | recall | found by | false matches |")
    print("|---|---:|---|---:|")
    originals = ["distractor_original"] + (["reference_original"] if len(cases) > 1 else [])
    for tname in [*originals, *names]:
        hit, n = recall[tname]
        by = ", ".join(f"{m} {c}" for m, c in sorted(methods[tname].items(), key=lambda kv: -kv[1]))
        rec = f"{hit / n:.3f} ({hit}/{n})" if n else "-"
        print(f"| {tname} | {rec} | {by} | {false_per_t[tname]} |")
    print(f"| **all** | **{total_hit / total:.3f}** ({total_hit}/{total}) | | **{len(false)}** |")
    print()
    print(
        f"false matches: {len(false)} over {negatives} candidate/reference pairs of distinct photos "
        f"({n_match} candidates x {len(cases)} case(s) of {case_size}: {negative_cases} comparisons "
        f"with a case not holding the candidate's source)"
    )
    for f, d in false:
        keys = (
            "method",
            "inliers",
            "tentative",
            "inlier_ratio",
            "inlier_hamming",
            "spread",
            "scale",
            "guided",
        )
        print("  FALSE:", f, {k: d[k] for k in keys if k in d} or d)
    print(
        f"mean CPU per candidate: fingerprint {1000 * t_fp / n_match:.1f} ms, match against "
        f"{len(cases)} case(s) of {case_size} {1000 * t_match / n_match:.1f} ms ({n_match} candidates; "
        f"{t_run:.0f} s wall with {args.jobs} job(s)); candidates' faces looked for {looked} times"
    )
    if not legacy:
        return

    print()
    print("pHash / dHash (imagehash, 64 bits) on the same candidates, each against every reference:")
    print("| hash | threshold (bits) | Jium misses it would find | false matches (distinct photos) |")
    print("|---|---:|---:|---:|")
    sources = np.array([src for src, _ in cand_info])
    found = np.array([hit for _, hit in cand_info])
    own = np.array([ref_row.get(src, -1) for src in sources])
    for name in LEGACY_HASHES:
        dist = (np.array(cand_hashes[name])[:, None, :] != ref_hashes[name][None, :, :]).sum(axis=2)
        own_dist = np.where(own >= 0, dist[np.arange(len(own)), np.maximum(own, 0)], 99)
        other = dist.copy()
        other[own >= 0, own[own >= 0]] = 99  # a candidate's own reference is not a negative
        for threshold in (4, 6, 8, 10, 12):
            added = int(((own_dist <= threshold) & ~found).sum())
            print(
                f"| {name} | {threshold} | {added} of {int((own >= 0).sum() - found.sum())} | {int((other <= threshold).sum())} |"
            )


if __name__ == "__main__":
    main()
