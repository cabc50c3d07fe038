"""Fuzz /datasete_gate/choice and /mask on the real server while a gate waits (hypothesis).

Every answer must be a 4xx with a JSON ``error`` (or a 200 for a valid mask);
never a 5xx, never a traceback in the log; afterwards the gate still routes.
The case counts are printed (pytest -s, or the summary with -rA).
"""
import json
import os
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gates.core.names import ROUTE_CHOICE, ROUTE_MASK, ROUTE_PENDING, ROUTE_PREFIX
from harness.comfy import multipart
from harness.graphs import gate_graph, kinds, noise_image, png_bytes

ROUTES = 3
COUNTS = {"choice": 0, "mask": 0, "raw": 0}
FUZZ = settings(max_examples=int(os.environ.get("DG_FUZZ_EXAMPLES", "250")), deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])



def bomb_png(w=30000, h=30000) -> bytes:
    """A tiny PNG file that claims 30000x30000 pixels (a decompression bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = zlib.compress(b"\x00" * (w // 8 + 1) * 64, 9)      # a few rows; the header is what matters
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def paused(comfy):
    """One gate that waits for the whole module; its show event and prefix."""
    from harness.comfy import Client

    c = Client(comfy.url)
    c.reset()
    outside = os.path.join(comfy.base, "fuzz-secret.png")
    Image.new("RGBA", (8, 8)).save(outside)
    link = comfy.folder("input/fuzz-link-out.png")
    if not os.path.lexists(link):
        os.symlink(outside, link)
    image = noise_image(comfy.folder("input"), 48, 32)
    prompt, prefix = gate_graph(image, routes=ROUTES, labels="a,b,c")
    m = c.mark()
    pid = c.queue(prompt)
    show = c.wait_gate(since=m)
    log_start = len(comfy.log_text())
    yield {"client": c, "show": show, "prefix": prefix, "pid": pid, "log_start": log_start, "outside": outside}
    c.reset()
    c.close()


def valid_answer(message) -> bool:
    """The oracle: would the gate take this message? (route 1..ROUTES or __cancel__)"""
    if message == "__cancel__":
        return True
    if isinstance(message, bool) or message is None:
        return False
    try:
        return 1 <= int(str(message).strip()) <= ROUTES
    except ValueError:
        return False


def check(status, data, what):
    assert status < 500, f"{what} -> {status} {data!r}"
    assert status in (200,) or 400 <= status < 500, f"{what} -> {status}"
    if status != 200:
        assert isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"], (what, data)


def still_waiting(p):
    pending = p["client"].get(ROUTE_PENDING)[1]["pending"]
    assert [x["token"] for x in pending] == [p["show"]["token"]], "the gate stopped waiting"


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**40), max_value=10**40),
                    st.floats(allow_nan=True), st.text(max_size=40), st.text(alphabet="0123456789 _-+.", max_size=12),
                    st.just("__cancel__ "), st.just("１"))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)


@FUZZ
@given(body=st.dictionaries(st.sampled_from(["id", "token", "message", "extra", "ref", "mask", "é"]), values,
                            max_size=5),
       use_id=st.booleans(), use_token=st.booleans(), form=st.booleans())
def test_fuzz_choice(paused, body, use_id, use_token, form):
    c, show = paused["client"], paused["show"]
    if use_id:
        body["id"] = show["id"]
    if use_token:
        body["token"] = show["token"]
    if body.get("id") == show["id"] and body.get("token") == show["token"] and valid_answer(body.get("message")):
        body["message"] = "0"                        # a valid answer would end the pause: keep it invalid
    COUNTS["choice"] += 1
    if form:      # a form body: every value arrives as a string
        from urllib.parse import urlencode
        fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        if fields.get("id") == show["id"] and fields.get("token") == show["token"] \
                and valid_answer(fields.get("message")):
            fields["message"] = "0"
        status, data = c.request("POST", ROUTE_CHOICE, raw=urlencode(fields).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    else:
        status, data = c.post(ROUTE_CHOICE, body)
    check(status, data, body)
    assert status != 200, f"an invalid answer was taken: {body}"
    still_waiting(paused)


def mask_payloads():
    good = png_bytes(Image.new("L", (48, 32), 255))
    return st.one_of(
        st.binary(max_size=2000),                                   # noise
        st.just(good),                                              # valid
        st.integers(min_value=1, max_value=len(good) - 1).map(lambda n: good[:n]),   # truncated PNG
        st.just(bomb_png()),                                        # decompression bomb
        st.just(png_bytes(Image.new("RGB", (1, 1)))),
        st.just(b"GIF89a" + b"\x00" * 20),
    )


@FUZZ
@given(data=mask_payloads(), use_token=st.booleans(), cut=st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
       extra=st.dictionaries(st.sampled_from(["x", "id2", "message"]), st.text(max_size=10), max_size=2))
def test_fuzz_mask_multipart(paused, data, use_token, cut, extra):
    c, show = paused["client"], paused["show"]
    fields = {"id": show["id"], "token": show["token"] if use_token else "bad-token", **extra}
    body, ctype = multipart(fields, {"mask": ("m.png", data)})
    if cut is not None:
        body = body[:cut]                                           # a truncated multipart body
    COUNTS["mask"] += 1
    status, resp = c.request("POST", ROUTE_MASK, raw=body, headers={"Content-Type": ctype})
    check(status, resp, (len(data), use_token, cut))
    if status == 200:
        assert use_token, "a mask was taken without the pause's token"
    still_waiting(paused)


@FUZZ
@given(ref=st.one_of(
    st.fixed_dictionaries({"filename": st.sampled_from(["../fuzz-secret.png", "fuzz-link-out.png", "/etc/passwd",
                                                        "..", ".", "", "a\x00b", "missing.png", "..\\x.png"]),
                           "subfolder": st.sampled_from(["", "..", "../..", "/", "/tmp", "sub/../.."]),
                           "type": st.sampled_from(["input", "temp", "output", "", "../input"])}),
    values))
def test_fuzz_mask_refs(paused, ref):
    c, show = paused["client"], paused["show"]
    COUNTS["mask"] += 1
    status, data = c.post(ROUTE_MASK, {"id": show["id"], "token": show["token"], "ref": ref})
    check(status, data, ref)
    assert status != 200, f"a ref outside ComfyUI's folders (or no file) was taken: {ref!r}"
    still_waiting(paused)


@FUZZ
@given(raw=st.binary(max_size=600), ctype=st.sampled_from(["application/json", "multipart/form-data; boundary=x",
                                                          "multipart/form-data", "application/x-www-form-urlencoded",
                                                          "text/plain", "", "image/png"]),
       route=st.sampled_from(["choice", "mask"]))
def test_fuzz_raw_bodies(paused, raw, ctype, route):
    c = paused["client"]
    COUNTS["raw"] += 1
    status, data = c.request("POST", f"{ROUTE_PREFIX}/{route}", raw=raw,
                             headers={"Content-Type": ctype} if ctype else {})
    check(status, data, (route, ctype, raw[:40]))
    assert status != 200
    still_waiting(paused)


def test_without_the_pause_token_nothing_routes_stops_or_uploads(paused):
    """Origins: the token from the show event is what a request needs; nothing else will do."""
    c, show = paused["client"], paused["show"]
    other = {"id": show["id"]}
    for token in (None, "", show["token"][:-1], show["token"] + "x", show["token"].upper(), "\u00e9" * 22):
        body = {**other, **({"token": token} if token is not None else {})}
        for message in (1, "__cancel__"):
            status, data = c.post(ROUTE_CHOICE, {**body, "message": message})
            assert status in (400, 409), (token, message, status, data)
        white = png_bytes(Image.new("L", (4, 4), 255))
        png_body, ctype = multipart(dict(body), {"mask": ("m.png", white)})
        status, data = c.request("POST", ROUTE_MASK, raw=png_body, headers={"Content-Type": ctype})
        assert status in (400, 409), (token, status, data)
        still_waiting(paused)


def test_after_the_fuzz_the_gate_routes_and_the_log_is_clean(comfy, paused):
    c, show = paused["client"], paused["show"]
    log = comfy.log_text()[paused["log_start"]:]
    assert "Traceback" not in log, log[-3000:]
    assert c.choose(show, 2)[0] == 200
    h = c.wait_history(paused["pid"])
    assert h["status"]["status_str"] == "success"
    assert kinds(comfy.folder("output"), paused["prefix"]) == ["mask", "route2"]
    total = sum(COUNTS.values())
    print(f"\nfuzz cases: {COUNTS} = {total}")
    assert total >= 4 * 50 or os.environ.get("DG_FUZZ_EXAMPLES"), COUNTS
