"""Caption length in CLIP tokens, as ComfyUI's own SD1 CLIP tokenizer counts it (no model weights).

Only inside ComfyUI: ``comfy.sd1_clip.SDTokenizer`` loads the tokenizer files of
the ComfyUI tree (``comfy/sd1_tokenizer``). The start and end tokens are not
counted, so a caption of 75 tokens or fewer fits one CLIP window. The query
evaluator takes the counting function, so it stays pure.
"""
from __future__ import annotations

import functools
import threading

LIMIT = 75                        # tokens of one CLIP window, start/end tokens not counted
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _tokenizer():
    try:
        from comfy.sd1_clip import SDTokenizer
    except ImportError:
        return None
    return SDTokenizer()


def available() -> bool:
    with _lock:
        return _tokenizer() is not None


@functools.lru_cache(maxsize=65536)
def count(text: str) -> int:
    """How many CLIP tokens ``text`` is (start/end not counted); a ValueError outside ComfyUI."""
    with _lock:
        tok = _tokenizer()
        if tok is None:
            raise ValueError("counting tokens needs ComfyUI's SD1 CLIP tokenizer (comfy.sd1_clip)")
        ids = tok.tokenizer(str(text or ""))["input_ids"]
    return max(0, len(ids) - 2)


def counter():
    """``count``, or None outside ComfyUI (a ``tokens:`` filter then says it needs the tokenizer)."""
    return count if available() else None
