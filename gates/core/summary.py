"""Dataset Summary: what a folder of images holds. numpy and Pillow only.

Sizes come from image headers (``Image.open`` is lazy), so 10,000 images take
about a second; pixels are decoded only to tell duplicates apart, and only for
images that share a size with another but not their bytes.
"""
from __future__ import annotations

import hashlib
import os
import statistics
from collections import Counter, defaultdict
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps

from . import buckets, dup_groups, quality, scan, tags

MASK_SUFFIX = scan.MASK_SUFFIX        # what Save Image To Folder writes beside an image
CAPTION_EXT = ".txt"
DUPLICATE_MODES = ("exact", "exact + near", "off")
SHORT_SIDE_BINS = (0, 256, 512, 768, 1024, 1536, 2048)
LIST_LIMIT = 50                       # lines per list in the report
WORST = 20                            # the least sharp / most clipped images listed
SHARPNESS_BINS = (0, 25, 50, 100, 200, 400, 800, 1600)    # variance of the Laplacian (quality.py)
CLIPPED_BINS = (0, 0.1, 1, 5, 10, 25, 50)                   # % of the pixels clipped to black or white
TOP_TAGS = 50                         # the most used tags in the report
TOKEN_LIMIT = 75                      # one CLIP window (start/end tokens not counted)


class Item(NamedTuple):
    rel: str                          # path relative to the root, natural order
    folder: str                       # its subfolder ("." = the root)
    width: int
    height: int
    caption: bool
    mask: bool
    error: str = ""


def _size(path: str) -> tuple:
    """(w, h) as the loader will see it (EXIF orientation applied), from the header only."""
    with Image.open(path) as im:
        w, h = im.size
        # A PNG would decode itself to look for EXIF; JPEG and WebP keep it in the header.
        if "exif" in im.info and im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
            w, h = h, w
    return w, h


def scan_items(root: str, depth: int = -1, allows=None) -> tuple:
    """(items, refused): every image under ``root`` (masks are not images) with its sidecars.

    ``allows(path)`` (the access policy) drops files that lead out of the allowed
    folders, e.g. symlinks; ``refused`` lists them.
    """
    items, refused = [], []
    for rel in scan.list_images(root, depth):
        if rel.lower().endswith(MASK_SUFFIX):
            continue
        path = os.path.join(root, rel)
        if allows is not None and not allows(path):
            refused.append(rel)
            continue
        stem = os.path.splitext(path)[0]
        folder = os.path.dirname(rel) or "."
        cap, msk = os.path.exists(stem + CAPTION_EXT), os.path.exists(stem + MASK_SUFFIX)
        try:
            w, h = _size(path)
            items.append(Item(rel, folder, w, h, cap, msk))
        except Exception as e:        # PIL raises many types for bad files; report, don't stop
            items.append(Item(rel, folder, 0, 0, cap, msk, f"{type(e).__name__}: {e}"))
    return items, refused


def _file_hash(path: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pixel_hash(path: str) -> str:
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im) or im
        im = im.convert("RGBA")
        return hashlib.blake2b(f"{im.size}".encode() + im.tobytes(), digest_size=16).hexdigest()


def exact_duplicates(root: str, items: list) -> list:
    """Groups (lists of rel) of images with the same pixels, whatever their format or bytes."""
    by_size = defaultdict(list)
    for it in items:
        if not it.error:
            by_size[(it.width, it.height)].append(it.rel)
    groups = []
    for rels in by_size.values():
        if len(rels) < 2:
            continue
        by_bytes = defaultdict(list)
        for rel in rels:
            by_bytes[_file_hash(os.path.join(root, rel))].append(rel)
        by_pixels = defaultdict(list)
        for same in by_bytes.values():             # equal bytes: equal pixels, decode one of them
            try:
                key = _pixel_hash(os.path.join(root, same[0])) if len(by_bytes) > 1 else "all"
            except Exception:
                key = "bytes:" + same[0]
            by_pixels[key] += same
        groups += [sorted(g, key=scan.natural_key) for g in by_pixels.values() if len(g) > 1]
    return sorted(groups, key=lambda g: scan.natural_key(g[0]))


dhash = quality.dhash                 # ONE difference hash for the pack: gates/core/quality.py


