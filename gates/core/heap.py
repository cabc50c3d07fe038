"""Give freed heap back to the OS after big background work.

glibc keeps freed memory in per-thread arenas; after decoding or encoding a
large image on a worker thread, ComfyUI's RSS would stay at its high-water
mark. ``malloc_trim`` hands it back (and does nothing where libc is not glibc).
"""
from __future__ import annotations

import threading

_lock = threading.Lock()
_libc = None


def give_back() -> None:
    global _libc
    with _lock:
        if _libc is None:
            try:
                import ctypes

                _libc = ctypes.CDLL("libc.so.6")
                _libc.malloc_trim.argtypes = [ctypes.c_size_t]
            except (OSError, AttributeError):          # not glibc: nothing to do
                _libc = False
    if _libc:
        _libc.malloc_trim(0)
