"""Minimal PNG writer (stdlib zlib only), for demo figures."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write an (H, W, 3) RGB image to ``path``; uint8, or float in [0, 1] (clipped)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {img.shape}")
    height, width = img.shape[:2]
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(height))  # filter: none
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
    data += _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")
    Path(path).write_bytes(data)


def image_grid(rows: list[list[np.ndarray]], pad: int = 4, fill: float = 1.0) -> np.ndarray:
    """Tile equally sized (H, W, 3) float images into one image with ``pad`` px gaps."""
    h, w = rows[0][0].shape[:2]
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    out = np.full((n_rows * (h + pad) + pad, n_cols * (w + pad) + pad, 3), fill, np.float32)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            out[y : y + h, x : x + w] = img
    return out
