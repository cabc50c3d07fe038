"""Caption Batch Edit: one tag operation over every caption of a folder, with a dry run and an undo.

A real run first writes a journal (``<output>/dataset_gates_logs/caption_edits/<folder>/<time>.json``)
holding every caption file's bytes before the run (or that it did not exist), then
writes each changed ``<stem>.txt`` atomically. ``undo_last`` puts the bytes of the
newest journal not yet undone back (and removes the files the run created).

Crash safety (``apply_plan``), in this order:

1. the journal is written to a temp file, fsynced, renamed into place, and its folder fsynced:
   it is on disk before any caption changes;
2. ``files.atomic_write_many``, 500 captions at a time: each new caption to a temp file, one sync
   that puts all of their data on disk, then each renamed over its caption; at the end, an fsync
   of each caption folder.

A crash at any moment thus leaves each caption its old or its new bytes (never an empty or
partial file: its new bytes reach the disk before its rename), and, whenever any caption may
have changed, a journal on disk that lists every file of the run with its old bytes:
``undo_last`` restores them all (those renamed and those not yet; restoring is idempotent,
so an undo cut short by a crash is simply run again). One sync per 500 captions, rather
than an fsync per caption, is what keeps 10,000 captions within seconds: an fsync each
is a disk flush each, and what the order needs is only that the data of a batch's temp
files is on disk before its first rename.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time

from ..comfy.comfy_paths import comfy_folder
from ..core import access, files, query, scan, tags
from ..core.names import CATEGORY

JOURNAL_SUBFOLDER = os.path.join("dataset_gates_logs", "caption_edits")   # under ComfyUI's output folder
REPORT_EXAMPLES = 20


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _encode(text: str, old: bytes | None) -> bytes:
    """The new caption's bytes, keeping a BOM and a final newline the old file had."""
    bom = b"\xef\xbb\xbf" if old and old.startswith(b"\xef\xbb\xbf") else b""
    nl = "\n" if old and old.rstrip(b" \t").endswith(b"\n") else ""
    return bom + (text + nl).encode("utf-8")


def plan(folder: str, depth: int, operation: str, find: str = "", replace: str = "", match: str = "tag",
         filter_text: str = "", count_tokens=None) -> list:
    """[(caption path, old bytes or None, new bytes)] of the captions the operation changes, in natural order."""
    edit = tags.compile_operation(operation, find, replace, match)
    q = query.Query(filter_text)
    images = query.filter_files(folder, scan.list_images(folder, int(depth)), q, count_tokens)
    out, seen = [], set()
    for rel in images:
        path = scan.sidecar_path(folder, rel)
        if path in seen:
            continue
        seen.add(path)
        try:
            with open(path, "rb") as f:
                old = f.read()
        except FileNotFoundError:
            old = None
        before = _decode(old).strip() if old is not None else ""
        after = edit(before)
        if after != before and (old is not None or after):
            out.append((path, old, _encode(after, old)))
    return out


def journal_dir(folder: str, output: str) -> str:
    from ..core.sort_log import log_name

    return os.path.join(output, JOURNAL_SUBFOLDER, os.path.splitext(log_name(folder))[0])


def _b64(data: bytes | None):
    return None if data is None else base64.b64encode(data).decode("ascii")


def _sha(data: bytes | None):
    return None if data is None else hashlib.sha256(data).hexdigest()


def apply_plan(folder: str, changes: list, jdir: str, meta: dict) -> str:
    """Write the journal (on disk before anything else), then every change; returns the journal's path.
    The order and why it is enough: the module's docstring."""
    files.makedirs_durable(jdir)
    entries = [{"file": os.path.relpath(p, folder), "before": _b64(old), "sha256_before": _sha(old),
                "sha256_after": _sha(new)} for p, old, new in changes]
    name = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}.json"
    path = os.path.join(jdir, name)
    body = {"type": "caption_edit", "version": 1, "folder": folder, "time": time.time(), **meta, "files": entries}
    files.atomic_write_bytes(path, json.dumps(body, ensure_ascii=False).encode("utf-8"))   # fsynced
    files.fsync_dir(jdir)                                 # and its name: the journal is on disk
    files.atomic_write_many([(p, new) for p, _old, new in changes])
    return path


def journals(jdir: str) -> list:
    """Journals not yet undone, oldest first."""
    try:
        names = sorted(n for n in os.listdir(jdir) if n.endswith(".json") and not n.endswith(".undone.json"))
    except FileNotFoundError:
        return []
    return [os.path.join(jdir, n) for n in names]


def undo_last(folder: str, jdir: str) -> tuple:
    """Restore every file of the newest run to its bytes before it; (journal, [(rel, what)])."""
    todo = journals(jdir)
    if not todo:
        raise ValueError(f"undo_last: no caption edit of {folder} to undo (journals in {jdir})")
    path = todo[-1]
    with open(path, encoding="utf-8") as f:
        body = json.load(f)
    done, restore = [], []
    for e in body["files"]:
        p = os.path.join(folder, e["file"])
        access.check(p, "caption")                  # every file checked before any is written
        before = None if e["before"] is None else base64.b64decode(e["before"])
        restore.append((p, before))
        done.append((e["file"], "removed (it did not exist before)" if before is None else "restored"))
    files.atomic_write_many(restore)                # on disk when it returns; a crash before: undo again
    os.replace(path, path[:-len(".json")] + ".undone.json")
    files.fsync_dir(jdir)
    return path, done, body


def _show(data: bytes | None) -> str:
    return "(no file)" if data is None else repr(_decode(data).strip())


