"""API-format graphs and test images for the real server."""
from __future__ import annotations

import io
import os
import uuid

import numpy as np
from PIL import Image


def png_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def noise_image(folder: str, w: int, h: int, name: str | None = None, seed: int = 0) -> str:
    """Write a random RGB PNG into ``folder`` (ComfyUI's input); return its name."""
    name = name or f"noise_{w}x{h}_{uuid.uuid4().hex[:6]}.png"
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(os.path.join(folder, name),
                                                                         compress_level=1)
    return name


def gate_graph(image_name: str, routes: int = 3, labels: str = "", batch: int = 1, prefix: str | None = None,
               timeout: int = 0, on_timeout: str = "stop", gate_id: str = "2") -> tuple[dict, str]:
    """LoadImage -> [RepeatImageBatch] -> ImageGate -> SaveImage per route, mask -> MaskToImage -> SaveImage.

    Returns (prompt, prefix); saved files are ``<prefix>_route<k>_*.png`` and ``<prefix>_mask_*.png``.
    """
    prefix = prefix or "t" + uuid.uuid4().hex[:8]
    g: dict = {"1": {"class_type": "LoadImage", "inputs": {"image": image_name}}}
    src = ["1", 0]
    if batch > 1:
        g["9"] = {"class_type": "RepeatImageBatch", "inputs": {"image": src, "amount": batch}}
        src = ["9", 0]
    g[gate_id] = {"class_type": "ImageGate", "inputs": {"image": src, "routes": routes, "labels": labels,
                                                       "timeout_seconds": timeout, "on_timeout": on_timeout}}
    for k in range(1, routes + 1):
        g[f"{10 + k}"] = {"class_type": "SaveImage",
                          "inputs": {"images": [gate_id, k], "filename_prefix": f"{prefix}_route{k}"}}
    g["30"] = {"class_type": "MaskToImage", "inputs": {"mask": [gate_id, 0]}}
    g["31"] = {"class_type": "SaveImage", "inputs": {"images": ["30", 0], "filename_prefix": f"{prefix}_mask"}}
    return g, prefix


def saved(output_dir: str, prefix: str) -> list:
    return sorted(f for f in os.listdir(output_dir) if f.startswith(prefix + "_"))


def kinds(output_dir: str, prefix: str) -> list:
    """What a graph saved: ['mask', 'route2'] for <prefix>_mask_00001_.png, <prefix>_route2_00001_.png."""
    return sorted(f[len(prefix) + 1:].split("_")[0] for f in saved(output_dir, prefix))
