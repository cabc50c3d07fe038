"""Duplicate Review (Folder): one Run walks a folder's near-duplicate groups, one pause per group.

The person picks the keeper(s) of each group; the others are copied byte for byte
to ``<ComfyUI output>/<output>/reject/<file>`` (the sources are never touched, the
keepers are left where they are). Each group is logged (``core.dup_log``) after its
copies are written: a rerun resumes at the first group without a decision, Undo
takes the newest group back (its copies removed) and shows it again.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from ..core import dup_groups, files, scan
from ..core.dup_log import DupLog
from ..core.names import CATEGORY
from ..core.pauses import PauseError, PauseKind
from ..core.sort_log import fingerprint
from .loader import FOLDER_TOOLTIP, source_folder

REJECT = "reject"
DEFAULT_OUTPUT = "dedup"
MAX_GROUP = 9                     # keys 1..9: a larger group is shown in parts of at most nine
PREVIEW_SIDE = 1024


@dataclass
class DupKind(PauseKind):
    """Answers: ``{keep: [indices]}`` (at least one; the others are rejected) or ``{undo: true}``."""

    count: int = 2
    can_undo: bool = False            # a group of this folder is logged
    name = "dups"

    def parse(self, data: dict):
        if data.get("undo") is True:
            if not self.can_undo:
                raise PauseError("nothing to undo: no group of this folder is decided")
            return "undo"
        keep = data.get("keep")
        if not isinstance(keep, list) or any(type(i) is not int for i in keep):
            raise PauseError("missing field 'keep' (a list of image indices to keep) or 'undo': true")
        if not keep:
            raise PauseError("keep at least one image of the group")
        bad = [i for i in keep if not 0 <= i < self.count]
        if bad:
            raise PauseError(f"index {bad[0]} in 'keep' is out of range 0..{self.count - 1}")
        return sorted(set(keep))

    def public(self) -> dict:
        return {"count": self.count}


def copy_exact(src: str, target: str, fp: str) -> None:
    """Copy ``src`` byte for byte to ``target`` (atomically), only while it is the file that was measured."""
    if fingerprint(src) != fp:
        raise ValueError(f"{src} changed since it was measured; run again to review it as it is now")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(src, "rb") as f:
        files.atomic_write(target, lambda out: shutil.copyfileobj(f, out, 1 << 20))


def parts(group: list, most: int = MAX_GROUP) -> list:
    """A group as consecutive parts of at most ``most`` images, as even as possible (10 -> 5 + 5)."""
    n = -(-len(group) // most)
    cuts = [round(i * len(group) / n) for i in range(n + 1)]
    return [group[a:b] for a, b in zip(cuts, cuts[1:])]


def write_previews(pause, path: str, group: list) -> list:
    from ..comfy import pause_server, sort_session

    refs = []
    for i, rel in enumerate(group):
        small, _ = sort_session.small_image(os.path.join(path, rel), PREVIEW_SIDE)
        name = f"{pause.token}_{i}_dup.jpg"
        final = os.path.join(pause_server.preview_dir(), name)
        small.save(final + ".part", "JPEG", quality=88)
        pause_server._publish(final + ".part", final, pause)
        refs.append(pause_server.file_ref(name, small.size[0], small.size[1]))
    return refs


def summary_text(groups: int, done: int, copied: int, reject_dir: str) -> str:
    if not groups:
        return "No near-duplicate groups in this folder at this threshold."
    return (f"{groups} near-duplicate groups, {done} decided; {copied} images copied to {reject_dir} "
            f"this run.")


class DuplicateReview:
    CATEGORY = CATEGORY
    FUNCTION = "run"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING", "STRING")
    RETURN_NAMES = ("summary", "reject_folder")
    OUTPUT_TOOLTIPS = ("What the run did: groups found, decided, images copied.",
                       "The folder the rejected images were copied to (<output>/<output>/reject).")
    DESCRIPTION = (
        "One Run reviews a folder's near-duplicates: each group of look-alike images (resized, re-encoded "
        "or slightly cropped copies) is shown side by side with its size, file size and sharpness. Pick the "
        "keeper(s) with keys 1-9 or clicks (the largest, sharpest is preselected), Enter confirms: the others "
        "are copied byte for byte to <output>/<output>/reject; your folder is never changed. Backspace undoes "
        "the last group, Esc stops; Run again resumes at the first group without a decision.")

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "folder": ("STRING", {"default": "", "tooltip": FOLDER_TOOLTIP}),
            "threshold": ("INT", {"default": dup_groups.DEFAULT_THRESHOLD, "min": 0,
                                  "max": dup_groups.MAX_THRESHOLD,
                                  "tooltip": "How alike two images must be to group them: at most this many "
                                             "of 64 hash bits differ. 8 (default) groups resized, re-encoded and "
                                             "slightly cropped copies; 10-12 catches heavier crops, 4-6 keeps "
                                             "very similar shots apart; 0 = identical hashes only."}),
            "output": ("STRING", {"default": DEFAULT_OUTPUT,
                                  "tooltip": "Where the rejected copies go: a folder under ComfyUI's output "
                                             "folder (or an absolute path); they land in its 'reject' "
                                             "subfolder, with their names and subfolders."}),
            "depth": ("INT", {"default": 0, "min": -1, "max": 64,
                              "tooltip": "Subfolders to include: 0 = only this folder, N = N levels, -1 = all."}),
        }, "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")            # the log decides what is left: never the cached result

    def run(self, folder, threshold, output, depth, unique_id):
        import comfy.model_management as mm

        from ..comfy import pause_server, sort_session
        from ..comfy.comfy_paths import comfy_folder
        from ..core import names
        from .saver import resolve_out_folder

        threshold = dup_groups.check_threshold(int(threshold))
        path = source_folder(folder)
        rels = scan.list_images(path, int(depth))
        reject_dir = os.path.join(resolve_out_folder(output or DEFAULT_OUTPUT, comfy_folder("output")), REJECT)
        signals = sort_session.folder_signals(path, rels)      # cached per file (gates/core/quality.py)
        groups = [part for g in dup_groups.groups_for(rels, signals, threshold) for part in parts(g)]
        log = DupLog(path, os.path.join(comfy_folder("output"), sort_session.LOG_SUBFOLDER))
        copied, undone = 0, None
        while True:
            todo = log.undecided(groups)
            if not todo:
                break
            back = [g for g in todo if undone is not None and set(g) == set(undone.get("files") or [])]
            group = (back or todo)[0]
            items = [signals[rel] for rel in group]
            fps = {rel: fingerprint(os.path.join(path, rel)) for rel in group}
            sizes = [int(fp.split("-")[0]) for fp in fps.values()]
            kind = DupKind(len(group), bool(log.order))

            def show(pause, group=group, items=items, todo=todo, sizes=sizes):
                refs = write_previews(pause, path, group)
                pause_server.HUB.update(pause, items=[
                    {"file": rel, "preview": ref, "width": m.width, "height": m.height, "bytes": size,
                     "sharpness": round(m.sharpness, 1)} for rel, ref, m, size in zip(group, refs, items, sizes)],
                    preselected=[dup_groups.preselect(items, sizes)], group=len(groups) - len(todo) + 1,
                    groups=len(groups), folder=path, reject_folder=reject_dir, can_undo=bool(log.order),
                    threshold=threshold)
                pause_server.send(names.EVENT_SHOW, pause.public())

            _, pause = pause_server.hold(unique_id, kind, show)
            if pause.answer == "undo":
                undone = log.undo_last()
                if undone is not None:
                    copied -= len(undone.get("copies") or [])
                continue
            keep = [group[i] for i in pause.answer]
            reject = [rel for rel in group if rel not in keep]
            copies = []
            try:
                for rel in reject:
                    target = os.path.join(reject_dir, rel)
                    copy_exact(os.path.join(path, rel), target, fps[rel])
                    copies.append(target)
            except BaseException:
                for target in copies:                     # a group is copied whole or not at all
                    os.remove(target)
                raise
            log.record(group, fps, keep, reject, copies, threshold)
            copied += len(copies)
            undone = None
            mm.throw_exception_if_processing_interrupted()
        text = summary_text(len(groups), len(groups) - len(log.undecided(groups)), max(0, copied), reject_dir)
        record = {"groups": groups, "decided": len(groups) - len(log.undecided(groups)),
                  "copied": max(0, copied), "reject_folder": reject_dir, "log": log.path}
        return {"ui": {"text": [text], "dup_review": [record]}, "result": (text, reject_dir)}


NODE_CLASS_MAPPINGS = {"DuplicateReview": DuplicateReview}
NODE_DISPLAY_NAME_MAPPINGS = {"DuplicateReview": "Duplicate Review (Folder)"}
