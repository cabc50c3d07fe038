import os
import time

import pytest

from gates.core import scan


def touch(p, data=b"x"):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


def test_natural_sort_and_extensions(tmp_path):
    for n in ["img10.png", "img2.jpg", "img1.webp", "IMG3.JPEG", "a.bmp", "b.tif", "c.tiff", "notes.txt",
              "x.gif", ".hidden.png"]:
        touch(str(tmp_path / n))
    assert scan.list_images(str(tmp_path)) == ["a.bmp", "b.tif", "c.tiff", "img1.webp", "img2.jpg", "IMG3.JPEG",
                                               "img10.png"]


def test_depth(tmp_path):
    for p in ["top.png", "a/one.png", "a/b/two.png", "a/b/c/three.png", ".git/x.png"]:
        touch(str(tmp_path / p))
    root = str(tmp_path)
    assert scan.list_images(root, 0) == ["top.png"]
    assert scan.list_images(root, 1) == [os.path.join("a", "one.png"), "top.png"]
    assert len(scan.list_images(root, 2)) == 3
    assert len(scan.list_images(root, -1)) == 4


def test_sidecars(tmp_path):
    touch(str(tmp_path / "a.png"))
    touch(str(tmp_path / "a.txt"), b"a cat\n")
    touch(str(tmp_path / "b.png"))
    touch(str(tmp_path / "sub/c.png"))
    touch(str(tmp_path / "sub/c.txt"), "\ufeffbom caption".encode())
    root = str(tmp_path)
    assert scan.read_sidecar(root, "a.png") == "a cat"
    assert scan.read_sidecar(root, "b.png") == ""
    assert scan.read_sidecar(root, os.path.join("sub", "c.png")) == "bom caption"


def test_index_bounds_and_missing_folders(tmp_path):
    files = ["a.png", "b.png"]
    assert scan.pick(files, 1, "F") == "b.png"
    with pytest.raises(ValueError, match="past the end of F"):
        scan.pick(files, 2, "F")
    with pytest.raises(ValueError, match="past the end"):
        scan.pick(files, -1, "F")
    with pytest.raises(ValueError, match="no images .* in folder: F"):
        scan.pick([], 0, "F")
    missing = str(tmp_path / "nope")
    with pytest.raises(ValueError, match=f"folder not found: {missing}"):
        scan.list_images(missing)
    with pytest.raises(ValueError, match="no folder"):
        scan.resolve_folder("  ")
    assert scan.resolve_folder("data", "/base") == "/base/data"
    assert scan.resolve_folder("/abs/data", "/base") == "/abs/data"


def test_a_folder_relative_to_comfyuis_base_folder_is_found(tmp_path):
    comfy, inp = tmp_path / "comfy", tmp_path / "comfy" / "input"
    (inp / "ds").mkdir(parents=True)
    (comfy / "elsewhere").mkdir()
    assert scan.resolve_folder("ds", str(inp), str(comfy)) == str(inp / "ds")               # under input: as before
    assert scan.resolve_folder("input/ds", str(inp), str(comfy)) == str(inp / "ds")         # the original's way
    assert scan.resolve_folder("elsewhere", str(inp), str(comfy)) == str(comfy / "elsewhere")
    assert scan.resolve_folder("nope", str(inp), str(comfy)) == str(inp / "nope")        # missing: under input
    assert scan.resolve_folder("input/ds", str(inp)) == str(inp / "input" / "ds")            # no base folder known
    (inp / "input" / "ds").mkdir(parents=True)
    assert scan.resolve_folder("input/ds", str(inp), str(comfy)) == str(inp / "input" / "ds")  # input wins


def test_fingerprint_changes_with_the_folder(tmp_path):
    touch(str(tmp_path / "a.png"))
    f1 = scan.fingerprint(str(tmp_path))
    assert scan.fingerprint(str(tmp_path)) == f1
    touch(str(tmp_path / "b.png"))
    f2 = scan.fingerprint(str(tmp_path))
    assert f2 != f1
    touch(str(tmp_path / "b.txt"), b"caption")
    assert scan.fingerprint(str(tmp_path)) != f2


def test_ten_thousand_files_scan_quickly(tmp_path):
    for i in range(10000):
        (tmp_path / f"img{i}.png").touch()
    t0 = time.perf_counter()
    files = scan.list_images(str(tmp_path))
    took = time.perf_counter() - t0
    print(f"\n10,000-file scan: {took * 1000:.0f} ms")
    assert files[:3] == ["img0.png", "img1.png", "img2.png"] and files[-1] == "img9999.png"


def test_masks_beside_images_are_not_listed_as_images(tmp_path):
    for name in ("a.png", "a.mask.png", "b.jpg", "B.MASK.PNG"):
        (tmp_path / name).write_bytes(b"x")
    assert scan.list_images(str(tmp_path)) == ["a.png", "b.jpg"]
