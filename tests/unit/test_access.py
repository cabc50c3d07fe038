"""Who may read and write where: the policy when ComfyUI listens beyond loopback."""
import json
import os
import sys
import types

import pytest

from gates.core import access, names


@pytest.mark.parametrize("listen,loop", [
    ("127.0.0.1", True), ("127.0.0.2,::1", True), ("localhost", True), ("[::1]", True), (None, True),
    ("0.0.0.0", False), ("0.0.0.0,::", False), ("192.168.1.5", False), ("127.0.0.1,10.0.0.2", False),
    ("myhost.lan", False),
])
def test_loopback(listen, loop):
    assert access.is_loopback(listen) is loop


def test_roots_symlinks_and_the_refusal_message(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside, root / "link")                          # leads out of the root
    os.symlink(root / "sub", outside / "in")                    # leads into it
    pol = access.Policy([str(root)], "0.0.0.0", "/base/user/dataset_gates.json")
    assert pol.allows(str(root)) and pol.allows(str(root / "sub" / "new" / "deeper"))
    assert pol.allows(str(outside / "in"))
    assert not pol.allows(str(root / "link")) and not pol.allows(str(root / "link" / "x.png"))
    assert not pol.allows(str(tmp_path / "root2"))             # a sibling with a common prefix
    assert not pol.allows(str(root / ".." / "outside"))
    with pytest.raises(ValueError) as e:
        pol.check(str(root / "link"))
    msg = str(e.value)
    assert str(root / "link") in msg and f"a link to {outside}" in msg
    assert access.ENV in msg and '"allowed_roots" in /base/user/dataset_gates.json' in msg and "0.0.0.0" in msg


def test_env_and_settings_roots(tmp_path):
    assert access.env_roots(os.pathsep.join(["/a", "", " /b "])) == ["/a", "/b"]
    with pytest.raises(ValueError, match="not an absolute folder"):
        access.env_roots("relative/dir")
    p = tmp_path / "dataset_gates.json"
    assert access.settings_roots(str(p)) == []
    p.write_text(json.dumps({"allowed_roots": ["/data/sets"]}))
    assert access.settings_roots(str(p)) == ["/data/sets"]
    for bad in ("{not json", json.dumps({"allowed_roots": "/x"}), json.dumps(["/x"]),
                json.dumps({"allowed_roots": ["rel"]})):
        p.write_text(bad)
        with pytest.raises(ValueError, match=str(p)):
            access.settings_roots(str(p))


@pytest.fixture
def comfy_modules(tmp_path, monkeypatch):
    """Stand-ins for ComfyUI's parsed arguments and folders (the real ones run in tests/integration)."""
    base = tmp_path / "base"
    for sub in ("input", "output", "user"):
        (base / sub).mkdir(parents=True)
    cli = types.SimpleNamespace(args=types.SimpleNamespace(listen="127.0.0.1"))
    fp = types.SimpleNamespace(get_input_directory=lambda: str(base / "input"),
                               get_output_directory=lambda: str(base / "output"),
                               get_user_directory=lambda: str(base / "user"))
    monkeypatch.setitem(sys.modules, "comfy.cli_args", cli)
    monkeypatch.setitem(sys.modules, "folder_paths", fp)
    monkeypatch.delenv(access.ENV, raising=False)
    return cli, base


def test_current_policy_follows_listen_env_and_settings(comfy_modules, tmp_path, monkeypatch):
    cli, base = comfy_modules
    data = tmp_path / "data"
    data.mkdir()
    assert access.current() is None and access.check(str(data)) == str(data)     # loopback: as before
    cli.args.listen = "0.0.0.0"
    assert access.check(str(base / "input" / "x")) and access.check(str(base / "output" / "sorted" / "keep"))
    assert not access.allowed(str(data))
    with pytest.raises(ValueError, match=str(base / "user" / "dataset_gates.json")):
        access.check(str(data))
    monkeypatch.setenv(access.ENV, str(data))
    assert access.allowed(str(data / "set1"))
    monkeypatch.delenv(access.ENV)
    (base / "user" / "dataset_gates.json").write_text(json.dumps({"allowed_roots": [str(data)]}))
    assert access.allowed(str(data / "set1"))