def near_duplicates(root: str, items: list, threshold: int = 6, exact: list = (), signals=None) -> list:
    """Groups of images whose dHashes differ in at most ``threshold`` bits, minus exact-only groups.

    ``signals`` (rel -> quality.Signals, e.g. from ``quality.signals_for``) gives the hashes already
    measured; an image missing from it is hashed here."""
    rels, hashes = [], []
    for it in items:
        if not it.error:
            try:
                sig = signals.get(it.rel) if signals else None
                hashes.append(sig.dhash if sig is not None else dhash(os.path.join(root, it.rel)))
                rels.append(it.rel)
            except Exception:
                pass
    comps = [[rels[i] for i in g] for g in dup_groups.group(np.array(hashes, dtype=np.uint64), threshold)]
    exact_sets = [set(g) for g in exact]
    groups = [sorted(g, key=scan.natural_key) for g in comps
              if len(g) > 1 and not any(set(g) <= s for s in exact_sets)]
    return sorted(groups, key=lambda g: scan.natural_key(g[0]))


def summarize(root: str, items: list, bucket_set: list, min_size: int = 512, duplicates: str = "exact",
              near_threshold: int = 6, refused: list = (), signals=None) -> dict:
    """Counts per folder, buckets, sizes, small images, duplicates: a plain dict (JSON-able)."""
    if duplicates not in DUPLICATE_MODES:
        raise ValueError(f"duplicates must be one of {DUPLICATE_MODES}, got {duplicates!r}")
    ok = [it for it in items if not it.error]
    folders: dict = {}
    for it in items:
        f = folders.setdefault(it.folder, {"images": 0, "captions": 0, "masks": 0})
        f["images"] += 1
        f["captions"] += it.caption
        f["masks"] += it.mask
    pick = buckets.Picker(bucket_set)
    bucket_counts = Counter("{}x{}".format(*pick(it.width, it.height)) for it in ok)
    shorts = [min(it.width, it.height) for it in ok]
    edges = list(SHORT_SIDE_BINS) + [None]
    short_hist = {(f"{lo}-{hi - 1}" if hi else f"{lo}+"): sum(1 for s in shorts if s >= lo and (hi is None or s < hi))
                  for lo, hi in zip(edges[:-1], edges[1:])}

    def stats(values):
        return {"min": min(values), "median": statistics.median(values), "max": max(values)} if values else {}

    exact = exact_duplicates(root, items) if duplicates != "off" else []
    near = near_duplicates(root, items, near_threshold, exact, signals) if duplicates == "exact + near" else []
    return {
        "folder": root,
        "images": len(items),
        "captions": sum(it.caption for it in items),
        "masks": sum(it.mask for it in items),
        "folders": dict(sorted(folders.items(), key=lambda kv: scan.natural_key(kv[0]))),
        "buckets": dict(bucket_counts.most_common()),
        "width": stats([it.width for it in ok]),
        "height": stats([it.height for it in ok]),
        "megapixels": stats([round(it.width * it.height / 1e6, 3) for it in ok]),
        "short_side": short_hist,
        "min_size": min_size,
        "small": [[it.rel, it.width, it.height] for it in ok if min(it.width, it.height) < min_size],
        "duplicates": duplicates,
        "exact_duplicates": exact,
        "near_duplicates": near,
        "unreadable": [[it.rel, it.error] for it in items if it.error],
        "refused": list(refused),
    }


def _histogram(values: list, edges: tuple, unit: str = "") -> dict:
    """{"lo-hi": count} over half-open bins [lo, hi), the last one open ("lo+")."""
    ends = list(edges[1:]) + [None]
    return {(f"{lo:g}-{hi:g}{unit}" if hi is not None else f"{lo:g}{unit}+"):
            sum(1 for v in values if v >= lo and (hi is None or v < hi)) for lo, hi in zip(edges, ends)}


def quality_stats(signals: dict, worst: int = WORST) -> dict:
    """Histograms of sharpness and clipped share, and the ``worst`` least sharp and most clipped images,
    from rel -> quality.Signals (images that could not be measured are not in it)."""
    by_name = sorted(signals.items(), key=lambda kv: scan.natural_key(kv[0]))
    least = sorted(by_name, key=lambda kv: kv[1].sharpness)[:worst]
    clipped = [kv for kv in sorted(by_name, key=lambda kv: -(kv[1].black + kv[1].white))
               if kv[1].black + kv[1].white > 0][:worst]
    return {"quality": True,
            "sharpness_hist": _histogram([s.sharpness for _, s in by_name], SHARPNESS_BINS),
            "clipped_hist": _histogram([100 * (s.black + s.white) for _, s in by_name], CLIPPED_BINS, "%"),
            "least_sharp": [[rel, round(s.sharpness, 1)] for rel, s in least],
            "most_clipped": [[rel, round(100 * s.black, 2), round(100 * s.white, 2)] for rel, s in clipped],
            "smaller_than_buckets": sum(1 for _, s in by_name if s.small)}


