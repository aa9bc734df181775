"""Two-stage matching of a candidate image against a set of reference fingerprints.

Stage 1 compares PDQ hashes (all 8 rotations/flips of each reference, and border-trimmed
variants). Stage 2 verifies local ORB features geometrically (RANSAC similarity and
homography) for what the hashes miss: crops, small rotations, screenshots, collages,
overlays. Pure module: no Django.

The thresholds below were calibrated on ordinary photos (see docs/benchmarks.md); the
dangerous negatives are *different* photos of the same place or object, which share many
feature matches but no consistent geometry with tight reprojection error.

A case often holds one reference. What is decided for a candidate/reference pair must not
depend on how many other references share the matcher (they are the ratio test's rivals):
see BACKGROUND and WEAK_MIN_RATIO; ``bench/matching_accuracy.py --one-ref`` measures it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image

from .background import background_descriptors
from .bands import band_distances, band_table
from .fingerprint import PDQ_MIN_QUALITY, Fingerprint, candidate_face_boxes, fingerprint_candidate
from .fitcheck import (
    FACE_ONLY_COVERAGE,
    FACE_ONLY_SHARE,
    coverage,
    face_details,
    mirrored_boxes,
    sane_homography,
)
from .guided import guided_pairs
from .search import feature_index, hash_rows, popcount_distance

PDQ_THRESHOLD = 31  # Meta's recommended match distance for PDQ

KNN = 6  # neighbours fetched per candidate descriptor
MAX_DESCRIPTOR_DISTANCE = 64  # of 256 bits
RATIO = 0.8  # Lowe's ratio against the best match from another place
# The other places include a fixed set of generic descriptors that belong to no reference
# (background.py), so a case with one reference has rivals too: without them the ratio test was
# far weaker for one reference than for sixty, and a different photo of the same toy blocks
# matched a one-reference case. Off only to measure what they change.
BACKGROUND = True
SAME_PLACE_PX = 12.0  # neighbours closer than this in the same reference are the same point
MIN_TENTATIVE = 8
RANSAC_PX = 5.0  # reprojection tolerance at FEATURE_SIDE (800 px)
MIN_INLIERS = 18
MIN_INLIER_RATIO = 0.25
MAX_INLIER_HAMMING = 40.0  # mean descriptor distance of the inliers: copies are close
# Different photos of the same scene (two shots of one reef) reach ~18 inliers at a mean
# descriptor distance of 33-35; copies with that few inliers are closer, or have many more.
WEAK_INLIERS = 30
WEAK_MAX_HAMMING = 32.0
# ... and a small fit must also be most of the tentative matches. Once the ratio test has its
# background rivals, what survives of a copy is nearly all consistent with one transform (weak
# copies measured: ratio 0.9-1.0, undress edits >= 0.6), while two different photos of the same
# objects share a few structures among many matches that agree with nothing (the ABC and 123
# toy blocks: 12-16 inliers of 44-62, ratio 0.26-0.27). This rule holds per reference: a case's
# other references can only raise a fit's ratio by taking tentative matches away.
WEAK_MIN_RATIO = 0.5
# Stage-2 prefilter (see Matcher._prefilter): every PREFILTER_STEP-th candidate descriptor is
# searched first; fewer than PREFILTER_VOTES ratio-tested matches to every view ends the match.
PREFILTER = True
PREFILTER_STEP = 3
PREFILTER_VOTES = 3
PREFILTER_MIN_DESCRIPTORS = 300
# Guided matching (see Matcher._guided) for near misses: a clean fit that fell short of the
# acceptance rules (at least GUIDED_SEED_INLIERS inliers, GUIDED_SEED_RATIO of the tentative
# matches, mean descriptor distance <= GUIDED_SEED_HAMMING) is verified again, and accepted when
# the guided fit has GUIDED_MIN_INLIERS inliers (GUIDED_MIN_RATIO of its matches, spread >= 0.1).
# Seeds must be clean because guided matching grows weak coincidences too: the ABC and 123 toy
# blocks of photos-dev (same frames, other letters) went from a 7-inlier seed to 39 inliers.
GUIDED = True
GUIDED_SEED_INLIERS = 15
GUIDED_SEED_RATIO = 0.85
GUIDED_SEED_HAMMING = 30.0
GUIDED_MIN_INLIERS = 24
GUIDED_MIN_RATIO = 0.8
GUIDED_MAX_HAMMING_MEAN = 40.0
GUIDED_MAX_VIEWS = 3
# Banded verification (see Matcher._banded) for undress edits: a reference whose top or side
# band hash (bands.py) is within BAND_NOMINATE bits of the candidate's is verified by guided
# matching from the whole frame's alignment, and accepted by the guided rules; inliers
# clumped on one detail (spread < 0.1) only when a band is within BAND_STRONG bits. On
# photos-dev, a candidate's band came no closer than 84 bits to any other photo's (the
# undress set, its edited distractors and the untouched ones); edited copies of a reference
# at 0-30, a few at 44-64. A mirrored edit: the candidate's mirror-image bands (fingerprint
# .mirror_bands) nominate with the same thresholds, and the reference's mirror view (its features
# on the mirrored picture) is verified against the whole frame by the same rules; this runs only
# when the unmirrored bands found nothing, so what they decide is unchanged. BANDED_MIRROR is
# off only to measure what it changes.
BANDED = True
BANDED_MIRROR = True
BAND_NOMINATE = 64
BAND_STRONG = 31
BAND_MAX_REFS = 2
BAND_FRAME_TOLERANCE = 0.03  # of the candidate's diagonal, for each corner of the fitted frame
# Another photo of the same face is not a copy of the picture: see fitcheck.py. Every path obeys
# it; off only to measure what it changes.
FACE_ONLY = True


@dataclass
class MatchResult:
    reference_key: Hashable
    # "pdq", "pdq-dihedral", "pdq-trim", "orb-similarity", "orb-homography" (+ "-mirror")
    method: str
    distance: float  # PDQ bits for hash matches; mean inlier descriptor distance for features
    details: dict[str, Any] = field(default_factory=dict)


class Matcher:
    """Matches candidates against a fixed set of references (one case, or one NGO's cases)."""

    def __init__(self, references: Sequence[tuple[Hashable, Fingerprint]]) -> None:
        self.keys: list[Hashable] = [k for k, _ in references]
        hashes: list[bytes] = []
        owners: list[int] = []
        variants: list[str] = []
        qualities: list[int] = []
        for i, (_, fp) in enumerate(references):
            for h, q, v in (
                [(fp.pdq, fp.pdq_quality, "pdq")]
                + [(d, fp.pdq_quality, "pdq-dihedral") for d in fp.pdq_dihedral]
                + ([(fp.pdq_trim, fp.pdq_trim_quality, "pdq-trim")] if fp.pdq_trim else [])
            ):
                if q >= PDQ_MIN_QUALITY:
                    hashes.append(h)
                    owners.append(i)
                    variants.append(v)
                    qualities.append(q)
        self._pdq = hash_rows(hashes) if hashes else np.zeros((0, 4), np.uint64)
        self._pdq_owner = np.array(owners, dtype=np.int32)
        self._pdq_variant = variants
        self._pdq_quality = qualities

        # Local features: each reference's own, and as a second "view" of it those of its mirror
        # image (reposts are often mirrored and cropped). RANSAC fits one view at a time.
        n = len(references)
        owners_, descs, xys = [], [], []
        self._view_span: dict[int, tuple[int, int]] = {}  # view -> its rows in the feature arrays
        start = 0
        for i, (_, fp) in enumerate(references):
            views = [(i, fp.keypoints, fp.descriptors), (n + i, fp.mirror_keypoints, fp.mirror_descriptors)]
            for view, xy, desc in views:
                if len(desc):
                    owners_.append(np.full(len(desc), view, np.int32))
                    descs.append(desc)
                    xys.append(xy)
                    self._view_span[view] = (start, start + len(desc))
                    start += len(desc)
        self._views = n  # view v >= n is the mirror image of reference v - n
        self._features = start  # reference features; the background rivals come after them
        if BACKGROUND and start:
            # The rivals: view 2n, reference -1 (a rival to every reference, never a match).
            bg = background_descriptors()
            owners_.append(np.full(len(bg), 2 * n, np.int32))
            descs.append(bg)
            xys.append(np.zeros((len(bg), 2), np.float32))
        self._feat_owner = np.concatenate(owners_ or [np.zeros(0, np.int32)])
        self._feat_ref = np.where(self._feat_owner >= n, self._feat_owner - n, self._feat_owner)
        self._feat_ref[self._feat_owner == 2 * n] = -1
        self._feat_xy = np.concatenate(xys or [np.zeros((0, 2), np.float32)]).astype(np.float32)
        self._feat_size = [fp.feature_size for _, fp in references] * 2
        # Kept beside the index for guided matching (32 bytes a feature, ~96 KB a reference, and
        # the background rivals' ~1 MB once per matcher).
        self._feat_desc = (
            np.ascontiguousarray(np.concatenate(descs), dtype=np.uint8)
            if descs
            else np.zeros((0, 32), np.uint8)
        )
        self._index = feature_index(self._feat_desc)
        self._bands = band_table([(fp.bands, fp.band_qualities) for _, fp in references])
        # Face boxes per view (feature coordinates); the mirror view's are mirrored. Views whose
        # picture was never looked at for faces borrow the candidate's (fitcheck.face_details).
        self._faces: dict[int, np.ndarray] = {}
        self._faces_known = {v for i, (_, fp) in enumerate(references) if fp.faces_known for v in (i, n + i)}
        for i, (_, fp) in enumerate(references):
            if fp.face_boxes and fp.has_features:
                b = np.array(fp.face_boxes, np.float32).reshape(-1, 4)
                fw = float(fp.feature_size[0])
                self._faces[i] = b
                self._faces[n + i] = mirrored_boxes(b, fw)

    def _reference_of(self, view: int) -> int:
        return view - self._views if view >= self._views else view

    def __len__(self) -> int:
        return len(self.keys)

    # ------------------------------------------------------------------ stage 1

    def match_hash(self, candidate: Fingerprint) -> MatchResult | None:
        if not len(self._pdq):
            return None
        best: tuple[int, int, str, int] | None = None  # distance, row, candidate variant, quality
        probes = [(candidate.pdq, candidate.pdq_quality, "")]
        if candidate.pdq_trim is not None:
            probes.append((candidate.pdq_trim, candidate.pdq_trim_quality, "trim"))
        for h, q, label in probes:
            if q < PDQ_MIN_QUALITY:
                continue
            dist = popcount_distance(self._pdq, h)
            row = int(np.argmin(dist))
            if best is None or dist[row] < best[0]:
                best = (int(dist[row]), row, label, q)
        if best is None or best[0] > PDQ_THRESHOLD:
            return None
        distance, row, label, q = best
        method = self._pdq_variant[row]
        if label == "trim" and method == "pdq":
            method = "pdq-trim"
        return MatchResult(
            reference_key=self.keys[int(self._pdq_owner[row])],
            method=method,
            distance=float(distance),
            details={
                "pdq_distance": distance,
                "pdq_threshold": PDQ_THRESHOLD,
                "candidate_quality": q,
                "reference_quality": self._pdq_quality[row],
                "candidate_trimmed": label == "trim",
            },
        )

    # ------------------------------------------------------------------ stage 2

    def _search(self, descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._index.search(np.ascontiguousarray(descriptors), min(KNN, self._index.ntotal))

    def _ratio_ok(self, dist: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Which query rows pass the distance cap and the ratio test (row by row, independent)."""
        n = self._index.ntotal
        k = idx.shape[1]
        view = self._feat_owner[idx]  # (q, k)
        ref = self._feat_ref[idx]
        xy = self._feat_xy[idx]  # (q, k, 2)
        d1 = dist[:, 0].astype(np.float32)
        # The second-nearest "other place": a different reference, or the same view of this
        # reference far from the first hit. Nearby hits in the same view are the same point
        # seen at another pyramid level; hits in the other (mirrored) view are no rivals either:
        # in a roughly symmetric picture (a face, a body) every detail has a mirror twin.
        same_view = view == view[:, :1]
        far = np.linalg.norm(xy - xy[:, :1, :], axis=2) > SAME_PLACE_PX
        other = (ref != ref[:, :1]) | (same_view & far)
        other[:, 0] = False
        has_other = other.any(axis=1)
        first_other = np.argmax(other, axis=1)
        d2 = np.where(
            has_other, dist[np.arange(len(dist)), first_other], dist[:, -1] if k > 1 else 256
        ).astype(np.float32)
        if n <= 1:
            d2[:] = 256
        # A descriptor whose nearest neighbour is a background rival matches no reference.
        return (ref[:, 0] >= 0) & (d1 <= MAX_DESCRIPTOR_DISTANCE) & (d1 < RATIO * np.maximum(d2, 1))

    def _prefilter(self, candidate: Fingerprint) -> tuple[np.ndarray, np.ndarray] | None:
        """Search a sample of the candidate's descriptors first; None when no reference view
        gets PREFILTER_VOTES ratio-tested matches from it (then no view could reach
        MIN_INLIERS from all of them, short of a very unlucky sample), else the neighbours of
        every descriptor, the sample's reused. Most fetched images match nothing, and the
        descriptor search is the largest part of a match; this skips 2/3 of it for them."""
        desc = candidate.descriptors
        if len(desc) < PREFILTER_MIN_DESCRIPTORS:
            return self._search(desc)
        sample = np.zeros(len(desc), bool)
        sample[::PREFILTER_STEP] = True
        d_s, i_s = self._search(desc[sample])
        ok = self._ratio_ok(d_s, i_s)
        votes = np.bincount(self._feat_owner[i_s[ok, 0]], minlength=1)
        if votes.max(initial=0) < PREFILTER_VOTES:
            return None
        d_r, i_r = self._search(desc[~sample])
        dist = np.empty((len(desc), d_s.shape[1]), d_s.dtype)
        idx = np.empty((len(desc), i_s.shape[1]), i_s.dtype)
        dist[sample], idx[sample] = d_s, i_s
        dist[~sample], idx[~sample] = d_r, i_r
        return dist, idx

    def _tentative(
        self, candidate: Fingerprint, *, prefilter: bool = False
    ) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Ratio-tested matches grouped by reference: {ref: (cand idx, ref feature idx, dist)}."""
        found = self._prefilter(candidate) if prefilter else self._search(candidate.descriptors)
        if found is None:
            return {}
        dist, idx = found
        d1 = dist[:, 0].astype(np.float32)
        ok = self._ratio_ok(dist, idx)
        q_idx = np.flatnonzero(ok)
        f_idx = idx[q_idx, 0]
        dd = d1[q_idx]
        # Keep only the best match per reference keypoint: "hub" descriptors that attract
        # many candidate points would otherwise create spurious consensus.
        order = np.lexsort((dd, f_idx))
        f_sorted = f_idx[order]
        keep = np.ones(len(order), bool)
        keep[1:] = f_sorted[1:] != f_sorted[:-1]
        sel = order[keep]
        q_idx, f_idx, dd = q_idx[sel], f_idx[sel], dd[sel]
        refs = self._feat_owner[f_idx]
        groups: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for r in np.unique(refs):
            m = refs == r
            if m.sum() >= MIN_TENTATIVE:
                groups[int(r)] = (q_idx[m], f_idx[m], dd[m])
        return groups

    def _fit(
        self, ref: int, candidate: Fingerprint, q_idx: np.ndarray, f_idx: np.ndarray, dd: np.ndarray
    ) -> tuple[dict[str, Any] | None, np.ndarray | None]:
        """RANSAC fit of one view: (details, 3x3 reference-to-candidate transform), or Nones."""
        src = self._feat_xy[f_idx].reshape(-1, 1, 2)
        dst = candidate.keypoints[q_idx].astype(np.float32).reshape(-1, 1, 2)
        best: dict[str, Any] | None = None
        sim, sim_mask = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX, maxIters=2000, confidence=0.995
        )
        if sim is not None and sim_mask is not None:
            scale = float(np.hypot(sim[0, 0], sim[1, 0]))
            if 0.08 <= scale <= 12:
                inl = sim_mask.ravel().astype(bool)
                best = {
                    "method": "orb-similarity",
                    "mask": inl,
                    "scale": scale,
                    "model": np.vstack([sim, [0, 0, 1]]),
                }
        if len(src) >= 10:
            hom, hom_mask = cv2.findHomography(
                src, dst, cv2.RANSAC, RANSAC_PX, maxIters=2000, confidence=0.995
            )
            if (
                hom is not None
                and hom_mask is not None
                and sane_homography(hom, self._feat_size[ref], candidate.feature_size)
            ):
                inl = hom_mask.ravel().astype(bool)
                # Prefer the simpler model unless perspective clearly explains more points.
                if best is None or inl.sum() > best["mask"].sum() * 1.2 + 2:
                    best = {"method": "orb-homography", "mask": inl, "scale": None, "model": hom}
        if best is None:
            return None, None
        inl = best["mask"]
        n_in = int(inl.sum())
        if n_in == 0:
            return None, None
        # Inliers must be spread out, not a clump on one small detail.
        pts = src.reshape(-1, 2)[inl]
        w, h = self._feat_size[ref]
        spread = float(np.sqrt(max(np.ptp(pts[:, 0]), 1) * max(np.ptp(pts[:, 1]), 1) / max(w * h, 1)))
        details: dict[str, Any] = {
            "method": best["method"],
            "inliers": n_in,
            "tentative": len(src),
            "inlier_ratio": round(n_in / len(src), 3),
            "inlier_hamming": round(float(dd[inl].mean()), 2),
            "spread": round(spread, 3),
            "scale": None if best["scale"] is None else round(best["scale"], 3),
        }
        # The face-only rule can only refuse a fit that some rule would accept; its coverage costs
        # ~0.6 ms a fit, so fits with fewer inliers than any rule takes (seeds, near misses) skip it.
        if n_in >= min(MIN_INLIERS, GUIDED_MIN_INLIERS):
            s, e = self._view_span[ref]
            details.update(
                face_details(
                    ref_boxes=self._faces.get(ref),
                    ref_known=ref in self._faces_known,
                    cand_boxes=candidate.face_boxes,
                    cand_known=candidate.faces_known,
                    ref_pts=pts,
                    cand_pts=dst.reshape(-1, 2)[inl],
                    coverage_of=lambda: coverage(
                        self._feat_xy[s:e], pts, best["model"], candidate.feature_size
                    ),
                )
            )
        return details, best["model"]

    @staticmethod
    def _accept(v: dict[str, Any]) -> bool:
        return (
            v["inliers"] >= MIN_INLIERS
            and v["inlier_ratio"] >= MIN_INLIER_RATIO
            and v["inlier_hamming"] <= MAX_INLIER_HAMMING
            and (
                v["inliers"] >= WEAK_INLIERS
                or (v["inlier_hamming"] <= WEAK_MAX_HAMMING and v["inlier_ratio"] >= WEAK_MIN_RATIO)
            )
            and v["spread"] >= 0.1
            and not Matcher._face_only(v)
        )

    @staticmethod
    def _face_only(v: dict[str, Any]) -> bool:
        """The fit is another photo of the face, not this picture (FACE_ONLY_SHARE)."""
        return (
            FACE_ONLY
            and v.get("face_share", 0.0) >= FACE_ONLY_SHARE
            and v.get("coverage", 1.0) < FACE_ONLY_COVERAGE
        )

    @staticmethod
    def _guided_fit_ok(v: dict[str, Any]) -> bool:
        """The guided rules both guided paths share (the seeded rescue and the banded one).
        Guided pairs admit descriptor distances up to guided.GUIDED_MAX_HAMMING, so their mean is
        higher than a ratio-tested fit's: the clean seed (or the close band) stands in for
        WEAK_MAX_HAMMING."""
        return (
            v["inliers"] >= GUIDED_MIN_INLIERS
            and v["inlier_ratio"] >= GUIDED_MIN_RATIO
            and v["inlier_hamming"] <= GUIDED_MAX_HAMMING_MEAN
            and not Matcher._face_only(v)
        )

    @staticmethod
    def _accept_guided(v: dict[str, Any]) -> bool:
        return Matcher._guided_fit_ok(v) and v["spread"] >= 0.1

    def _fits(
        self, candidate: Fingerprint, *, prefilter: bool
    ) -> list[tuple[int, dict[str, Any], np.ndarray]]:
        """(view, details, transform) for every view with enough tentative matches and a fit."""
        if not candidate.has_features or self._features == 0:
            return []
        out = []
        for view, (q_idx, f_idx, dd) in self._tentative(candidate, prefilter=prefilter).items():
            v, model = self._fit(view, candidate, q_idx, f_idx, dd)
            if v is not None and model is not None:
                if view >= self._views:
                    v["mirrored"] = True
                out.append((view, v, model))
        return out

    def verify_all(
        self, candidate: Fingerprint, *, prefilter: bool = False, guided: bool = False
    ) -> list[tuple[int, dict[str, Any]]]:
        """Geometric verification against every reference (either view) with enough tentative
        matches: (reference index, details); details say "mirrored" for the mirror view.
        ``prefilter``: skip the rest when a sample of the descriptors finds no likely view.
        ``guided``: also the guided re-verification of near misses (details say "guided")."""
        fits = self._fits(candidate, prefilter=prefilter)
        out = [(self._reference_of(view), v) for view, v, _ in fits]
        if not guided:
            return out
        banded = self._banded(candidate) + (self._banded(candidate, mirrored=True) if BANDED_MIRROR else [])
        return out + self._rescue(candidate, fits) + banded

    def _guided(
        self, view: int, candidate: Fingerprint, model: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Guided pairs (guided.guided_pairs) between the view's features and the candidate's
        keypoints: (cand idx, feature idx, distance)."""
        s, e = self._view_span[view]
        return guided_pairs(self._feat_xy[s:e], self._feat_desc[s:e], s, candidate, model)

    def _rescue(
        self, candidate: Fingerprint, fits: list[tuple[int, dict[str, Any], np.ndarray]]
    ) -> list[tuple[int, dict[str, Any]]]:
        """Near misses (a clean but small fit) verified again with guided matching."""
        near = [
            (view, v, model)
            for view, v, model in fits
            if v["inliers"] >= GUIDED_SEED_INLIERS
            and v["inlier_ratio"] >= GUIDED_SEED_RATIO
            and v["inlier_hamming"] <= GUIDED_SEED_HAMMING
        ]
        near.sort(key=lambda f: -f[1]["inliers"])
        out = []
        for view, v, model in near[:GUIDED_MAX_VIEWS]:
            gq, gf, gd = self._guided(view, candidate, model)
            if len(gq) < GUIDED_MIN_INLIERS:
                continue
            g, _ = self._fit(view, candidate, gq, gf, gd)
            if g is None:
                continue
            # The evidence says it was grown from a seed, and how clean the seed was.
            g["guided"] = True
            g["seed_inliers"] = v["inliers"]
            g["seed_ratio"] = v["inlier_ratio"]
            g["seed_hamming"] = v["inlier_hamming"]
            if view >= self._views:
                g["mirrored"] = True
            out.append((self._reference_of(view), g))
        return out

    def _banded(self, candidate: Fingerprint, *, mirrored: bool = False) -> list[tuple[int, dict[str, Any]]]:
        """References nominated by a close band hash, verified by guided matching from the
        alignment of the whole frame: an undress edit re-renders the whole picture (at most a
        slight resize), so the reference's frame is the candidate's. Unlike _rescue this needs no
        seed fit, which an edit that keeps only soft or plain areas does not leave.

        ``mirrored``: the candidate's mirror-image bands nominate, and the reference's mirror
        view is what is carried into the candidate: a mirrored edit is the mirrored reference
        re-rendered, frame for frame. Reference bands are compared as they are, so references
        stored before this need nothing new."""
        if not BANDED or not candidate.has_features or not len(self._bands[0]):
            return []
        if mirrored:
            dist = band_distances(self._bands, candidate.mirror_bands, candidate.mirror_band_qualities)
        else:
            dist = band_distances(self._bands, candidate.bands, candidate.band_qualities)
        nominated = np.flatnonzero(dist <= BAND_NOMINATE)
        out = []
        cw, ch = candidate.feature_size
        corners_c = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float64)
        for ref in nominated[np.argsort(dist[nominated], kind="stable")][:BAND_MAX_REFS]:
            ref = int(ref)
            view = ref + self._views if mirrored else ref  # the mirror view has the same size
            rw, rh = self._feat_size[ref]
            if not rw or not rh or view not in self._view_span:
                continue
            frame = np.diag([cw / rw, ch / rh, 1.0])
            gq, gf, gd = self._guided(view, candidate, frame)
            if len(gq) < GUIDED_MIN_INLIERS:
                continue
            g, model = self._fit(view, candidate, gq, gf, gd)
            if g is None or model is None:
                continue
            # The fit must keep the frame where it is (a slight resize at most): a fit that drifts
            # found something else than the picture re-rendered.
            corners_r = np.array([[0, 0], [rw, 0], [rw, rh], [0, rh]], np.float64).reshape(-1, 1, 2)
            moved = cv2.perspectiveTransform(corners_r, model.astype(np.float64)).reshape(-1, 2)
            drift = float(np.abs(moved - corners_c).max() / np.hypot(cw, ch))
            g["guided"] = True
            g["band_distance"] = int(dist[ref])
            g["frame_drift"] = round(drift, 3)
            if mirrored:
                g["mirrored"] = True
            out.append((ref, g))
        return out

    @staticmethod
    def _accept_banded(v: dict[str, Any]) -> bool:
        return (
            Matcher._guided_fit_ok(v)
            and v["frame_drift"] <= BAND_FRAME_TOLERANCE
            and (v["spread"] >= 0.1 or v["band_distance"] <= BAND_STRONG)
        )

    def match_features(
        self, candidate: Fingerprint, *, faces: Callable[[Fingerprint], object] | None = None
    ) -> MatchResult | None:
        """The best feature match. A fit on a reference never looked at for faces, that covers too
        little of it to be told from another photo of the same face without them, needs the
        candidate's face boxes: ``faces(candidate)`` adds them (fingerprint.candidate_face_boxes)
        and the candidate is matched again. Without ``faces`` (no pixels at hand) such a result
        says ``faces_unchecked``: the caller must not take it as decided."""
        result = self._match_features(candidate)
        if result is None or not result.details.get("faces_unknown"):
            return result
        if faces is not None:
            faces(candidate)
            if candidate.faces_checked:
                return self._match_features(candidate)
        result.details["faces_unchecked"] = True
        return result

    def _match_features(self, candidate: Fingerprint) -> MatchResult | None:
        fits = self._fits(candidate, prefilter=PREFILTER)
        accepted = [(self._reference_of(view), v) for view, v, _ in fits if self._accept(v)]
        if not accepted and GUIDED:
            accepted = [(r, v) for r, v in self._rescue(candidate, fits) if self._accept_guided(v)]
        if not accepted and BANDED:
            accepted = [(r, v) for r, v in self._banded(candidate) if self._accept_banded(v)]
        if not accepted and BANDED and BANDED_MIRROR:
            accepted = [(r, v) for r, v in self._banded(candidate, mirrored=True) if self._accept_banded(v)]
        if not accepted:
            return None
        ref, v = max(accepted, key=lambda rv: (rv[1]["inliers"], rv[1]["inlier_ratio"]))
        return MatchResult(
            reference_key=self.keys[ref],
            method=v["method"] + ("-mirror" if v.get("mirrored") else ""),
            distance=float(v["inlier_hamming"]),
            details=v,
        )

    def match(
        self, candidate: Fingerprint, *, faces: Callable[[Fingerprint], object] | None = None
    ) -> MatchResult | None:
        """Best match for the candidate, or None. Hashes first; features for what they miss.
        ``faces``: see match_features."""
        return self.match_hash(candidate) or self.match_features(candidate, faces=faces)


def match_image(img: Image.Image, matcher: Matcher) -> MatchResult | None:
    return matcher.match(fingerprint_candidate(img), faces=lambda fp: candidate_face_boxes(fp, img))


def match_frames(frames: Sequence[Image.Image], matcher: Matcher) -> tuple[MatchResult | None, int | None]:
    """Best match over the frames of one image or video, and the index of that frame.

    Hash matches win over feature matches (they are exact evidence); among feature matches
    the one with the most inliers wins.
    """
    best: tuple[tuple[int, float], MatchResult, int] | None = None
    for i, frame in enumerate(frames):
        res = match_image(frame, matcher)
        if res is None:
            continue
        rank = (
            (1, -res.distance) if res.method.startswith("pdq") else (0, float(res.details.get("inliers", 0)))
        )
        if best is None or rank > best[0]:
            best = (rank, res, i)
    return (best[1], best[2]) if best else (None, None)
