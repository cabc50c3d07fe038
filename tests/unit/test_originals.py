"""format 'original': the "unchanged" check (gates/core/originals.py) and what the saver writes (no ComfyUI).

Every way an image can stop being its file's exact pixels must answer "changed":
an in-place edit through torch (with and without torch's version counter, which
ComfyUI's inference tensors lack) or through a numpy view, another tensor, a
batch, a source file replaced or rewritten on disk (even with its old mtime).
"""
import hashlib
import io
import os
import shutil
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from gates.core import originals

torch = pytest.importorskip("torch", reason="the registry's images are torch tensors")


@pytest.fixture(autouse=True)
def empty_registry():
    originals.forget_all()
    yield
    originals.forget_all()


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def source_file(tmp_path, name="a.png", size=(24, 16), seed=0):
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    p = str(tmp_path / name)
    Image.fromarray(rgb).save(p)
    return p, rgb


def loaded(tmp_path, inference=False, **kw):
    """(image tensor as the loader returns it, its source path), registered."""
    p, rgb = source_file(tmp_path, **kw)
    arr = rgb.astype(np.float32) / 255.0
    if inference:
        with torch.inference_mode():
            image = torch.from_numpy(arr)[None]
    else:
        image = torch.from_numpy(arr)[None]
    originals.register(image, p, os.path.splitext(os.path.basename(p))[0])
    return image, p


# ---- the check --------------------------------------------------------------------------

@pytest.mark.parametrize("inference", [False, True], ids=["plain", "inference_mode"])
def test_the_registered_tensor_untouched_is_unchanged(tmp_path, inference):
    image, p = loaded(tmp_path, inference)
    v = originals.check(image)
    assert v.unchanged and v.reason == "" and v.source.path == os.path.abspath(p)
    assert v.source.format == "PNG" and v.source.ext == ".png" and v.source.mode == "RGB"


@pytest.mark.parametrize("inference", [False, True], ids=["plain", "inference_mode"])
def test_an_in_place_edit_through_torch_is_changed(tmp_path, inference):
    image, _ = loaded(tmp_path, inference)
    if inference:
        with torch.inference_mode():                     # how ComfyUI runs nodes: no version counter
            image[0, 3, 5, 1] += 0.25
    else:
        image.mul_(1.0)                                  # same values, but torch counted a write
        assert originals.check(image).reason == "pixels edited in place"
        originals.forget_all()
        image, _ = loaded(tmp_path, inference)
        image[0, 3, 5, 1] += 0.25
    v = originals.check(image)
    assert not v.unchanged and v.reason == "pixels edited in place" and v.source is not None


@pytest.mark.parametrize("inference", [False, True], ids=["plain", "inference_mode"])
def test_an_in_place_edit_through_a_numpy_view_is_changed(tmp_path, inference):
    image, _ = loaded(tmp_path, inference)
    version = originals._tensor_version(image)
    view = image.numpy()                                 # shares memory; torch's counter does not move
    view[0, -1, -1, 2] = 1.0 - view[0, -1, -1, 2]
    assert originals._tensor_version(image) == version
    v = originals.check(image)
    assert not v.unchanged and v.reason == "pixels edited in place"


def test_a_one_bit_flip_in_the_middle_of_a_big_image_is_changed(tmp_path):
    # big enough that the digest runs in parallel chunks: an edit in any chunk counts
    p, _ = source_file(tmp_path, size=(1500, 1000))
    image = torch.rand((1, 1000, 1500, 3))
    originals.register(image, p, "a")
    assert image.numel() * 4 >= originals.PARALLEL_BYTES and originals.check(image).unchanged
    raw = image.numpy().view(np.uint32)
    raw[0, 700, 1499, 2] ^= 1                            # the lowest bit of one float
    assert not originals.check(image).unchanged


