"""The face stage: find faces in an image, describe each by a 128-number embedding, compare.

Pure module: no Django. Used only for cases whose person consented to it (a face embedding is
biometric data). dlib's HOG face detector (built into dlib), its 5-point landmark model and its
ResNet face-recognition model; the weights ship in the ``face-recognition-models`` package, so
nothing is downloaded at run time. The embedding distance is Euclidean: two photos of one
person are usually nearer than ``FACE_THRESHOLD``.

Known limits (docs/faces.md): dlib's model was trained and measured mostly on white, male faces
(LFW, where it reports 99.38%); it confuses East Asian faces, and women's, more often. The
threshold below was chosen conservatively from the 1:1 false-match rate on LFW (bench/faces.py)
and every face match waits for a person's confirmation.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

# Chosen from the 1:1 false-match rate (bench/faces.py, docs/benchmarks.md), not from dlib's
# usual 0.6: on LFW about 1 compared face in 10,000 falls under 0.47 (0.6 lets through 1 in 170).
# That leaves ten times headroom for the faces dlib confuses more often (East Asian faces,
# women's), the people Jium serves, before reaching 1 in 1,000. Lower = stricter.
FACE_THRESHOLD = 0.47
EMBEDDING_DIM = 128
EMBEDDING_BYTES = EMBEDDING_DIM * 4  # float32
# Detection runs on the image shrunk to this long side (HOG cost grows with the pixel count);
# small images are upsampled once so faces of ~40 px are still found.
DETECT_SIDE = 800
SMALL_SIDE = 400
MIN_FACE_PX = 32  # faces smaller than this (in the detection image) give unreliable embeddings
MAX_FACES_PER_IMAGE = 8  # a crowd photo is not where a deepfake hides; bounds the cost per item
MAX_FACE_FRAMES = 12  # video keyframes looked at for faces, spread over the video
FACE_CHIP_SIZE = 150  # dlib's model expects 150x150 aligned chips

MODEL_FILES = {
    "landmarks": "shape_predictor_5_face_landmarks.dat",
    "recognition": "dlib_face_recognition_resnet_model_v1.dat",
}
# dlib's CNN (MMOD) face detector ships in the same package. Measured side by side with HOG
# (bench/faces.py --compare-detectors, docs/benchmarks.md) it was not adopted: on faces-dev it
# found no more faces and cost 13x HOG's time per image without a face even as a fallback. The
# face stage uses HOG; "cnn" and "hog+cnn" stay available so the comparison can be run again.
CNN_MODEL_FILE = "mmod_human_face_detector.dat"
CNN_SIDE = 400  # the CNN looks at the image shrunk to this long side, never upsampled
# Which detector finds faces: "hog" (dlib's HOG), "cnn" (dlib's MMOD CNN), or "hog+cnn" (HOG,
# and the CNN only when HOG finds no face).
DETECTORS = ("hog", "cnn", "hog+cnn")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


MODEL_VERSION = (
    f"dlib-resnet-v1 (dlib {_version('dlib-bin')}, face-recognition-models "
    f"{_version('face-recognition-models')}, HOG detector, 5-point alignment)"
)


class FaceModelMissing(RuntimeError):
    """The model files are not installed (the ``face-recognition-models`` package)."""


def _model_dir() -> Path:
    # The package's own __init__ imports pkg_resources (setuptools), which may be absent: find
    # its folder without importing it.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelMissing("the face-recognition-models package is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in MODEL_FILES.values():
        if not (folder / name).is_file():
            raise FaceModelMissing(f"face model file missing: {folder / name}")
    return folder


class _Models:
    """dlib's models, loaded once per process (~30 MB) on first use.

    dlib's objects are not documented as thread-safe, and the scan pipeline analyses media on
    several threads: one lock around every call. Workers are processes, so this only serialises
    face work within one worker (which has one core's worth of CPU anyway).
    """

    def __init__(self) -> None:
        import dlib

        folder = _model_dir()
        self.detector = dlib.get_frontal_face_detector()
        self.landmarks = dlib.shape_predictor(str(folder / MODEL_FILES["landmarks"]))
        self.recognition = dlib.face_recognition_model_v1(str(folder / MODEL_FILES["recognition"]))
        self.folder = folder
        self._cnn: Any = None
        self.lock = threading.Lock()

    @property
    def cnn(self) -> Any:
        """The CNN detector, loaded on first use only (most processes never need it)."""
        import dlib

        if self._cnn is None:
            path = self.folder / CNN_MODEL_FILE
            if not path.is_file():
                raise FaceModelMissing(f"face model file missing: {path}")
            self._cnn = dlib.cnn_face_detection_model_v1(str(path))
        return self._cnn


_models: _Models | None = None
_models_lock = threading.Lock()


def _get_models() -> _Models:
    global _models
    with _models_lock:
        if _models is None:
            _models = _Models()
        return _models


_hog: Any = None
_hog_lock = threading.Lock()


def face_boxes(img: Image.Image, *, max_faces: int = MAX_FACES_PER_IMAGE) -> list[tuple[int, int, int, int]]:
    """Where faces are in ``img``: (left, top, right, bottom) in its pixels, largest first.

    dlib's HOG detector alone, built into dlib (no model files): a box says where a face is,
    not whose it is, and nothing here describes the face. The image matcher uses it on
    references only, to tell a copy of the picture from another photo of the same face
    (engine.FACE_ONLY_SHARE); it needs no face-stage consent and costs tens of milliseconds a
    reference, never anything per fetched image."""
    import dlib

    global _hog
    arr, scale, upsample = _detection_array(img)
    with _hog_lock:
        if _hog is None:
            _hog = dlib.get_frontal_face_detector()
        rects = list(_hog(arr, upsample))
    rects.sort(key=lambda r: -r.area())
    return [
        _image_box(r, scale, arr.shape)
        for r in rects[:max_faces]
        if min(r.width(), r.height()) >= MIN_FACE_PX
    ]


@dataclass
class Face:
    """One face found in an image. ``box`` is (left, top, right, bottom) in the image's pixels."""

    box: tuple[int, int, int, int]
    embedding: np.ndarray  # float32, EMBEDDING_DIM
    score: float = 0.0  # detector confidence (HOG margin; > 0 is a detection)

    @property
    def size(self) -> int:
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])


