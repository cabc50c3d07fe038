"""Dataset Export's core: a curated folder laid out the way a trainer reads it. No ComfyUI, no torch.

``plan`` looks at the sources and the target and decides, for every image, which
files it becomes and whether each is new, already there (same bytes) or in the
way (an existing, different file: ``on_conflict`` decides). ``execute`` writes
that plan, every file atomically (a hidden ``.part`` renamed into place), then
``manifest.jsonl`` (and ``metadata.jsonl`` for ``imagefolder``). A dry run is the
plan alone. Images are copied byte for byte; the only image ever re-encoded is
one that ``masks: alpha`` gives an alpha channel (kohya), losslessly as PNG.

Layouts:

* ``kohya`` (kohya-ss sd-scripts, DreamBooth style): ``<target>/<repeats>_<name>/<stem>.<ext>``
  and ``<stem>.txt`` (or ``.caption``). With ``masks: alpha`` an image with a mask
  becomes an RGBA PNG whose alpha is the mask: sd-scripts' ``alpha_mask`` option
  reads alpha/255 as the loss weight (255 = learned, 0 = ignored).
* ``onetrainer``: ``<target>/<stem>.<ext>``, ``<stem>.txt`` and the mask as
  ``<stem>-masklabel.png`` (grayscale, the image's size): with masked training on,
  OneTrainer learns the white area and weights black by its "unmasked weight".
* ``imagefolder`` (Hugging Face ``datasets``): ``<target>/<stem>.<ext>`` and
  ``metadata.jsonl`` rows ``{"file_name": ..., "text": ...}``.

In this pack a mask is ``<stem>.mask.png`` beside the image, white = painted;
``painted`` says whether the painted area is what the trainer should learn
(the mask as it is) or ignore (inverted).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field

from . import access, files, scan

LAYOUTS = ("kohya", "onetrainer", "imagefolder")
CAPTION_EXTS = (".txt", ".caption")
UNCAPTIONED = ("include", "skip", "error")
MASK_MODES = ("auto", "skip", "alpha")
PAINTED = ("learn", "ignore")
CONFLICTS = ("error", "skip", "overwrite", "suffix")
MANIFEST = "manifest.jsonl"
METADATA = "metadata.jsonl"
MASKLABEL = "-masklabel.png"
# what each trainer's reader lists as an image (kohya: sd-scripts' IMAGE_EXTENSIONS without the optional
# avif/jxl; OneTrainer: its supported image extensions; datasets' imagefolder: every format Pillow reads)
READS = {"kohya": (".png", ".jpg", ".jpeg", ".webp", ".bmp"),
         "onetrainer": (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"),
         "imagefolder": scan.IMAGE_EXTS}
COPY_BLOCK = 1 << 20


def _choice(value, allowed, what):
    if value not in allowed:
        raise ValueError(f"{what} must be one of {list(allowed)}, got {value!r}")
    return value


@dataclass
class Options:
    layout: str = "kohya"
    name: str = "dataset"
    repeats: int = 10
    caption_ext: str = ".txt"
    uncaptioned: str = "include"
    masks: str = "auto"
    painted: str = "learn"
    on_conflict: str = "error"

    def check(self) -> Options:
        _choice(self.layout, LAYOUTS, "layout")
        _choice(self.caption_ext, CAPTION_EXTS, "caption_ext")
        _choice(self.uncaptioned, UNCAPTIONED, "uncaptioned")
        _choice(self.masks, MASK_MODES, "masks")
        _choice(self.painted, PAINTED, "painted")
        _choice(self.on_conflict, CONFLICTS, "on_conflict")
        if self.layout == "kohya":
            files.check_stem(self.name)
            if not isinstance(self.repeats, int) or self.repeats < 1:
                raise ValueError(f"repeats must be a whole number of at least 1, got {self.repeats!r}")
        if self.masks == "alpha" and self.layout != "kohya":
            raise ValueError(f"masks 'alpha' is kohya's convention; layout {self.layout!r} takes 'auto' or 'skip'")
        return self

    @property
    def mask_mode(self) -> str:
        """What happens to masks: 'skip', 'alpha' (kohya) or 'masklabel' (OneTrainer)."""
        if self.masks == "auto":
            return "masklabel" if self.layout == "onetrainer" else "skip"
        return self.masks

    @property
    def subfolder(self) -> str:
        return f"{self.repeats}_{self.name}" if self.layout == "kohya" else ""


def parse_sources(text) -> list:
    """``sorted/keep`` lines or comma-separated entries -> the non-empty entries, in order."""
    out = []
    for line in str(text or "").replace(",", "\n").splitlines():
        s = line.strip().strip('"').strip()
        if s and s not in out:
            out.append(s)
    if not out:
        raise ValueError("no source folder given: set 'source' to a folder of images (e.g. sorted/keep)")
    return out


def resolve_folders(source, target, base):
    """(source folders, target folder), absolute, checked: existing sources, no overlap, the access policy."""
    srcs = []
    for s in parse_sources(source):
        p = access.check(scan.resolve_folder(s, base), "source folder")
        if not os.path.isdir(p):
            raise ValueError(f"source folder not found: {p}" + (f" (from {s!r})" if s != p else ""))
        srcs.append(p)
    if not str(target or "").strip():
        raise ValueError("no target folder given: set 'target' to the folder to export into")
    tgt = access.check(scan.resolve_folder(target, base), "target folder")
    if os.path.exists(tgt) and not os.path.isdir(tgt):
        raise ValueError(f"target folder is a file, not a folder: {tgt}")
    rt = access.real(tgt)
    for s in srcs:
        rs = access.real(s)
        if access.inside(rt, rs):
            raise ValueError(f"target folder {tgt} is inside source folder {s}: the export would read its own "
                             "files; pick a target outside every source")
        if access.inside(rs, rt):
            raise ValueError(f"source folder {s} is inside target folder {tgt}: the trainer would read the source "
                             "too; pick a target outside every source")
    return srcs, tgt


@dataclass
class Item:
    """One image of a source, with what lies beside it."""
    path: str
    stem: str
    ext: str
    caption: str | None           # None: no caption (no <stem>.txt, or an empty one)
    caption_path: str | None
    mask_path: str | None


def collect(sources, allows=None) -> tuple:
    """(items, refused): every image directly in each source folder (natural order; masks are not images).

    ``allows`` (the access policy's, on an exposed server): a file whose real path it
    refuses (a link leading out of the allowed folders) is not read; its path is in ``refused``.
    """
    items, refused = [], []
    for folder in sources:
        for rel in scan.list_images(folder, 0):
            path = os.path.join(folder, rel)
            stem, ext = os.path.splitext(rel)
            cap = scan.sidecar_path(folder, rel)
            mask = os.path.join(folder, stem + scan.MASK_SUFFIX)
            if allows is not None and not all(allows(p) for p in (path, cap, mask) if os.path.lexists(p)):
                refused.append(path)
                continue
            text = scan.read_sidecar(folder, rel)
            items.append(Item(path, stem, ext, text or None,
                              cap if os.path.exists(cap) else None, mask if os.path.isfile(mask) else None))
    return items, refused


@dataclass
class Out:
    """One file to place: ``rel`` under the target, from ``source``'s bytes or made by ``make``."""
    rel: str
    kind: str                      # image, caption, mask
    source: str | None
    make: object = None            # () -> bytes; None = copy the source's bytes
    state: str = ""                # new, same, differs

    def data(self) -> bytes:
        return self.make()


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(COPY_BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def _same(out: Out, path: str) -> bool:
    """Does the file at ``path`` already hold exactly what ``out`` would write?"""
    if out.make is None:
        if os.path.getsize(path) != os.path.getsize(out.source):
            return False
        return sha256_file(path) == sha256_file(out.source)
    data = out.data()
    return os.path.getsize(path) == len(data) and sha256_file(path) == hashlib.sha256(data).hexdigest()


def _open_image(path):
    from PIL import Image, ImageOps

    im = Image.open(path)
    return ImageOps.exif_transpose(im) or im


def mask_array(mask_path, size, painted="learn"):
    """The pack's mask file (white = painted) as uint8 [H, W] at ``size`` (w, h), 255 = learn."""
    import numpy as np
    from PIL import Image

    with Image.open(mask_path) as m:
        m = m.convert("L")
        if m.size != tuple(size):
            m = m.resize(tuple(size), Image.BILINEAR)
        arr = np.asarray(m, dtype=np.uint8)
    return (255 - arr) if painted == "ignore" else arr


def _png(arr, mode=None) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def masklabel_bytes(image_path, mask_path, painted="learn") -> bytes:
    """OneTrainer's ``<stem>-masklabel.png``: grayscale, the image's size, white = learned."""
    with _open_image(image_path) as im:
        size = im.size
    return _png(mask_array(mask_path, size, painted))


def alpha_png_bytes(image_path, mask_path, painted="learn") -> bytes:
    """kohya's ``alpha_mask`` image: the image's 8-bit RGB with the mask as alpha (255 = learned), PNG."""
    import numpy as np

    with _open_image(image_path) as im:
        if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):    # 16-bit gray: its top 8 bits (convert clips)
            gray = (np.asarray(im, dtype=np.uint32) >> 8).astype(np.uint8)
            rgb = np.dstack([gray, gray, gray])
        else:
            rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
        size = im.size
    a = mask_array(mask_path, size, painted)
    return _png(np.ascontiguousarray(np.dstack([rgb, a])), "RGBA")


def _has_alpha(path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return "A" in im.getbands() or (im.mode == "P" and "transparency" in im.info)
    except Exception:  # noqa: BLE001 - an unreadable file is the trainer's to report
        return False


def outs_for(item: Item, stem: str, opt: Options) -> list:
    """The files one image becomes under ``stem`` (names relative to the target)."""
    sub = opt.subfolder

    def rel(name):
        return f"{sub}/{name}" if sub else name

    out = []
    mode = opt.mask_mode
    if mode == "alpha" and item.mask_path:             # re-encoded: an RGBA PNG, the mask as its alpha
        out.append(Out(rel(stem + ".png"), "image", item.path,
                       lambda: alpha_png_bytes(item.path, item.mask_path, opt.painted)))
    else:
        out.append(Out(rel(stem + item.ext), "image", item.path))
    if opt.layout != "imagefolder":
        text = item.caption or ""
        ext = opt.caption_ext if opt.layout == "kohya" else ".txt"
        out.append(Out(rel(stem + ext), "caption", item.caption_path if item.caption else None,
                       lambda: text.encode("utf-8")))
    if mode == "masklabel" and item.mask_path:
        out.append(Out(rel(stem + MASKLABEL), "mask", item.mask_path,
                       lambda: masklabel_bytes(item.path, item.mask_path, opt.painted)))
    return out


@dataclass
class Plan:
    target: str
    options: Options
    sources: list
    placed: list = field(default_factory=list)      # (item, [Out]) to write or already there
    skipped: list = field(default_factory=list)     # (source path, reason)
    notes: list = field(default_factory=list)       # (source path, note)
    conflicts: list = field(default_factory=list)   # (rel, source) with on_conflict error

    @property
    def folder(self) -> str:
        """Where the images go (kohya: the repeats folder)."""
        return os.path.join(self.target, self.options.subfolder) if self.options.subfolder else self.target


def _state(out: Out, target: str) -> str:
    p = os.path.join(target, out.rel)
    if not os.path.lexists(p):
        return "new"
    if os.path.isfile(p) and not os.path.islink(p) and _same(out, p):
        return "same"
    return "differs"


def plan(sources, target, opt: Options, allows=None) -> Plan:
    """What an export would do; raises ValueError for bad input, uncaptioned 'error' and on_conflict 'error'."""
    opt.check()
    pl = Plan(target, opt, list(sources))
    items, refused = collect(sources, allows)
    pl.skipped += [(p, "it (or its caption or mask) is a link leading outside the allowed folders") for p in refused]
    if not items and not refused:
        raise ValueError(f"no images ({', '.join(scan.IMAGE_EXTS)}) in the source folder(s): {', '.join(sources)}")
    reads = READS[opt.layout]
    keep = []
    for it in items:
        if it.ext.lower() not in reads:
            pl.skipped.append((it.path, f"{opt.layout} does not read {it.ext} files"))
        elif it.caption is None and opt.uncaptioned == "skip":
            pl.skipped.append((it.path, "no caption (uncaptioned: skip)"))
        else:
            keep.append(it)
    missing = [it.path for it in keep if it.caption is None]
    if missing and opt.uncaptioned == "error":
        raise ValueError(f"{len(missing)} image(s) have no caption (uncaptioned: error): "
                         + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""))
    seen: dict = {}
    for it in keep:
        key = it.stem.casefold()
        if key in seen:
            raise ValueError(f"two images would get the same name {it.stem!r} in the target: {seen[key]} and "
                             f"{it.path}; rename one of them")
        seen[key] = it.path
    for it in keep:
        outs = outs_for(it, it.stem, opt)
        for o in outs:
            o.state = _state(o, target)
        if any(o.state == "differs" for o in outs):
            if opt.on_conflict == "error":
                pl.conflicts += [(o.rel, it.path) for o in outs if o.state == "differs"]
                continue
            if opt.on_conflict == "skip":
                bad = ", ".join(o.rel for o in outs if o.state == "differs")
                pl.skipped.append((it.path, f"{bad} exists in the target and differs; left alone "
                                            "(on_conflict: skip)"))
                continue
            if opt.on_conflict == "suffix":
                outs = _suffixed(it, opt, target)
            else:                                    # overwrite
                for o in outs:
                    if o.state == "differs":
                        o.state = "overwrite"
        if opt.mask_mode == "alpha" and not it.mask_path and _has_alpha(it.path):
            pl.notes.append((it.path, "has no mask but its own alpha channel, which kohya's alpha_mask reads "
                                      "as the loss weight"))
        if opt.mask_mode == "skip" and it.mask_path:
            pl.notes.append((it.path, f"its mask is not exported (masks: {opt.masks})"))
        pl.placed.append((it, outs))
    if pl.conflicts:
        lines = "; ".join(f"{rel} (from {os.path.basename(src)})" for rel, src in pl.conflicts[:10])
        raise ValueError(f"{len(pl.conflicts)} file(s) already exist in {target} with other contents and "
                         f"on_conflict is 'error', so nothing was written: {lines}"
                         + (" ..." if len(pl.conflicts) > 10 else "")
                         + ". Choose on_conflict skip, overwrite or suffix, or another target.")
    return pl


def _suffixed(it: Item, opt: Options, target: str) -> list:
    for i in range(1, 100000):
        outs = outs_for(it, f"{it.stem}_{i}", opt)
        if all(not os.path.lexists(os.path.join(target, o.rel)) for o in outs):
            for o in outs:
                o.state = "new"
            return outs
    raise ValueError(f"no free name for {it.stem!r} in {target}")


def _copy(src: str, path: str) -> str:
    h = hashlib.sha256()

    def write(f):
        with open(src, "rb") as fs:
            for block in iter(lambda: fs.read(COPY_BLOCK), b""):
                h.update(block)
                f.write(block)

    files.atomic_write(path, write)
    return h.hexdigest()


def _read_jsonl(path: str, key: str) -> dict:
    rows: dict = {}
    if not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows[row[key]] = row
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{path} line {n} is not a JSON object with {key!r}; move the file away "
                                 "or fix it") from None
    return rows


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def execute(pl: Plan) -> list:
    """Write the plan; return the manifest rows of this export (one per file placed or already there)."""
    target = pl.target
    os.makedirs(pl.folder, exist_ok=True)
    rows = []
    for _it, outs in pl.placed:
        for o in outs:
            p = os.path.join(target, o.rel)
            if o.state == "same":
                digest = sha256_file(p)
            elif o.make is None:
                digest = _copy(o.source, p)
            else:
                data = o.data()
                files.atomic_write_bytes(p, data)
                digest = hashlib.sha256(data).hexdigest()
            rows.append({"source": o.source, "target": o.rel, "sha256": digest, "kind": o.kind})
    if pl.options.layout == "imagefolder":
        meta = _read_jsonl(os.path.join(target, METADATA), "file_name")
        for it, outs in pl.placed:
            meta[outs[0].rel] = {"file_name": outs[0].rel, "text": it.caption or ""}
        files.atomic_write_bytes(os.path.join(target, METADATA), _jsonl(meta.values()))
    manifest = _read_jsonl(os.path.join(target, MANIFEST), "target")
    for r in rows:
        manifest[r["target"]] = r
    files.atomic_write_bytes(os.path.join(target, MANIFEST), _jsonl(manifest.values()))
    return rows