def test_a_digest_taken_ahead_on_the_array_is_the_tensors_and_an_edit_after_it_is_changed(tmp_path):
    # the sort's decode-ahead thread hashes the float32 array before the loader makes it a tensor
    p, rgb = source_file(tmp_path, size=(1500, 1000))
    arr = rgb.astype(np.float32) / 255.0
    ahead = originals.digest_array(arr, (1, 1000, 1500, 3), "torch.float32")
    image = torch.from_numpy(arr)[None]
    assert ahead == originals.digest(image)
    originals.register(image, p, "a", pixels_digest=ahead)
    assert originals.check(image).unchanged
    arr[999, 0, 0] = 1.0 - arr[999, 0, 0]                # the memory the tensor shares
    assert originals.check(image).reason == "pixels edited in place"


def test_another_tensor_is_changed_even_with_equal_pixels(tmp_path):
    image, _ = loaded(tmp_path)
    for other in (image.clone(), image[0][None], image.contiguous().float() + 0, image.expand(2, -1, -1, -1)):
        v = originals.check(other)
        assert not v.unchanged and v.reason == "not the Folder Image Loader's image" and v.source is None
    assert originals.check(image.float()).unchanged      # .float() of a float tensor is the tensor itself


def test_a_batch_is_changed(tmp_path):
    p, _ = source_file(tmp_path)
    batch = torch.rand((2, 16, 24, 3))
    originals.register(batch, p, "a")
    v = originals.check(batch)
    assert not v.unchanged and v.reason == "a batch of 2 images"


def test_a_reshaped_tensor_is_changed(tmp_path):
    image, _ = loaded(tmp_path)
    image.data = image.data.clone()                      # same object, new memory
    assert not originals.check(image).unchanged


def test_a_replaced_source_file_is_changed(tmp_path):
    image, p = loaded(tmp_path)
    st = os.stat(p)
    other = str(tmp_path / "other.png")
    shutil.copyfile(p, other)                            # identical bytes, even
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime (cp -p, rsync -t)
    os.replace(other, p)
    assert os.stat(p).st_size == st.st_size and os.stat(p).st_mtime_ns == st.st_mtime_ns
    v = originals.check(image)
    assert not v.unchanged and v.reason == "the source file changed on disk since it was loaded"


def test_a_source_rewritten_in_place_with_its_old_mtime_is_changed(tmp_path):
    image, p = loaded(tmp_path)
    st = os.stat(p)
    time.sleep(0.01)
    data = bytearray(open(p, "rb").read())
    data[-20] ^= 0xFF
    with open(p, "r+b") as f:                            # same inode, same size
        f.write(bytes(data))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))     # mtime set back: only ctime tells
    assert not originals.check(image).unchanged


def test_a_fingerprint_taken_before_a_decode_ahead_catches_a_file_replaced_since(tmp_path):
    p, _ = source_file(tmp_path)
    before = originals.file_fingerprint(p)             # a sort decodes the next image while this one shows
    image = torch.rand((1, 16, 24, 3))
    time.sleep(0.01)
    source_file(tmp_path, seed=9)                       # replaced after that decode, before the loader returns
    originals.register(image, p, "a", fingerprint=before)
    assert originals.check(image).reason == "the source file changed on disk since it was loaded"
    originals.register(image, p, "a")                   # a fingerprint taken now would miss it
    assert originals.check(image).unchanged


def test_a_deleted_source_is_changed(tmp_path):
    image, p = loaded(tmp_path)
    os.remove(p)
    v = originals.check(image)
    assert not v.unchanged and v.reason == "the source file is gone"


def test_a_freed_tensor_is_forgotten_and_its_id_does_not_match_a_new_one(tmp_path):
    image, _ = loaded(tmp_path)
    key = id(image)
    del image
    assert originals.live_records() == 0 and key not in originals._records
    image, _ = loaded(tmp_path)
    newcomer = image.clone()
    originals._records[id(newcomer)] = originals._records[id(image)]   # as if newcomer got a dead tensor's id
    assert not originals.check(newcomer).unchanged                      # the weak reference tells them apart


def test_the_registry_keeps_at_most_max_records(tmp_path):
    p, _ = source_file(tmp_path)
    keep = [torch.rand((1, 2, 2, 3)) for _ in range(originals.MAX_RECORDS + 5)]
    for t in keep:
        originals.register(t, p, "a")
    assert originals.live_records() == originals.MAX_RECORDS
    assert not originals.check(keep[0]).unchanged and originals.check(keep[-1]).unchanged