def tag_stats(captions: dict, count_tokens=None, top: int = TOP_TAGS) -> dict:
    """Tags of ``{rel: caption}``: the ``top`` most used (captions that have each), how many tags occur in
    one caption only, and the captions over 75 CLIP tokens (``None`` without a token counter)."""
    counts, spelling = Counter(), {}
    for cap in captions.values():
        for t in tags.dedupe(tags.split_tags(cap)):
            k = tags.tag_key(t)
            spelling.setdefault(k, t)
            counts[k] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    over = None
    if count_tokens is not None:
        over = [[rel, n] for rel, n in ((rel, count_tokens(c)) for rel, c in captions.items()) if n > TOKEN_LIMIT]
    return {"tags_top": [[spelling[k], n] for k, n in ranked[:top]], "tags_distinct": len(counts),
            "tags_once": sum(1 for n in counts.values() if n == 1), "captions_over_75": over}


def _listing(lines: list, rows: list) -> None:
    lines += rows[:LIST_LIMIT]
    if len(rows) > LIST_LIMIT:
        lines.append(f"  ... and {len(rows) - LIST_LIMIT} more")


def report(s: dict, bucket_note: str = "") -> str:
    """The summary as text for people (the STRING output)."""
    lines = [f"Dataset Summary of {s['folder']}",
             f"images: {s['images']} in {len(s['folders'])} folder(s); with caption: {s['captions']}; "
             f"with mask: {s['masks']}", "", f"{'folder':<32} {'images':>7} {'captions':>9} {'masks':>6}"]
    for name, f in s["folders"].items():
        lines.append(f"{name:<32} {f['images']:>7} {f['captions']:>9} {f['masks']:>6}")
    lines += ["", f"aspect buckets{bucket_note}:"]
    lines += [f"  {b:<12} {n}" for b, n in s["buckets"].items()]
    if s["width"]:
        lines += ["", "sizes (min / median / max):"]
        for k, unit in (("width", "px"), ("height", "px"), ("megapixels", "MP")):
            v = s[k]
            lines.append(f"  {k:<11} {v['min']:g} / {v['median']:g} / {v['max']:g} {unit}")
        lines.append("  short side: " + ", ".join(f"{k}: {n}" for k, n in s["short_side"].items() if n))
    lines += ["", f"below {s['min_size']} px on the short side: {len(s['small'])}"]
    _listing(lines, [f"  {r} ({w}x{h})" for r, w, h in s["small"]])
    if s["duplicates"] == "off":
        lines += ["", "duplicates: not checked"]
    else:
        lines += ["", f"exact duplicates (same pixels): {len(s['exact_duplicates'])} group(s)"]
        _listing(lines, ["  " + " = ".join(g) for g in s["exact_duplicates"]])
        if s["duplicates"] == "exact + near":
            lines += [f"near duplicates (perceptual hash): {len(s['near_duplicates'])} group(s)"]
            _listing(lines, ["  " + " ~ ".join(g) for g in s["near_duplicates"]])
    if s.get("quality"):
        lines += ["", "sharpness (variance of the Laplacian at 256 px; blurred is low): "
                  + ", ".join(f"{k}: {n}" for k, n in s["sharpness_hist"].items() if n)]
        lines.append(f"the {len(s['least_sharp'])} least sharp:")
        lines += [f"  {v:>8.1f}  {r}" for r, v in s["least_sharp"]]
        lines += ["", "clipped pixels (black <= 2 or white >= 253): "
                  + ", ".join(f"{k}: {n}" for k, n in s["clipped_hist"].items() if n)]
        lines.append(f"the {len(s['most_clipped'])} most clipped (black % / white %):")
        lines += [f"  {b:>6.2f} / {w:>6.2f}  {r}" for r, b, w in s["most_clipped"]]
        lines.append(f"smaller than the smallest training bucket (Bucket Resize's defaults): "
                     f"{s['smaller_than_buckets']}")
    if "tags_top" in s:
        lines += ["", f"tags: {s['tags_distinct']} distinct, {s['tags_once']} used once; "
                  f"the {len(s['tags_top'])} most used (captions):"]
        lines += [f"  {n:>6}  {t}" for t, n in s["tags_top"]]
        over = s["captions_over_75"]
        if over is None:
            lines.append(f"captions over {TOKEN_LIMIT} CLIP tokens: not counted (no tokenizer outside ComfyUI)")
        else:
            lines.append(f"captions over {TOKEN_LIMIT} CLIP tokens: {len(over)}")
            _listing(lines, [f"  {r} ({n} tokens)" for r, n in over])
    if s["unreadable"]:
        lines += ["", f"unreadable: {len(s['unreadable'])}"]
        _listing(lines, [f"  {r}: {e}" for r, e in s["unreadable"]])
    if s["refused"]:
        lines += ["", f"skipped (links out of the allowed folders): {len(s['refused'])}"]
        _listing(lines, [f"  {r}" for r in s["refused"]])
    return "\n".join(lines) + "\n"