def _rgb_array(img: Image.Image, side: int) -> tuple[np.ndarray, float]:
    """The image as an RGB uint8 array with long side at most ``side``; the scale applied."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    w, h = img.size
    scale = min(1.0, side / max(w, h, 1))
    if scale < 1.0:
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8)), scale


def _detection_array(img: Image.Image) -> tuple[np.ndarray, float, int]:
    """What the HOG detector looks at: the image at most DETECT_SIDE long, the scale applied,
    and how often to upsample it (once for small images, so faces of ~40 px are found)."""
    arr, scale = _rgb_array(img, DETECT_SIDE)
    return arr, scale, 1 if max(arr.shape[:2]) <= SMALL_SIDE else 0


def _image_box(rect: Any, scale: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A detector rectangle on the detection array, clipped to it, in the image's own pixels."""
    h, w = shape[:2]
    return (
        round(max(rect.left(), 0) / scale),
        round(max(rect.top(), 0) / scale),
        round(min(rect.right(), w) / scale),
        round(min(rect.bottom(), h) / scale),
    )


def _cnn_rects(models: _Models, arr: np.ndarray) -> list[tuple[Any, float]]:
    """(rectangle in ``arr``'s pixels, confidence) of the faces dlib's CNN finds, run on ``arr``
    shrunk to CNN_SIDE (its cost grows with the pixel count much faster than HOG's)."""
    import dlib

    h, w = arr.shape[:2]
    scale = min(1.0, CNN_SIDE / max(h, w, 1))
    small = arr
    if scale < 1.0:
        img = Image.fromarray(arr).resize(
            (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR
        )
        small = np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
    out = []
    for det in models.cnn(small, 0):
        r = det.rect
        rect = dlib.rectangle(
            round(r.left() / scale),
            round(r.top() / scale),
            round(r.right() / scale),
            round(r.bottom() / scale),
        )
        out.append((rect, float(det.confidence)))
    return out


def detect_faces(
    img: Image.Image, *, max_faces: int = MAX_FACES_PER_IMAGE, detector: str = "hog"
) -> list[Face]:
    """Faces in ``img`` (largest first, at most ``max_faces``), each with its embedding.

    ``detector`` is one of DETECTORS; "hog" is what the pipeline uses (bench/faces.py).
    """
    import dlib

    if detector not in DETECTORS:
        raise ValueError(f"unknown face detector {detector!r}")
    models = _get_models()
    arr, scale, upsample = _detection_array(img)
    with models.lock:
        found: list[tuple[Any, float]] = []
        if detector != "cnn":
            rects, scores, _ = models.detector.run(arr, upsample, 0.0)
            found = list(zip(rects, scores, strict=True))
        if detector == "cnn" or (detector == "hog+cnn" and not found):
            found = _cnn_rects(models, arr)
        found.sort(key=lambda rs: -rs[0].area())
        faces: list[Face] = []
        for rect, score in found:
            if min(rect.width(), rect.height()) < MIN_FACE_PX:
                continue
            shape = models.landmarks(arr, rect)
            chip = dlib.get_face_chip(arr, shape, size=FACE_CHIP_SIZE, padding=0.25)
            vec = np.asarray(models.recognition.compute_face_descriptor(chip), dtype=np.float32)
            faces.append(Face(box=_image_box(rect, scale, arr.shape), embedding=vec, score=float(score)))
            if len(faces) >= max_faces:
                break
    return faces


def embedding_to_bytes(vec: np.ndarray) -> bytes:
    arr = np.asarray(vec, dtype="<f4").ravel()
    if arr.shape != (EMBEDDING_DIM,):
        raise ValueError("a face embedding has 128 numbers")
    return arr.tobytes()


def embedding_from_bytes(data: bytes) -> np.ndarray:
    if len(data) != EMBEDDING_BYTES:
        raise ValueError("a stored face embedding is 512 bytes")
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def face_crop(img: Image.Image, box: tuple[int, int, int, int], *, margin: float = 0.25) -> Image.Image:
    """Only the face region (with a little margin), for a person to judge a face match."""
    left, top, right, bottom = box
    mw, mh = (right - left) * margin, (bottom - top) * margin
    w, h = img.size
    region = (
        max(0, int(left - mw)),
        max(0, int(top - mh)),
        min(w, int(right + mw)),
        min(h, int(bottom + mh)),
    )
    crop = img.crop(region).convert("RGB")
    crop.thumbnail((256, 256))
    return crop


@dataclass
class FaceMatchResult:
    reference_key: Hashable  # which of the person's faces matched
    distance: float
    box: tuple[int, int, int, int]  # of the matching face in the candidate
    frame: int = 0
    faces_seen: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    method = "face"


class FaceMatcher:
    """The person's face embeddings; answers "is one of these faces theirs?"."""

    def __init__(
        self, references: Sequence[tuple[Hashable, np.ndarray]], *, threshold: float = FACE_THRESHOLD
    ) -> None:
        self.keys = [k for k, _ in references]
        self._emb = (
            np.stack([np.asarray(v, np.float32) for _, v in references])
            if references
            else np.zeros((0, EMBEDDING_DIM), np.float32)
        )
        self.threshold = threshold

    def __len__(self) -> int:
        return len(self.keys)

    def distances(self, embedding: np.ndarray) -> np.ndarray:
        return np.linalg.norm(self._emb - np.asarray(embedding, np.float32)[None, :], axis=1)

    def match_faces(self, faces: Sequence[Face], *, frame: int = 0) -> FaceMatchResult | None:
        best: FaceMatchResult | None = None
        if not len(self.keys):
            return None
        for face in faces:
            d = self.distances(face.embedding)
            i = int(np.argmin(d))
            dist = float(d[i])
            if dist <= self.threshold and (best is None or dist < best.distance):
                best = FaceMatchResult(
                    reference_key=self.keys[i],
                    distance=round(dist, 4),
                    box=face.box,
                    frame=frame,
                    faces_seen=len(faces),
                    details={
                        "face_distance": round(dist, 4),
                        "face_threshold": self.threshold,
                        "face_box": list(face.box),
                        "faces_in_image": len(faces),
                        "model": MODEL_VERSION,
                    },
                )
        return best

    def match_frames(self, frames: Sequence[Image.Image]) -> FaceMatchResult | None:
        """Nearest face match over the frames of one image or video (frames spread evenly when
        a video has more than MAX_FACE_FRAMES), or None."""
        best: FaceMatchResult | None = None
        for i in spread_indices(len(frames), MAX_FACE_FRAMES):
            res = self.match_faces(detect_faces(frames[i]), frame=i)
            if res is not None and (best is None or res.distance < best.distance):
                best = res
        return best


def spread_indices(n: int, k: int) -> list[int]:
    """At most ``k`` indices of ``range(n)``, evenly spread, first and last included."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})