# ---- copying ----------------------------------------------------------------------------

def test_copy_exact_copies_bytes_and_refuses_a_file_replaced_after_the_check(tmp_path):
    image, p = loaded(tmp_path)
    src = originals.check(image).source
    out = tmp_path / "out"
    out.mkdir()
    originals.copy_exact(src, str(out / "x.png"))
    assert sha(out / "x.png") == sha(p)
    Image.new("RGB", (24, 16)).save(p)                    # replaced between the check and the copy
    with pytest.raises(originals.SourceChanged):
        originals.copy_exact(src, str(out / "y.png"))
    assert sorted(os.listdir(out)) == ["x.png"]           # no file, no temp left


# ---- where an edited image comes from ------------------------------------------------------

PROMPT = {
    "1": {"class_type": "FolderImageLoader", "inputs": {"folder": "ds", "index": 0}},
    "2": {"class_type": "ImageGate", "inputs": {"image": ["1", 0], "routes": 2}},
    "3": {"class_type": "BucketResize", "inputs": {"image": ["2", 1], "resolution": 64}},
    "4": {"class_type": "SaveImageToFolder", "inputs": {"image": ["3", 0], "filename": ["1", 3]}},
    "5": {"class_type": "LoadImage", "inputs": {"image": "x.png"}},
    "6": {"class_type": "SaveImageToFolder", "inputs": {"image": ["5", 0], "filename": ["1", 3]}},
    "7": {"class_type": "ImageBlend", "inputs": {"image1": ["5", 0], "image2": ["3", 0], "blend_factor": 0.5}},
    "8": {"class_type": "SaveImageToFolder", "inputs": {"image": ["7", 0], "filename": "typed"}},
}


def test_upstream_of_walks_through_any_nodes():
    assert originals.upstream_of(PROMPT, "4") == {"1"}
    assert originals.upstream_of(PROMPT, "6") == set()    # the filename is the loader's, the image is not
    assert originals.upstream_of(PROMPT, "8") == {"1"}
    assert originals.upstream_of(PROMPT, "99") is None and originals.upstream_of(None, "4") is None


def test_source_for_a_new_image_follows_the_graph_then_the_stem(tmp_path):
    pa, _ = source_file(tmp_path, "cat.png", seed=1)
    pb, _ = source_file(tmp_path, "dog.jpg", seed=2)
    ta, tb = torch.rand((1, 2, 2, 3)), torch.rand((1, 2, 2, 3))
    originals.register(ta, pa, "cat", node_id="1")
    originals.register(tb, pb, "dog", node_id="9")
    resized = torch.rand((1, 4, 4, 3))
    assert originals.source_for(resized, "cat", {"1"}).path == pa
    assert originals.source_for(resized, "typed", {"1"}).path == pa    # filename typed: that loader's newest
    assert originals.source_for(resized, "cat", set()) is None          # no loader upstream
    assert originals.source_for(resized, "dog", None).path == pb        # graph unknown: the stem decides
    assert originals.source_for(resized, "typed", None) is None
    assert originals.source_for(ta, "whatever", set()).path == pa       # the loader's own tensor knows


# ---- what a changed image becomes ----------------------------------------------------------

def src(fmt, mode, bits=8, trns=False):
    return originals.Source("/x/a." + fmt.lower(), "a", (1, 2, 3, 4), fmt, mode, bits, has_trns=trns)


