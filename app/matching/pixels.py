"""Image pixels as numpy arrays, shared by the fingerprint and feature code. Pure module: no Django."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image


def as_array(img: Image.Image | np.ndarray) -> np.ndarray:
    """uint8 luma (h, w) for greyscale images, RGB (h, w, 3) otherwise, without copying."""
    if isinstance(img, np.ndarray):
        return img
    if img.mode in ("L", "RGB"):
        return np.asarray(img)
    return np.asarray(img.convert("RGB"))


def as_gray(a: np.ndarray) -> np.ndarray:
    return a if a.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
