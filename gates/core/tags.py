"""Captions as comma-separated tags, and the operations of Caption Batch Edit. Stdlib only.

A caption is a list of tags separated by commas ("1girl, red hat, outdoors");
free text is a caption of one tag. Splitting strips each tag and drops empty
ones; two tags are the same tag when they are equal ignoring case and runs of
whitespace. Joining writes ``", "`` between tags, so a caption edited here
never holds ``, ,`` or a trailing comma.
"""
from __future__ import annotations

import re

OPERATIONS = ("replace", "remove", "add", "move_to_front", "regex_replace", "undo_last")
MATCHES = ("tag", "text")
SEPARATOR = ", "
_SPACE = re.compile(r"\s+")


def split_tags(caption: str) -> list:
    """The caption's tags, stripped, in order; empty tags (``a,,b``, a trailing comma) are dropped."""
    return [t.strip() for t in str(caption or "").split(",") if t.strip()]


def tag_key(tag: str) -> str:
    """What makes two tags the same tag: case and runs of whitespace do not count."""
    return _SPACE.sub(" ", str(tag).strip()).casefold()


def dedupe(tags: list) -> list:
    """The tags with later duplicates (same ``tag_key``) dropped; the first spelling is kept."""
    seen, out = set(), []
    for t in tags:
        k = tag_key(t)
        if k not in seen:
            seen.add(k)
            out.append(t)
    return out


def join_tags(tags: list) -> str:
    """Tags back into a caption: ``", "`` between them, empty ones dropped."""
    return SEPARATOR.join(t.strip() for t in tags if str(t).strip())


def tidy(caption: str) -> str:
    """A caption with empty tags removed and ``", "`` between tags (each tag's own text kept)."""
    return join_tags(split_tags(caption))


def has_tag(caption: str, tag: str) -> bool:
    k = tag_key(tag)
    return any(tag_key(t) == k for t in split_tags(caption))


def compile_regex(pattern: str) -> re.Pattern:
    """``pattern`` compiled, or a ValueError that names the position of the mistake."""
    try:
        return re.compile(pattern)
    except re.error as e:
        pos = f" at position {e.pos}" if e.pos is not None else ""
        raise ValueError(f"find is not a valid regular expression{pos}: {e.msg} (in {pattern!r})") from None


def check_operation(operation: str, find: str, replace: str, match: str) -> None:
    """A ValueError when the inputs cannot make sense, before any file is touched."""
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}, got {operation!r}")
    if match not in MATCHES:
        raise ValueError(f"match must be 'tag' or 'text', got {match!r}")
    if operation in ("replace", "remove", "move_to_front", "regex_replace") and not str(find or "").strip():
        raise ValueError(f"{operation} needs 'find': the {'pattern' if operation == 'regex_replace' else match} "
                         "to look for")
    if operation == "add" and not str(replace or "").strip():
        raise ValueError("add needs 'replace': the tags to add (comma-separated)")
    if operation == "regex_replace":
        compile_regex(find)


def apply(caption: str, operation: str, find: str = "", replace: str = "", match: str = "tag") -> str:
    """The caption after one batch operation (``undo_last`` is not one: it restores files).

    - replace: tag -- every tag equal to one of ``find``'s tags becomes ``replace`` (empty = removed);
      text -- every occurrence of the substring ``find`` becomes ``replace``.
    - remove: tag -- every tag equal to one of ``find``'s tags is dropped; text -- the substring is cut out.
    - add: ``replace``'s tags are appended, those the caption has already are skipped (an empty caption
      gets them all).
    - move_to_front: tag -- the tags equal to ``find``'s go first, in ``find``'s order; text -- the tags
      that contain the substring go first.
    - regex_replace: tag -- ``re.sub`` on each tag (a tag that becomes empty is dropped); text -- on the
      whole caption.
    A caption is rewritten as tags (``", "`` between them) only when the operation changed it.
    """
    check_operation(operation, find, replace, match)
    tags = split_tags(caption)
    if operation == "replace":
        if match == "tag":
            keys = {tag_key(f) for f in split_tags(find)}
            new = [replace if tag_key(t) in keys else t for t in tags]
            out = dedupe(split_tags(join_tags(new)))
        else:
            out = split_tags(str(caption).replace(find, replace)) if find in caption else tags
    elif operation == "remove":
        if match == "tag":
            keys = {tag_key(f) for f in split_tags(find)}
            out = [t for t in tags if tag_key(t) not in keys]
        else:
            out = split_tags(str(caption).replace(find, "")) if find in caption else tags
    elif operation == "add":
        out = list(tags)
        for t in split_tags(replace):
            present = has_tag(join_tags(out), t) if match == "tag" else t in join_tags(out)
            if not present:
                out.append(t)
    elif operation == "move_to_front":
        if match == "tag":
            order = [tag_key(f) for f in split_tags(find)]
            front = sorted((t for t in tags if tag_key(t) in order), key=lambda t: order.index(tag_key(t)))
        else:
            front = [t for t in tags if find in t]
        out = front + [t for t in tags if t not in front]
    else:                                              # regex_replace
        rx = compile_regex(find)
        if match == "tag":
            out = [rx.sub(replace, t) for t in tags]
            out = split_tags(join_tags(out))
        else:
            new = rx.sub(replace, str(caption))
            out = split_tags(new) if new != caption else tags
    return caption if out == tags else join_tags(out)