@pytest.mark.parametrize("source, gray, want", [
    (src("PNG", "I;16", 16), True, ("PNG", 16, 1, "16-bit grayscale PNG")),
    (src("PNG", "I;16", 16), False, ("PNG", 16, 3, "16-bit RGB PNG")),
    (src("PNG", "L"), True, ("PNG", 8, 1, "8-bit grayscale PNG")),
    (src("PNG", "L", 4), True, ("PNG", 8, 1, "8-bit grayscale PNG")),
    (src("PNG", "RGB"), True, ("PNG", 8, 3, "8-bit RGB PNG")),          # RGB stays RGB, gray-looking or not
    (src("PNG", "RGB", 16), False, ("PNG", 16, 3, "16-bit RGB PNG")),
    (src("PNG", "RGBA"), False, ("PNG", 8, 3, "8-bit RGB PNG")),
    (src("PNG", "P", 8, True), False, ("PNG", 8, 3, "8-bit RGB PNG")),
    (src("WEBP", "RGB"), False, ("WEBP", 8, 3, "lossless WebP")),
    (src("JPEG", "RGB"), False, ("PNG", 8, 3, "8-bit RGB PNG")),
    (src("JPEG", "L"), True, ("PNG", 8, 1, "8-bit grayscale PNG")),
    (src("BMP", "RGB"), False, ("PNG", 8, 3, "8-bit RGB PNG")),
    (src("TIFF", "I;16", 16), True, ("PNG", 16, 1, "16-bit grayscale PNG")),
    (None, False, ("PNG", 8, 3, "8-bit RGB PNG")),
])
def test_plan(source, gray, want):
    p = originals.plan(source, gray)
    assert (p.kind, p.bits, p.channels, p.what) == want
    assert p.ext == (".webp" if p.kind == "WEBP" else ".png")
    assert any("alpha" in n for n in p.notes) == (source is not None and source.mode in ("RGBA", "P"))
    assert any("no longer gray" in n for n in p.notes) == (source is not None and source.gray and not gray)


def test_describe_reads_the_png_header_for_16_bit_rgb(tmp_path):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + bytes(2 * 3 * 2) for _ in range(2))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 16, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    (tmp_path / "rgb48.png").write_bytes(png)
    assert Image.open(tmp_path / "rgb48.png").mode == "RGB"          # Pillow hides the depth...
    assert originals.describe(str(tmp_path / "rgb48.png"))["bits"] == 16    # ...the header does not
    Image.fromarray(np.zeros((2, 2), np.uint16)).save(tmp_path / "g16.png")
    assert originals.describe(str(tmp_path / "g16.png")) == {"format": "PNG", "mode": "I;16", "bits": 16,
                                                             "has_trns": False}
    (tmp_path / "junk.png").write_bytes(b"not an image")
    assert originals.describe(str(tmp_path / "junk.png"))["format"] == ""


# ---- the saver, end to end without ComfyUI ----------------------------------------------------

def files_of(folder):
    return sorted(os.listdir(folder))


def test_saver_copies_an_unchanged_image_and_writes_a_changed_one_losslessly(tmp_path):
    from gates.nodes.bucket_resize import BucketResize
    from gates.nodes.loader import FolderImageLoader
    from gates.nodes.saver import SaveImageToFolder

    ds = tmp_path / "ds"
    ds.mkdir()
    g16 = (np.random.default_rng(3).integers(0, 65536, (48, 80), dtype=np.uint16))
    Image.fromarray(g16).save(ds / "a_gray16.png")
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (40, 64, 3), dtype=np.uint8)).save(
        ds / "b_photo.webp", quality=70)
    (ds / "a_gray16.txt").write_text("a caption")
    out = tmp_path / "out"
    loader, saver = FolderImageLoader(), SaveImageToFolder()

    image, caption, _, stem, _, _ = loader.load(str(ds), 0)
    res = saver.save(image, str(out), stem, "original", "suffix", caption=caption)
    assert files_of(out) == ["a_gray16.png", "a_gray16.txt"] and sha(out / "a_gray16.png") == sha(ds / "a_gray16.png")
    assert "byte-for-byte copy" in res["ui"]["text"][0]
    saver.save(image, str(out), stem, "original", "suffix")     # suffix policy: a second copy beside it
    assert sha(out / "a_gray16_1.png") == sha(ds / "a_gray16.png")

    resized = BucketResize().run(image, resolution=64, divisible=16)[0]
    res = saver.save(resized, str(out / "resized"), stem, "original", "overwrite")   # stem: the loader's
    assert "16-bit grayscale PNG" in res["ui"]["text"][0] and "; source a_gray16.png," in res["ui"]["text"][0]
    im = Image.open(out / "resized" / "a_gray16.png")
    assert im.mode == "I;16" and (out / "resized" / "a_gray16.png").read_bytes()[24:26] == b"\x10\x00"
    want = resized[0, ..., 0].clamp(0, 1).mul(65535).round().int().numpy()
    assert np.array_equal(np.asarray(im).astype(np.int64), want)            # lossless at 16 bits

    image[0, 0, 0, :] = 0.5                                    # an edit in place: re-encoded, not copied
    res = saver.save(image, str(out / "edited"), stem, "original", "overwrite")
    assert "pixels edited in place" in res["ui"]["text"][0]
    assert Image.open(out / "edited" / "a_gray16.png").mode == "I;16"

    image, _, _, stem, _, _ = loader.load(str(ds), 1)
    res = saver.save(image, str(out), stem, "original", "overwrite")
    assert sha(out / "b_photo.webp") == sha(ds / "b_photo.webp")
    small = BucketResize().run(image, resolution=32, divisible=16)[0]
    res = saver.save(small, str(out / "resized"), stem, "original", "overwrite")
    assert "lossless WebP" in res["ui"]["text"][0]
    back = np.asarray(Image.open(out / "resized" / "b_photo.webp").convert("RGB"))
    assert np.array_equal(back, small[0].clamp(0, 1).mul(255).round().byte().numpy())   # lossless


