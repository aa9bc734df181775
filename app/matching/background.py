"""Background rivals for stage 2's ratio test: ORB descriptors of generic structure.

Lowe's ratio test keeps a feature match only when the best match is clearly closer than the best
match from *another place*. Inside one matcher, the other places are the other references it
holds. A case often holds ONE reference, and then the only rivals are other places of that same
picture: a corner, an edge, a letter stroke of the candidate finds no rival and passes. An
unrelated candidate then keeps 30-60 such matches per reference view instead of 0-12, and a
*different photo of the same objects* (the ABC and 123 toy blocks of photos-dev: the same block
frames, other letters) reaches 21 inliers, enough to be accepted as a copy. The decision for a
candidate/reference pair must not depend on how many other references happen to share its case.

So every candidate descriptor is also compared with a fixed set of descriptors that belong to no
reference, and the nearest of them is a rival in every case. It is made of generic structure,
not of photos: rectangles, ellipses, polygons, lines and letters in random colours and sizes,
sometimes blurred, with noise. Nothing is stored or downloaded: the images are drawn from a
fixed seed the first time a process needs them (~1 s of CPU, once per process), and only their
ORB descriptors are kept (BACKGROUND_IMAGES x 2 views x ~1,300, ~31,000 x 32 bytes = 1 MB; each
matcher's index holds them too). Descriptors of copies lie
much closer to their reference (mean inlier distance ~20-30) than to generic structure, so they
keep passing; what is rejected is a match no closer to the reference than to some rectangle
corner or letter, which is the kind of evidence that two different photos share by chance.

Pure module: no Django.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .fingerprint import REFERENCE_FEATURES
from .orb import FEATURE_SIDE, orb_features

BACKGROUND_IMAGES = 12
_SEED = 20261205  # fixed: the same rivals in every process, every run


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow without FreeType sizes
        return ImageFont.load_default()


def synthetic_image(seed: int, w: int = FEATURE_SIDE, h: int = 600) -> Image.Image:
    """One picture of generic structure (shapes, lines, letters), deterministic for a seed."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (w, h), tuple(int(x) for x in rng.integers(0, 256, 3)))
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(15, 40))):
        kind = int(rng.integers(0, 5))
        col = tuple(int(x) for x in rng.integers(0, 256, 3))
        x0, y0 = int(rng.integers(-100, w)), int(rng.integers(-100, h))
        x1, y1 = x0 + int(rng.integers(10, 400)), y0 + int(rng.integers(10, 300))
        if kind == 0:
            d.rectangle((x0, y0, x1, y1), fill=col)
        elif kind == 1:
            d.ellipse((x0, y0, x1, y1), fill=col)
        elif kind == 2:
            d.line((x0, y0, x1, y1), fill=col, width=int(rng.integers(1, 12)))
        elif kind == 3:
            corners = int(rng.integers(3, 6))
            d.polygon(
                [(int(rng.integers(-50, w)), int(rng.integers(-50, h))) for _ in range(corners)], fill=col
            )
        else:
            text = "".join(chr(int(c)) for c in rng.integers(33, 127, int(rng.integers(1, 12))))
            d.text((x0, y0), text, fill=col, font=_font(int(rng.integers(12, 90))))
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2.0))))
    noisy = np.asarray(img, np.float32) + rng.normal(0, rng.uniform(0, 10), (h, w, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


@functools.cache
def background_descriptors() -> np.ndarray:
    """The rivals: ORB descriptors (n x 32 uint8) of the synthetic pictures and their mirrors
    (reference views are matched mirrored too, so mirrored structure must be a rival as well)."""
    parts = []
    for k in range(BACKGROUND_IMAGES):
        img = synthetic_image(_SEED + k)
        for view in (img, img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)):
            _, _, desc = orb_features(view, REFERENCE_FEATURES)
            parts.append(desc)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.uint8)
