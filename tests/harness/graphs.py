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


class Node:
    """One node of a Graph; ``node.out(i)`` is the link to its output ``i``."""

    def __init__(self, graph: Graph, node_id: str, class_type: str, inputs: dict):
        self.graph, self.id, self.class_type, self.inputs = graph, node_id, class_type, inputs

    def out(self, index: int) -> list:
        return [self.id, index]

    def set(self, **inputs) -> Node:
        self.inputs.update(inputs)
        return self


class Graph:
    """An API-format prompt, built the way ComfyUI's own tests/execution build theirs.

        g = Graph()
        load = g.node("LoadImage", image="x.png")
        gate = g.node("ImageGate", image=load.out(0), routes=2)
        client.queue(g.prompt())
    """

    def __init__(self):
        self.nodes: dict[str, Node] = {}

    def node(self, class_type: str, node_id: str | None = None, **inputs) -> Node:
        node_id = str(node_id or len(self.nodes) + 1)
        while node_id in self.nodes:
            node_id = str(int(node_id) + 1) if node_id.isdigit() else node_id + "_"
        node = self.nodes[node_id] = Node(self, node_id, class_type, inputs)
        return node

    def prompt(self) -> dict:
        return {i: {"class_type": n.class_type, "inputs": dict(n.inputs)} for i, n in self.nodes.items()}


class GateGraph:
    """LoadImage -> [RepeatImageBatch] -> ImageGate -> SaveImage per route; mask -> MaskToImage -> SaveImage.

    Unpacks as ``(prompt, prefix)``; saved files are ``<prefix>_route<k>_*.png``
    and ``<prefix>_mask_*.png``. ``gate``, ``savers[k]`` and ``mask_saver`` are its nodes.
    """

    def __init__(self, image_name: str, routes: int = 3, labels: str = "", batch: int = 1,
                 prefix: str | None = None, timeout: int = 0, on_timeout: str = "stop", gate_id: str | None = None):
        self.prefix = prefix or "t" + uuid.uuid4().hex[:8]
        self.graph = g = Graph()
        src = g.node("LoadImage", image=image_name)
        if batch > 1:
            src = g.node("RepeatImageBatch", image=src.out(0), amount=batch)
        self.gate = g.node("ImageGate", gate_id, image=src.out(0), routes=routes, labels=labels,
                           timeout_seconds=timeout, on_timeout=on_timeout)
        self.savers = {k: g.node("SaveImage", images=self.gate.out(k), filename_prefix=f"{self.prefix}_route{k}")
                       for k in range(1, routes + 1)}
        to_image = g.node("MaskToImage", mask=self.gate.out(0))
        self.mask_saver = g.node("SaveImage", images=to_image.out(0), filename_prefix=f"{self.prefix}_mask")

    def prompt(self) -> dict:
        return self.graph.prompt()

    def __iter__(self):
        return iter((self.prompt(), self.prefix))


def gate_graph(image_name: str, **options) -> GateGraph:
    return GateGraph(image_name, **options)


def saved(output_dir: str, prefix: str) -> list:
    return sorted(f for f in os.listdir(output_dir) if f.startswith(prefix + "_"))


def kinds(output_dir: str, prefix: str) -> list:
    """What a graph saved: ['mask', 'route2'] for <prefix>_mask_00001_.png, <prefix>_route2_00001_.png."""
    return sorted(f[len(prefix) + 1:].split("_")[0] for f in saved(output_dir, prefix))


class SortGraph:
    """FolderImageLoader (sort mode) -> ImageGate -> one SaveImageToFolder per route (image, caption, mask)."""

    def __init__(self, folder: str, out_root: str, labels=("keep", "reject", "fix"), fmt: str = "png"):
        self.graph = g = Graph()
        self.loader = g.node("FolderImageLoader", folder=folder, index=0, depth=0, mode="sort")
        self.gate = g.node("ImageGate", image=self.loader.out(0), routes=len(labels), labels=",".join(labels),
                           timeout_seconds=0, on_timeout="stop")
        self.savers = {k: g.node("SaveImageToFolder", image=self.gate.out(k), folder=f"{out_root}/{label}",
                                 filename=self.loader.out(3), format=fmt, on_conflict="overwrite",
                                 caption=self.loader.out(1), mask=self.gate.out(0), save_empty_mask=False)
                       for k, label in enumerate(labels, start=1)}

    def prompt(self) -> dict:
        return self.graph.prompt()