def test_saver_original_for_an_image_not_from_the_loader_writes_png_and_says_so(tmp_path):
    from gates.nodes.saver import SaveImageToFolder

    res = SaveImageToFolder().save(torch.rand((1, 8, 8, 3)), str(tmp_path), "x", "original",
                                   prompt=PROMPT, unique_id="6")
    assert files_of(tmp_path) == ["x.png"] and Image.open(tmp_path / "x.png").mode == "RGB"
    assert res["ui"]["text"] == ["x.png: not from the Folder Image Loader, so written as 8-bit RGB PNG"]


def test_other_formats_are_as_before(tmp_path):
    from gates.nodes.saver import SaveImageToFolder

    res = SaveImageToFolder().save(torch.rand((1, 8, 8, 3)), str(tmp_path), "x", "png")
    assert res == {"ui": {"saved": [str(tmp_path / "x.png")]}}


def test_encode_png16_round_trips(tmp_path):
    from gates.core.imaging import encode_png16

    g = np.random.default_rng(5).integers(0, 65536, (9, 7), dtype=np.uint16)
    im = Image.open(io.BytesIO(encode_png16(g)))
    assert im.mode == "I;16" and np.array_equal(np.asarray(im), g)
    rgb = np.random.default_rng(6).integers(0, 65536, (9, 7, 3), dtype=np.uint16)
    png = encode_png16(rgb)
    assert png[24:26] == b"\x10\x02"                                   # 16-bit, colour type RGB
    start = png.index(b"IDAT")
    (length,) = struct.unpack(">I", png[start - 4:start])
    raw = np.frombuffer(zlib.decompress(png[start + 4:start + 4 + length]), np.uint8).reshape(9, 7 * 6 + 1)
    assert (raw[:, 0] == 1).all()                                      # Sub filter on every row
    rows = raw[:, 1:].astype(np.uint64)
    for x in range(6, rows.shape[1]):                                  # undo Sub
        rows[:, x] = (rows[:, x] + rows[:, x - 6]) % 256
    assert np.array_equal(rows.astype(np.uint8).view(">u2").reshape(9, 7, 3), rgb)


def test_is_gray_compares_the_channels_at_the_written_depth():
    from gates.nodes.saver import is_gray

    # values on 16-bit steps: the nudge below stays far from a rounding boundary (not flaky)
    g = (torch.randint(0, 65536, (6, 5, 1)).float() / 65535.0).expand(6, 5, 3).contiguous()
    assert is_gray(g, 16) and is_gray(g, 8)
    g[2, 3, 1] += 1e-7                                   # below a 16-bit step: still gray, nothing lost
    assert is_gray(g, 16)
    g[2, 3] = torch.tensor([0.2, 0.8, 0.2])               # a colour: not gray at any depth
    assert not is_gray(g, 16) and not is_gray(g, 8)


