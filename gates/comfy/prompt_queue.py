"""Queue a prompt inside ComfyUI, the way its own ``POST /prompt`` handler does, without HTTP.

A request to the server's own port fails on a ComfyUI served over TLS, behind an
authentication extension, or listening on an address it cannot reach itself; a
prompt put on ``PromptServer.instance.prompt_queue`` runs on all of them.

What ComfyUI's handler does, and so what this does (checked on 0.3.75 and 0.33.0):
the ``on_prompt`` handlers of extensions (``trigger_on_prompt``), the queue
number (``server.number``, taken and incremented on the event loop), a new
prompt id, node replacements (``node_replace_manager``, 0.33.0), validation
(``execution.validate_prompt``), ``client_id`` into the extra data, sensitive
keys moved out of it (``execution.SENSITIVE_EXTRA_DATA_KEYS``), ``create_time``,
and the tuple put on the queue. Differences between versions are found by
looking (``hasattr``, the signature of ``validate_prompt``), never by version.

All of it runs on the server's event loop, like the handler: ``validate_prompt``
is a coroutine in the ComfyUIs this pack supports (a plain function in older
ones), and ``server.number`` is only ever touched on the loop. A caller on another thread (a node, on the prompt worker)
waits for it with a timeout; the server's loop is free then, as the worker does
not hold it (the worker runs its own loop, ``asyncio.run`` in
``PromptExecutor.execute``: only the server loop's own thread must not wait).
Imported lazily, inside ComfyUI only.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import logging
import threading
import time
import uuid

from ..core import names

log = logging.getLogger(names.LOGGER)
TIMEOUT_SECONDS = 30.0            # for the event loop to validate and queue (milliseconds when it is idle)


class QueueError(RuntimeError):
    """The prompt was not queued: invalid, or the server's event loop did not get to it in time."""


def queue_prompt(prompt: dict, extra_data: dict | None, client_id: str | None, *,
                 partial_execution_targets: list | None = None, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """Validate ``prompt`` and put it on ComfyUI's queue, as ``POST /prompt`` would; its prompt id.

    ``prompt`` and ``extra_data`` are copied through JSON, like a request body, so nothing the
    caller keeps is shared with the queued prompt. Raises ``QueueError`` when the prompt is
    invalid (the message names the errors) or not queued within ``timeout`` seconds. Called on
    the event loop's own thread (where waiting would deadlock) it schedules the work and returns
    None at once; a failure is then logged as a warning.
    """
    from server import PromptServer

    srv = PromptServer.instance
    body = json.loads(json.dumps({"prompt": prompt, "extra_data": dict(extra_data or {})}))
    if client_id is not None:
        body["client_id"] = client_id
    if partial_execution_targets is not None:
        body["partial_execution_targets"] = list(partial_execution_targets)
    loop = getattr(srv, "loop", None)
    if loop is None:
        raise QueueError("ComfyUI's event loop is not running (the server has none)")
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        task = loop.create_task(_queue(srv, body, _Handoff()))
        task.add_done_callback(_log_failure)
        return None
    handoff = _Handoff()
    work = _queue(srv, body, handoff)
    try:
        future = asyncio.run_coroutine_threadsafe(work, loop)
    except RuntimeError as e:          # the loop is closed: ComfyUI is shutting down
        work.close()
        raise QueueError(f"ComfyUI's event loop is not running ({e})") from None
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        with handoff.lock:
            handoff.abandoned = not handoff.queued
        if handoff.abandoned:          # it will never be put on the queue, even if the loop gets to it later
            future.cancel()
            raise QueueError(f"ComfyUI's event loop did not validate the prompt within {timeout:g} s; "
                             "it was not queued") from None
        return future.result(timeout)  # put on the queue just now: its id is on its way


class _Handoff:
    """Decides, under a lock, between the loop queueing the prompt and the waiter giving up on it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queued = self.abandoned = False


def _log_failure(task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("Dataset Gates: could not queue a prompt: %s", task.exception())


async def _queue(srv, body: dict, handoff: _Handoff) -> str:
    """The body of ComfyUI's ``post_prompt`` for one JSON body, on the event loop."""
    import execution

    if hasattr(srv, "trigger_on_prompt"):
        body = srv.trigger_on_prompt(body)
    number = srv.number
    srv.number += 1
    prompt = body["prompt"]
    prompt_id = str(uuid.uuid4())
    replacements = getattr(srv, "node_replace_manager", None)       # 0.33.0: registered node replacements
    if replacements is not None and hasattr(replacements, "apply_replacements"):
        replacements.apply_replacements(prompt)
    valid = await _validate(execution, prompt_id, prompt, body.get("partial_execution_targets"))
    extra_data = body.get("extra_data") or {}
    if "client_id" in body:
        extra_data["client_id"] = body["client_id"]
    if not valid[0]:
        raise QueueError(f"the prompt is invalid: {describe_errors(valid[1], valid[3] if len(valid) > 3 else {})}")
    outputs_to_execute = valid[2]
    keys = getattr(execution, "SENSITIVE_EXTRA_DATA_KEYS", None)
    sensitive = {k: extra_data.pop(k) for k in keys or () if k in extra_data}
    # Both ComfyUIs here stamp create_time (0.33.0's job list sorts by it); an older one ignores the key.
    extra_data["create_time"] = int(time.time() * 1000)
    # Before sensitive data was kept apart (no SENSITIVE_EXTRA_DATA_KEYS), a queue item had 5 fields.
    item = (number, prompt_id, prompt, extra_data, outputs_to_execute) + ((sensitive,) if keys is not None else ())
    with handoff.lock:
        if handoff.abandoned:
            raise QueueError("given up waiting before it was validated; not queued")
        handoff.queued = True
        srv.prompt_queue.put(item)
    return prompt_id


async def _validate(execution, prompt_id: str, prompt: dict, targets):
    """``execution.validate_prompt`` with the arguments its version takes, awaited when it is a coroutine.

    It took (prompt) in old ComfyUIs, then (prompt_id, prompt), now (prompt_id, prompt, partial_execution_list).
    """
    validate = execution.validate_prompt
    try:
        params = [p for p in inspect.signature(validate).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        count = len(params)
    except (TypeError, ValueError):    # no signature to read: the arguments of 0.3.75 and 0.33.0
        count = 3
    args = (prompt,) if count <= 1 else (prompt_id, prompt) if count == 2 else (prompt_id, prompt, targets)
    result = validate(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def describe_errors(error, node_errors) -> str:
    """One line of ComfyUI's validation result: the error, then each node's errors."""
    if isinstance(error, dict):
        text = error.get("message") or error.get("type") or "invalid prompt"
        if error.get("details"):
            text += f": {error['details']}"
    else:
        text = str(error)
    parts = []
    for node_id, info in (node_errors or {}).items():
        errs = [f"{e.get('message', '')}" + (f" ({e['details']})" if e.get("details") else "")
                for e in (info or {}).get("errors", [])]
        parts.append(f"node {node_id} ({(info or {}).get('class_type', '?')}): {'; '.join(errs) or '?'}")
    return text + ("; " + "; ".join(parts) if parts else "")