def summary(pl: Plan, dry_run: bool) -> dict:
    counts = {"image": 0, "caption": 0, "mask": 0}
    same = {"image": 0, "caption": 0, "mask": 0}
    for _it, outs in pl.placed:          # counts only: the node's ui stays small for a big dataset
        for o in outs:
            (same if o.state == "same" else counts)[o.kind] += 1
    return {"layout": pl.options.layout, "dry_run": bool(dry_run), "target": pl.target, "folder": pl.folder,
            "sources": pl.sources, "images": len(pl.placed), "write": counts, "same": same,
            "reencoded": sum(1 for _i, outs in pl.placed for o in outs if o.kind == "image" and o.make),
            "skipped": [[p, why] for p, why in pl.skipped], "notes": [[p, n] for p, n in pl.notes]}


def report(s: dict) -> str:
    w, same = s["write"], s["same"]
    verb = "would write" if s["dry_run"] else "wrote"
    lines = [f"Dataset Export ({s['layout']})" + (": DRY RUN, nothing written (turn dry_run off to write)"
                                                  if s["dry_run"] else ""),
             "sources: " + ", ".join(s["sources"]),
             f"target: {s['folder']}",
             f"images: {s['images']} exported; {verb} {w['image']} image(s) ({s['reencoded']} re-encoded, the "
             f"rest copied byte for byte), {w['caption']} caption(s), {w['mask']} mask(s)",
             f"already there with the same bytes: {same['image']} image(s), {same['caption']} caption(s), "
             f"{same['mask']} mask(s)",
             f"skipped: {len(s['skipped'])}"]
    lines += [f"  {os.path.basename(p)}: {why}" for p, why in s["skipped"]]
    if s["notes"]:
        lines.append(f"notes: {len(s['notes'])}")
        lines += [f"  {os.path.basename(p)}: {n}" for p, n in s["notes"]]
    if not s["dry_run"]:
        lines.append(f"manifest: {os.path.join(s['target'], MANIFEST)}")
    return "\n".join(lines)


def export(source, target, opt: Options, dry_run=True, base=None) -> tuple:
    """(summary dict, report text) of an export; writes only when not ``dry_run``."""
    opt.check()
    srcs, tgt = resolve_folders(source, target, base)
    pol = access.current()
    pl = plan(srcs, tgt, opt, pol.allows if pol else None)
    if os.path.lexists(pl.folder):
        access.check(pl.folder, "target folder")       # kohya's <repeats>_<name>: not a link leading out
    if not dry_run:
        execute(pl)
    s = summary(pl, dry_run)
    return s, report(s)
