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


def split_tags(caption: str) -> list:
    """The caption's tags, stripped, in order; empty tags (``a,,b``, a trailing comma) are dropped."""
    return [t.strip() for t in str(caption or "").split(",") if t.strip()]


def tag_key(tag: str) -> str:
    """What makes two tags the same tag: case and runs of whitespace do not count."""
    return " ".join(str(tag).split()).casefold()      # str.split() and re's \s agree on what is whitespace


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
    A caption is rewritten as tags (``", "`` between them) only when the operation changed it: a caption
    with no match keeps its exact text.
    """
    return compile_operation(operation, find, replace, match)(caption)


def compile_operation(operation: str, find: str = "", replace: str = "", match: str = "tag"):
    """``apply`` as a function of the caption alone, its inputs checked and prepared once (``find``'s tag
    keys, the compiled regular expression): what a run over thousands of captions calls."""
    check_operation(operation, find, replace, match)
    if operation in ("replace", "remove", "move_to_front") and match == "tag":
        keys = [tag_key(f) for f in split_tags(find)]
        keyset = set(keys)
        step = {"replace": lambda tags: tags if not any(tag_key(t) in keyset for t in tags) else
                    dedupe(split_tags(join_tags([replace if tag_key(t) in keyset else t for t in tags]))),
                "remove": lambda tags: [t for t in tags if tag_key(t) not in keyset],
                "move_to_front": lambda tags: _to_front(tags, keys)}[operation]

        def by_tag(caption: str) -> str:
            # No tag can equal a key that is not a substring of the whole caption, folded the same way
            # (whitespace runs -> one space, casefold: both work character by character): most captions
            # of a big folder stop here.
            folded = tag_key(caption)
            if not any(k in folded for k in keyset):
                return caption
            return _result(caption, split_tags(caption), step)
        return by_tag
    if operation in ("replace", "remove"):                       # text
        new = replace if operation == "replace" else ""
        return lambda caption: caption if find not in caption else \
            _result(caption, split_tags(caption), lambda tags: split_tags(str(caption).replace(find, new)))
    if operation == "move_to_front":                             # text
        return lambda caption: caption if find not in caption else _result(
            caption, split_tags(caption), lambda tags: [t for t in tags if find in t] +
            [t for t in tags if find not in t])
    if operation == "add":
        extra = split_tags(replace)

        def add(caption: str) -> str:
            def step(tags):
                out = list(tags)
                for t in extra:
                    present = has_tag(join_tags(out), t) if match == "tag" else t in join_tags(out)
                    if not present:
                        out.append(t)
                return out
            return _result(caption, split_tags(caption), step)
        return add
    rx = compile_regex(find)                                      # regex_replace
    if match == "tag":
        return lambda caption: _result(caption, split_tags(caption),
                                       lambda tags: split_tags(join_tags([rx.sub(replace, t) for t in tags])))

    def whole(caption: str) -> str:
        new = rx.sub(replace, str(caption))
        return caption if new == caption else _result(caption, split_tags(caption), lambda tags: split_tags(new))
    return whole


def _to_front(tags: list, order: list) -> list:
    front = sorted((t for t in tags if tag_key(t) in order), key=lambda t: order.index(tag_key(t)))
    return front + [t for t in tags if t not in front]


def _result(caption: str, tags: list, step) -> str:
    out = step(tags)
    return caption if out == tags else join_tags(out)