def test_outside_comfyui_there_is_no_policy(monkeypatch):
    monkeypatch.delitem(sys.modules, "comfy.cli_args", raising=False)
    assert access.current() is None and access.allowed("/anywhere")


def test_loader_and_saver_apply_the_policy(comfy_modules, tmp_path):
    torch = pytest.importorskip("torch")
    from gates.nodes.loader import FolderImageLoader
    from gates.nodes.saver import SaveImageToFolder

    cli, base = comfy_modules
    cli.args.listen = "0.0.0.0"
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(ValueError, match="refused"):
        FolderImageLoader().load(str(data), 0)
    assert FolderImageLoader.IS_CHANGED(str(data), 0, 0).endswith(":none")       # not even listed
    with pytest.raises(ValueError, match="refused"):
        SaveImageToFolder().save(torch.rand((1, 4, 4, 3)), str(data / "out"), "x")
    assert not (data / "out").exists()


def test_a_linked_image_or_caption_out_of_an_allowed_folder_is_refused(comfy_modules, tmp_path):
    pytest.importorskip("torch")
    from PIL import Image

    from gates.nodes.loader import FolderImageLoader

    cli, base = comfy_modules
    cli.args.listen = "0.0.0.0"
    secret = tmp_path / "secret"
    secret.mkdir()
    Image.new("RGB", (4, 4)).save(secret / "s.png")
    (secret / "s.txt").write_text("private")
    ds = base / "input" / "ds"
    ds.mkdir()
    Image.new("RGB", (4, 4)).save(ds / "a.png")
    os.symlink(secret / "s.txt", ds / "a.txt")                  # caption leads out
    os.symlink(secret / "s.png", ds / "b.png")                  # image leads out
    with pytest.raises(ValueError, match="caption .*a link to"):
        FolderImageLoader().load("ds", 0)
    with pytest.raises(ValueError, match="image .*a link to"):
        FolderImageLoader().load("ds", 1)
    cli.args.listen = "127.0.0.1"
    assert FolderImageLoader().load("ds", 0)[1] == "private"    # loopback: allowed as before


def test_read_roots_may_be_read_never_written(tmp_path):
    root, shipped = tmp_path / "root", tmp_path / "pack" / "sample"
    root.mkdir()
    shipped.mkdir(parents=True)
    pol = access.Policy([str(root)], "0.0.0.0", "/base/user/dataset_gates.json", read_roots=[str(shipped)])
    assert pol.allows(str(shipped / "a.png"), read=True) and not pol.allows(str(shipped / "a.png"))
    assert pol.check(str(shipped), read=True) == str(shipped)
    with pytest.raises(ValueError, match="may read but never write"):
        pol.check(str(shipped / "out"))
    assert not pol.allows(str(tmp_path / "pack"), read=True)    # only the listed folder, not its parent


def test_the_shipped_sample_is_read_on_an_exposed_server_and_never_written(comfy_modules):
    torch = pytest.importorskip("torch")
    from gates.core import samples
    from gates.nodes.loader import FolderImageLoader
    from gates.nodes.saver import SaveImageToFolder

    cli, base = comfy_modules
    cli.args.listen = "0.0.0.0"
    image, caption, _, stem, index, count = FolderImageLoader().load(names.SAMPLE_FOLDER, 0)
    assert (stem, index, count) == ("cat_01", 0, 8) and caption and image.shape[0] == 1
    assert not FolderImageLoader.IS_CHANGED(names.SAMPLE_FOLDER, 0, 0).endswith(":none")
    assert access.check(samples.FOLDER, read=True) == samples.FOLDER
    with pytest.raises(ValueError, match="never write"):
        SaveImageToFolder().save(torch.rand((1, 4, 4, 3)), os.path.join(samples.FOLDER, "out"), "x")
    assert not os.path.exists(os.path.join(samples.FOLDER, "out"))
    assert os.listdir(base / "input") == []                     # nothing copied into input/
