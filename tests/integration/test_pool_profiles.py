"""Pool Profile on the real server: create / rename / duplicate / delete, export -> import keeping
images, masks and labels byte for byte, a zip in the original's format imports, bad zips are refused,
and the node feeds the profile's pool to an Image Pool (Grid)."""
import io
import json
import os
import uuid
import zipfile

from PIL import Image

from harness.comfy import multipart
from harness.graphs import Graph

P = "/datasete_gate/pool"
R = P + "/profiles"


def png(c, size=(32, 24)):
    buf = io.BytesIO()
    Image.new("RGB", size, c).save(buf, "PNG")
    return buf.getvalue()


def add(client, pool_id, data):
    body, ctype = multipart({"pool_id": pool_id}, {"image": ("x.png", data)})
    return client.post(f"{P}/add", raw=body, headers={"Content-Type": ctype})


def import_zip(client, data, **fields):
    body, ctype = multipart(fields, {"file": ("p.zip", data)})
    return client.post(f"{R}/import", raw=body, headers={"Content-Type": ctype})


def export_zip(comfy, pid):
    import urllib.request
    with urllib.request.urlopen(f"{comfy.url}{R}/export?id={pid}", timeout=30) as r:
        assert r.headers["Content-Type"] == "application/zip"
        return r.read()


def files_of(folder):
    return {f: open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))}


def fill(client, pid):
    for c in ((200, 0, 0), (0, 200, 0)):
        assert add(client, pid, png(c))[0] == 200
    assert client.post(f"{P}/label", {"pool_id": pid, "index": 1, "label": "zweite"})[0] == 200
    body, ctype = multipart({"pool_id": pid, "index": "1"}, {"mask": ("m.png", png((255, 255, 255)))})
    assert client.post(f"{P}/set_mask", raw=body, headers={"Content-Type": ctype})[0] == 200


def test_create_rename_duplicate_delete(comfy, client):
    name = "chars " + uuid.uuid4().hex[:6]
    st, e = client.post(f"{R}/create", {"name": name})
    assert st == 200 and e["name"] == name and os.path.isdir(comfy.folder(f"input/grid_pool/{e['id']}"))
    assert client.post(f"{R}/create", {"name": name})[0] == 409                       # names are unique
    reg = json.load(open(comfy.folder("input/grid_pool/profiles.json")))
    assert e in reg["profiles"] and client.get(f"{R}/list")[1] == reg
    fill(client, e["id"])
    st, r = client.post(f"{R}/rename", {"id": e["id"], "name": name + " renamed"})
    assert st == 200 and r == {**e, "name": name + " renamed"}
    st, d = client.post(f"{R}/duplicate", {"id": e["id"], "name": name + " copy"})
    assert st == 200 and d["id"] != e["id"]
    src, dst = comfy.folder(f"input/grid_pool/{e['id']}"), comfy.folder(f"input/grid_pool/{d['id']}")
    assert files_of(dst) == files_of(src) and len(files_of(src)) == 4             # 2 images, 1 mask, manifest
    st, reg = client.post(f"{R}/delete", {"id": e["id"]})
    assert st == 200 and e["id"] not in [p["id"] for p in reg["profiles"]] and not os.path.exists(src)
    assert os.path.isdir(dst)
    for route, body, status in (("rename", {"id": e["id"], "name": "x"}, 404), ("delete", {"id": "../x"}, 400),
                                ("duplicate", {"id": "/etc", "name": "y"}, 400), ("create", {"name": ""}, 400),
                                ("create", {"name": 5}, 400), ("rename", {"id": d["id"], "name": "a\nb"}, 400)):
        assert client.post(f"{R}/{route}", body)[0] == status, (route, body)
    assert client.get(f"{R}/export?id=..")[0] == 400


