"""Stage 2 in a case with ONE reference (most real cases): the decision for a candidate must not
depend on how many other references share the case.

The ABC and 123 toy blocks of photos-dev are two different photos of the same block frames
(other letters). With 123 as a case's only reference, the ordinary rules used to accept ABC as a
copy of it (21 inliers, ratio 0.31): with no other reference, Lowe's ratio test had no rivals.
Pure functions, no database.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable

import pytest
from PIL import Image

from app.matching.background import background_descriptors
from app.matching.engine import Matcher
from app.matching.fingerprint import Fingerprint, fingerprint_candidate, fingerprint_reference
from tests.conftest import REPO
from tests.matching.test_matching import _photo

BLOCKS_ABC = "045_gcompris_categorization_1251760.jpg"
BLOCKS_123 = "105_gcompris_categorization_2939670.jpg"
# A collage/undress fill and distractors, as the accuracy bench draws them.
OTHERS = [
    "003_gcompris_erase_1400044.jpg",
    "051_gcompris_categorization_1556234.jpg",
    "159_gcompris_explore_monuments_1154013.jpg",
]


def _bench_transforms() -> dict[str, Callable[[Image.Image, list[Image.Image]], Image.Image]]:
    """The accuracy bench's transformations themselves (bench/matching_accuracy.py)."""
    spec = importlib.util.spec_from_file_location(
        "matching_accuracy", REPO / "bench" / "matching_accuracy.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {**module.TRANSFORMS, **module.MIRRORED}


@pytest.fixture(scope="module")
def blocks() -> dict[str, tuple[Image.Image, Fingerprint]]:
    return {name: (_photo(name), fingerprint_reference(_photo(name))) for name in (BLOCKS_ABC, BLOCKS_123)}


def _alone(
    name: str, blocks: dict[str, tuple[Image.Image, Fingerprint]], *, background: bool = True
) -> Matcher:
    engine = sys.modules[Matcher.__module__]
    saved = engine.BACKGROUND
    engine.BACKGROUND = background
    try:
        return Matcher([(name, blocks[name][1])])
    finally:
        engine.BACKGROUND = saved


@pytest.mark.parametrize("transform", ["none", "crop10_centre", "png", "mirror+crop10_centre", "screenshot"])
def test_other_blocks_photo_never_matches_a_one_reference_case(
    blocks: dict[str, tuple[Image.Image, Fingerprint]], transform: str
) -> None:
    others = [_photo(n) for n in OTHERS]
    for ref, cand in ((BLOCKS_123, BLOCKS_ABC), (BLOCKS_ABC, BLOCKS_123)):
        matcher = _alone(ref, blocks)
        img = (
            blocks[cand][0]
            if transform == "none"
            else _bench_transforms()[transform](blocks[cand][0], others)
        )
        res = matcher.match(fingerprint_candidate(img))
        assert res is None, (ref, cand, transform, res)


@pytest.mark.parametrize(
    "transform", ["crop10_centre", "crop20_offcentre", "rotate_7", "screenshot", "collage_2x2"]
)
def test_each_blocks_photo_still_matches_its_own_copy_alone(
    blocks: dict[str, tuple[Image.Image, Fingerprint]], transform: str
) -> None:
    others = [_photo(n) for n in OTHERS]
    for name in (BLOCKS_ABC, BLOCKS_123):
        matcher = _alone(name, blocks)
        res = matcher.match(fingerprint_candidate(_bench_transforms()[transform](blocks[name][0], others)))
        assert res is not None and res.reference_key == name, (name, transform, res)
        if not res.method.startswith("pdq"):
            assert res.details["inliers"] >= 18 and res.details["spread"] >= 0.1, res.details


def test_without_background_rivals_the_pair_is_accepted(
    blocks: dict[str, tuple[Image.Image, Fingerprint]],
) -> None:
    # The hazard this file guards against is real: with the ratio test's rivals limited to the
    # case's one reference and no inlier-ratio rule for small fits (as before), 123 alone
    # accepts ABC. With the rivals, the fit itself shrinks (its matches are no closer to 123
    # than to generic structure), and what is left is a minority of the tentative matches.
    cand = fingerprint_candidate(blocks[BLOCKS_ABC][0])
    engine = sys.modules[Matcher.__module__]
    saved = engine.WEAK_MIN_RATIO
    engine.WEAK_MIN_RATIO = 0.0
    try:
        before = _alone(BLOCKS_123, blocks, background=False).match(cand)
    finally:
        engine.WEAK_MIN_RATIO = saved
    assert before is not None and before.reference_key == BLOCKS_123
    after = _alone(BLOCKS_123, blocks)
    assert after.match(cand) is None
    fits = after.verify_all(cand)
    assert fits and max(v["inliers"] for _, v in fits) < before.details["inliers"]


def test_background_rivals_are_fixed_and_never_a_match(
    blocks: dict[str, tuple[Image.Image, Fingerprint]],
) -> None:
    bg = background_descriptors()
    assert bg.dtype.name == "uint8" and bg.shape[1] == 32 and len(bg) > 5000
    # Drawn from a fixed seed: the same rivals in every process (cached within one).
    assert background_descriptors() is bg
    # A candidate made of the rivals' own pictures matches no reference.
    from app.matching.background import synthetic_image

    matcher = _alone(BLOCKS_123, blocks)
    assert matcher.match(fingerprint_candidate(synthetic_image(20261205))) is None
    # A matcher whose references have no features (hash-only) gets no rivals and no index work.
    hash_only = Matcher([("h", Fingerprint(pdq=blocks[BLOCKS_123][1].pdq, pdq_quality=100))])
    assert hash_only.verify_all(fingerprint_candidate(blocks[BLOCKS_ABC][0])) == []