def test_the_loader_registers_only_for_a_prompt_whose_saver_may_use_original(tmp_path):
    from gates.nodes.loader import FolderImageLoader
    from gates.nodes.saver import SaveImageToFolder

    ds = tmp_path / "ds"
    ds.mkdir()
    source_file(ds, "a.png")
    png = {"1": {"class_type": "FolderImageLoader", "inputs": {}},
           "2": {"class_type": "SaveImageToFolder", "inputs": {"image": ["1", 0], "format": "png"}}}
    wired = {**png, "2": {"class_type": "SaveImageToFolder", "inputs": {"image": ["1", 0], "format": ["9", 0]}}}
    original = {**png, "2": {"class_type": "SaveImageToFolder", "inputs": {"image": ["1", 0], "format": "original"}}}
    assert not originals.wanted(png) and originals.wanted(wired) and originals.wanted(original)
    assert originals.wanted(None)                                       # unknown: register
    image = FolderImageLoader().load(str(ds), 0, prompt=png)[0]
    assert originals.live_records() == 0                               # a PNG workflow pays no digest
    # that output reused (ComfyUI's cache) by a run whose saver now asks for original: PNG, and why
    res = SaveImageToFolder().save(image, str(tmp_path / "out"), "a", "original", prompt=original, unique_id="2")
    assert "ComfyUI reused from a run without format 'original'" in res["ui"]["text"][0]
    assert os.listdir(tmp_path / "out") == ["a.png"]
    image = FolderImageLoader().load(str(ds), 0, prompt=original)[0]
    assert originals.check(image).unchanged


# ---- the graph's proof: no digest when only this pack's read-only nodes see the tensor ----------

def sort_graph(**extra):
    g = {"1": {"class_type": "FolderImageLoader", "inputs": {"folder": "ds", "index": 0}},
         "2": {"class_type": "ImageGate", "inputs": {"image": ["1", 0], "caption": ["1", 1]}},
         "3": {"class_type": "SaveImageToFolder", "inputs": {"image": ["2", 1], "format": "original"}},
         "4": {"class_type": "SaveImageToFolder", "inputs": {"image": ["2", 2], "format": "original"}},
         "5": {"class_type": "ShowText", "inputs": {"text": ["1", 1]}}}    # not the image: does not count
    g.update(extra)
    return g


@pytest.mark.parametrize("extra, proven", [
    ({}, True),
    ({"9": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}, False),     # the loader's image
    ({"9": {"class_type": "ImageInvert", "inputs": {"image": ["2", 3]}}}, False),       # a gate's route
    ({"9": {"class_type": "MaskToImage", "inputs": {"mask": ["1", 2]}}}, True),         # the loader's mask
], ids=["loader-gate-savers", "another-node-on-the-image", "another-node-on-a-route", "the-mask-elsewhere"])
def test_untouched_in_follows_the_image_through_gates(extra, proven):
    assert originals.untouched_in(sort_graph(**extra), "1") is proven
    assert not originals.untouched_in(None, "1") and not originals.untouched_in(sort_graph(), "7")


def test_a_proven_registration_takes_no_digest_and_holds_only_in_its_prompt(tmp_path):
    p, rgb = source_file(tmp_path)
    image = torch.from_numpy(rgb.astype(np.float32) / 255.0)[None]
    originals.register(image, p, "a", node_id="1", prompt=sort_graph(), prompt_id="p1")
    assert originals._record_of(image).digest == ""                 # nothing hashed
    assert originals.check(image, "p1").unchanged
    v = originals.check(image, "p2")                                 # a later prompt: other nodes may have seen it
    assert not v.unchanged and "earlier prompt" in v.reason
    assert not originals.check(image, None).unchanged


def test_an_unproven_registration_is_hashed_and_an_edit_is_caught_in_the_same_prompt(tmp_path):
    p, rgb = source_file(tmp_path)
    image = torch.from_numpy(rgb.astype(np.float32) / 255.0)[None]
    graph = sort_graph(**{"9": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}})
    originals.register(image, p, "a", node_id="1", prompt=graph, prompt_id="p1")
    assert originals._record_of(image).digest and originals.check(image, "p1").unchanged
    image[0, 0, 0, 0] = 1.0 - image[0, 0, 0, 0]
    assert originals.check(image, "p1").reason == "pixels edited in place"