def test_export_import_round_trip_byte_for_byte(comfy, client):
    name = "rt " + uuid.uuid4().hex[:6]
    e = client.post(f"{R}/create", {"name": name})[1]
    fill(client, e["id"])
    data = export_zip(comfy, e["id"])
    with zipfile.ZipFile(io.BytesIO(data)) as z:                                  # the original's format
        assert json.loads(z.read("profile_meta.json")) == {"name": name}
        assert sorted(z.namelist()) == ["pool/img_0001.png", "pool/img_0002.mask.png", "pool/img_0002.png",
                                        "pool/manifest.json", "profile_meta.json"]
    st, imp = import_zip(client, data)
    assert st == 200 and imp["id"] != e["id"] and imp["name"] == f"{name} (2)"     # a taken name gets (2)
    assert files_of(comfy.folder(f"input/grid_pool/{imp['id']}")) == files_of(
        comfy.folder(f"input/grid_pool/{e['id']}"))
    m = client.get(f"{P}/list?pool_id={imp['id']}")[1]
    assert m["slots"][1]["label"] == "zweite" and m["slots"][1]["mask"] == "img_0002.mask.png"
    st, named = import_zip(client, data, name="given " + uuid.uuid4().hex[:4])
    assert st == 200 and named["name"].startswith("given ")


def test_a_zip_in_the_originals_format_imports(comfy, client):
    """Built here as the original's export_profile writes it: profile_meta.json, pool/<files>."""
    manifest = {"active": 1, "slots": [
        {"image": "img_0001.png", "mask": None, "label": "a", "added": 1718960000000},
        {"image": "img_0002.png", "mask": "img_0002.mask.png", "label": "b", "added": 1718960000001}],
        "next_seq": 3}
    parts = {"img_0001.png": png((10, 10, 10)), "img_0002.png": png((20, 20, 20)),
             "img_0002.mask.png": png((255, 255, 255)), "manifest.json": json.dumps(manifest, indent=2).encode()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("profile_meta.json", json.dumps({"name": "from the original"}))
        for n, b in parts.items():
            z.writestr(f"pool/{n}", b)
    st, e = import_zip(client, buf.getvalue())
    assert st == 200 and e["name"].startswith("from the original"), e
    assert files_of(comfy.folder(f"input/grid_pool/{e['id']}")) == parts
    assert client.get(f"{P}/list?pool_id={e['id']}")[1] == manifest

    # and the Pool Profile node feeds it to a pool: slot 1 (active), label 'b'
    g = Graph()
    prof = g.node("PoolProfile", profile=e["name"], profile_id=e["id"])
    gp = g.node("GridImagePool", index=-1, pool_id="default", profile=prof.out(0))
    g.node("PreviewAny", node_id="lab", source=gp.out(4))
    g.node("PreviewAny", node_id="cnt", source=gp.out(3))
    mark = client.mark()
    pid = client.queue(g.prompt())
    end = client.wait_end(pid, since=mark, timeout=120)
    assert end["type"] == "execution_success", (end, comfy.log_tail())
    out = client.wait_history(pid)["outputs"]
    assert out["lab"]["text"] == ["b"] and out["cnt"]["text"] == ["2"]
    # a change in the profile's pool re-runs the pool fed by it (pool_id stays 'default' here)
    assert client.post(f"{P}/label", {"pool_id": e["id"], "index": 1, "label": "b2"})[0] == 200
    mark = client.mark()
    pid = client.queue(g.prompt())
    assert client.wait_end(pid, since=mark, timeout=120)["type"] == "execution_success"
    assert client.wait_history(pid)["outputs"]["lab"]["text"] == ["b2"]


def test_bad_zips_are_refused_and_write_nothing(comfy, client):
    before = set(os.listdir(comfy.folder("input/grid_pool"))) if os.path.isdir(comfy.folder("input/grid_pool")) \
        else set()
    for entries in ({"pool/../../evil.png": b"x"}, {"pool/sub/x.png": b"x"}, {"/abs.png": b"x"},
                    {"pool/..": b"x"}):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("profile_meta.json", json.dumps({"name": "evil"}))
            for n, b in entries.items():
                z.writestr(n, b)
        st, body = import_zip(client, buf.getvalue())
        assert 400 <= st < 500 and "error" in body, (entries, st, body)
    assert import_zip(client, b"not a zip")[0] == 400
    after = set(os.listdir(comfy.folder("input/grid_pool"))) if os.path.isdir(comfy.folder("input/grid_pool")) \
        else set()
    assert after - before <= {"profiles.json"} and not os.path.exists(comfy.folder("evil.png"))
