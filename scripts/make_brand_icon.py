#!/usr/bin/env python3
"""Draw Kilowise's brand icon: custom_components/kilowise/brand/icon.png and icon@2x.png.

    python3 scripts/make_brand_icon.py      (numpy; any Python 3.11+)

A teal tile with a white house that holds an amber lightning bolt: a home's
energy. Drawn from
geometry alone (no artwork is copied), anti-aliased by supersampling, written
as 8-bit RGBA PNG in sRGB, the format Home Assistant's brand images want
(256x256 and 512x512, square, transparent outside the tile).
"""

from __future__ import annotations

from pathlib import Path
import struct
import zlib

import numpy as np
from numpy.typing import NDArray

OUT = Path(__file__).resolve().parents[1] / "custom_components" / "kilowise" / "brand"
SUPERSAMPLE = 4
Mask = NDArray[np.float64]

# Geometry on a 256-unit square.
TILE = (4.0, 4.0, 252.0, 252.0, 56.0)  # x0, y0, x1, y1, corner radius
HOUSE = [
    (128.0, 32.0),
    (228.0, 120.0),
    (204.0, 120.0),
    (204.0, 218.0),
    (52.0, 218.0),
    (52.0, 120.0),
    (28.0, 120.0),
]
BOLT = [
    (146.0, 92.0),
    (94.0, 164.0),
    (124.0, 164.0),
    (108.0, 212.0),
    (164.0, 138.0),
    (134.0, 138.0),
    (156.0, 92.0),
]
TEAL_TOP = (0x14, 0x9E, 0x9A)
TEAL_BOTTOM = (0x0B, 0x5F, 0x6B)
WHITE = (0xFF, 0xFF, 0xFF)
AMBER = (0xFB, 0xBF, 0x24)


def _grid(size: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sample points (in 256-unit coordinates) of a supersampled canvas."""
    n = size * SUPERSAMPLE
    axis = (np.arange(n) + 0.5) * (256.0 / n)
    return np.meshgrid(axis, axis)


def _polygon(
    x: NDArray[np.float64], y: NDArray[np.float64], points: list[tuple[float, float]]
) -> Mask:
    """1 inside the polygon, 0 outside (even-odd rule)."""
    inside = np.zeros(x.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < at)
    return inside.astype(np.float64)


def _rounded_rect(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    rect: tuple[float, float, float, float, float],
) -> Mask:
    x0, y0, x1, y1, r = rect
    dx = np.maximum(np.maximum(x0 + r - x, x - (x1 - r)), 0.0)
    dy = np.maximum(np.maximum(y0 + r - y, y - (y1 - r)), 0.0)
    inside = (
        (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1) & (dx * dx + dy * dy <= r * r)
    )
    return inside.astype(np.float64)


def render(size: int) -> NDArray[np.uint8]:
    """The icon as ``size`` x ``size`` RGBA bytes."""
    x, y = _grid(size)
    tile = _rounded_rect(x, y, TILE)
    house = _polygon(x, y, HOUSE)
    bolt = _polygon(x, y, BOLT)
    shade = (y / 256.0)[..., None]
    teal = (1.0 - shade) * np.array(TEAL_TOP) + shade * np.array(TEAL_BOTTOM)
    rgb = teal.copy()
    white = (house * (1.0 - bolt))[..., None]
    rgb = rgb * (1.0 - white) + white * np.array(WHITE)
    amber = (house * bolt)[..., None]
    rgb = rgb * (1.0 - amber) + amber * np.array(AMBER)
    rgba = np.concatenate([rgb * tile[..., None], (tile * 255.0)[..., None]], axis=-1)
    # Average each SUPERSAMPLE x SUPERSAMPLE block (premultiplied colour).
    blocks = rgba.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE, 4).mean(axis=(1, 3))
    alpha = blocks[..., 3:4]
    colour = np.where(alpha > 0, blocks[..., :3] * 255.0 / np.maximum(alpha, 1e-9), 0.0)
    out = np.concatenate([colour, alpha], axis=-1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def png(pixels: NDArray[np.uint8]) -> bytes:
    """An 8-bit RGBA PNG with an sRGB chunk."""
    height, width, _ = pixels.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"sRGB", b"\x00")
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        (OUT / name).write_bytes(png(render(size)))
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