def report(folder: str, changes: list, operation: str, find: str, replace: str, match: str, filter_text: str,
           dry_run: bool, journal: str | None = None) -> str:
    what = f"{operation} find={find!r}" + (f" replace={replace!r}" if operation != "remove" else "") + \
        f" match={match}" + (f" filter={filter_text!r}" if filter_text.strip() else "")
    head = (f"Caption Batch Edit ({'dry run: nothing written' if dry_run else 'written'}): {what} in {folder}\n"
            f"{len(changes)} caption file(s) {'would change' if dry_run else 'changed'}")
    lines = [head + (f"; journal {journal} (undo_last restores them)" if journal else "")]
    if changes:
        lines.append(f"\nBefore -> after (first {min(REPORT_EXAMPLES, len(changes))}):")
        for p, old, new in changes[:REPORT_EXAMPLES]:
            lines.append(f"  {os.path.relpath(p, folder)}: {_show(old)} -> {_show(new)}")
        lines.append("\nFiles that change:")
        lines.extend(f"  {os.path.relpath(p, folder)}" for p, _o, _n in changes)
    return "\n".join(lines)


def run(folder: str, depth: int, operation: str, find: str, replace: str, match: str, filter_text: str,
        dry_run: bool, output: str, count_tokens=None) -> str:
    """The node's work on a resolved, allowed folder; returns the report."""
    jdir = journal_dir(folder, output)
    if operation == "undo_last":
        if dry_run:
            todo = journals(jdir)
            if not todo:
                return f"Caption Batch Edit (dry run): no caption edit of {folder} to undo"
            with open(todo[-1], encoding="utf-8") as f:
                body = json.load(f)
            return (f"Caption Batch Edit (dry run: nothing written): undo_last would restore "
                    f"{len(body['files'])} caption file(s) of the run {os.path.basename(todo[-1])} "
                    f"({body.get('operation')} find={body.get('find')!r})")
        path, done, body = undo_last(folder, jdir)
        lines = [f"Caption Batch Edit: undo_last restored {len(done)} caption file(s) of "
                 f"{os.path.basename(path)} ({body.get('operation')} find={body.get('find')!r}) in {folder}"]
        lines.extend(f"  {rel}: {what}" for rel, what in done)
        return "\n".join(lines)
    changes = plan(folder, depth, operation, find, replace, match, filter_text, count_tokens)
    for p, _o, _n in changes:
        access.check(p, "caption")           # a link out of an allowed folder counts as outside
    journal = None
    if not dry_run and changes:
        journal = apply_plan(folder, changes, jdir, {"operation": operation, "find": find, "replace": replace,
                                                      "match": match, "filter": filter_text, "depth": int(depth)})
    return report(folder, changes, operation, find, replace, match, filter_text, dry_run, journal)


class CaptionBatchEdit:
    CATEGORY = CATEGORY
    FUNCTION = "edit"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("report",)
    OUTPUT_TOOLTIPS = ("What changed (or would change on a dry run): the files, and before -> after for the "
                       "first 20.",)
    DESCRIPTION = ("Edits the captions (<stem>.txt) of every image of a folder at once: rename, remove, add or "
                   "move a tag, or a regular-expression replace; optionally only the images a filter query picks. "
                   "dry_run (on by default) only reports. A real run keeps a journal, and undo_last puts every "
                   "file of the last run back as it was.")

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "folder": ("STRING", {"default": "", "tooltip": "Folder of images: an absolute path, or relative to "
                                  "ComfyUI's input folder (as the Folder Image Loader)."}),
            "depth": ("INT", {"default": 0, "min": -1, "max": 64, "tooltip": "Subfolders to include: 0 = only "
                              "this folder, N = N levels, -1 = all."}),
            "operation": (list(tags.OPERATIONS), {"default": "replace", "tooltip": "replace: find -> replace. "
                          "remove: drop find. add: append replace's tags (creates a missing caption). "
                          "move_to_front: find's tags first. regex_replace: find is a regular expression. "
                          "undo_last: restore every file of the last real run."}),
            "find": ("STRING", {"default": "", "tooltip": "What to look for: tags (comma-separated) with match "
                                "'tag', a substring with 'text', a regular expression for regex_replace."}),
            "replace": ("STRING", {"default": "", "tooltip": "The new text (replace, regex_replace: \\1 groups "
                                   "work), or the tags to add (add). Empty with replace removes the match."}),
            "match": (list(tags.MATCHES), {"default": "tag", "tooltip": "tag: whole comma-separated tags, "
                      "case-insensitive. text: substrings of the caption, case-sensitive."}),
            "dry_run": ("BOOLEAN", {"default": True, "tooltip": "On: only report what would change; nothing "
                                    "is written."}),
        }, "optional": {
            "filter": ("STRING", {"default": "", "tooltip": "Only images matching this query, e.g. "
                                  "tag:cat AND NOT tag:blurry, width:<1024, has:mask (see the README). "
                                  "Empty = all."}),
        }}

    @classmethod
    def IS_CHANGED(cls, **_):
        return float("nan")           # the captions change behind ComfyUI's back: always look again

    def edit(self, folder, depth, operation, find, replace, match, dry_run=True, filter=""):  # noqa: A002
        from ..comfy import tokens

        path = access.check(scan.resolve_folder(folder, comfy_folder("input")))
        if not os.path.isdir(path):
            raise ValueError(f"folder not found: {path}")
        output = comfy_folder("output") or os.path.join(path, ".dataset_gates")
        text = run(path, int(depth), str(operation), str(find or ""), str(replace or ""), str(match),
                   str(filter or ""), bool(dry_run), output,
                   tokens.counter() if "tokens" in query.Query(filter).fields() else None)
        return {"ui": {"text": [text]}, "result": (text,)}


NODE_CLASS_MAPPINGS = {"CaptionBatchEdit": CaptionBatchEdit}
NODE_DISPLAY_NAME_MAPPINGS = {"CaptionBatchEdit": "Caption Batch Edit"}
