"""The folder sort's background threads: the previews, far ahead of the person, yield the cores."""
import os
import sys
import threading

import pytest

from gates.comfy import sort_session


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread has its own nice value on Linux only")
def test_the_preview_thread_runs_at_a_lower_priority_and_the_decode_thread_does_not():
    def nice():
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    mine = nice()
    previews = sort_session._pool("previews").submit(nice).result(timeout=10)
    decode = sort_session._pool("decode").submit(nice).result(timeout=10)
    assert previews == min(19, mine + sort_session.BACKGROUND_NICE)
    assert decode == mine                    # the next prompt's loader waits for it: full priority
