"""Caption Batch Edit on a real ComfyUI: 200 captions, dry run, replace, undo_last, a bad regex."""
import hashlib
import os
import random
import uuid

from PIL import Image

from gates.core import tags
from harness.graphs import Graph

TAGS = ["cat", "dog", "blurry", "outdoors", "red hat", "catgirl", "cat ears", "1girl", "solo", "smile"]


def make_dataset(folder, n=200, seed=7):
    """n tiny images with captions; some tags as spelling variants of 'cat' that are not the tag 'cat'."""
    os.makedirs(folder)
    rng = random.Random(seed)
    Image.new("RGB", (8, 8)).save(os.path.join(folder, "img0.png"))
    with open(os.path.join(folder, "img0.png"), "rb") as f:
        png = f.read()
    for i in range(n):
        with open(os.path.join(folder, f"img{i}.png"), "wb") as f:
            f.write(png)
        picked = rng.sample(TAGS, rng.randint(1, 5))
        if i % 7 == 0:
            picked.append(rng.choice(["Cat", " CAT ", "cat"]))         # case and whitespace variants
        sep = rng.choice([", ", ",", " , "])
        text = sep.join(picked) + rng.choice(["", "\n"])
        with open(os.path.join(folder, f"img{i}.txt"), "wb") as f:
            f.write(text.encode())


def shas(folder):
    out = {}
    for n in sorted(os.listdir(folder)):
        with open(os.path.join(folder, n), "rb") as f:
            out[n] = hashlib.sha256(f.read()).hexdigest()
    return out


def captions(folder):
    out = {}
    for n in sorted(os.listdir(folder)):
        if n.endswith(".txt"):
            with open(os.path.join(folder, n), encoding="utf-8") as f:
                out[n] = f.read()
    return out


def edit(client, folder, **inputs):
    g = Graph()
    g.node("CaptionBatchEdit", folder=folder, depth=0, operation=inputs.pop("operation", "replace"),
           find=inputs.pop("find", ""), replace=inputs.pop("replace", ""), match=inputs.pop("match", "tag"),
           dry_run=inputs.pop("dry_run", True), **inputs)
    mark = client.mark()
    pid = client.queue(g.prompt())
    end = client.wait_end(pid, timeout=120, since=mark)
    if end["type"] != "execution_success":
        return end, None
    out = client.wait_history(pid)["outputs"]
    return end, next(iter(out.values()))["text"][0]


def test_batch_edit_on_200_captions_dry_run_replace_undo_and_bad_regex(comfy, client):
    name = f"cbe_{uuid.uuid4().hex[:6]}"
    folder = comfy.folder(f"input/{name}")
    make_dataset(folder)
    before_shas, before = shas(folder), captions(folder)

    end, report = edit(client, name, operation="replace", find="cat", replace="feline", dry_run=True)
    assert end["type"] == "execution_success", end
    assert shas(folder) == before_shas                                     # a dry run changes no byte
    expected = {n for n, c in before.items() if tags.has_tag(c, "cat")}
    assert 20 < len(expected) < 200
    assert f"{len(expected)} caption file(s) would change" in report and "dry run" in report

    end, report = edit(client, name, operation="replace", find="cat", replace="feline", dry_run=False)
    assert end["type"] == "execution_success", end
    after = captions(folder)
    changed = {n for n in after if after[n] != before[n]}
    assert changed == expected and f"{len(expected)} caption file(s) changed" in report
    for n in changed:              # exactly the whole-tag matches renamed; every other tag kept, in order
        old = tags.split_tags(before[n])
        want = tags.dedupe(["feline" if tags.tag_key(t) == "cat" else t for t in old])
        assert tags.split_tags(after[n]) == want, (before[n], after[n])
        assert "cat" not in {tags.tag_key(t) for t in tags.split_tags(after[n])}
        assert ", ," not in after[n] and not after[n].rstrip().endswith(",")
    assert all("catgirl" in after[n] for n in before if "catgirl" in before[n])

    end, report = edit(client, name, operation="undo_last", dry_run=False)
    assert end["type"] == "execution_success", end
    assert shas(folder) == before_shas and f"restored {len(expected)} caption file(s)" in report

    end, _ = edit(client, name, operation="regex_replace", find="cat(", replace="x", match="text", dry_run=False)
    assert end["type"] == "execution_error" and end["data"]["node_type"] == "CaptionBatchEdit"
    msg = end["data"]["exception_message"]
    assert "not a valid regular expression at position 3" in msg and "missing )" in msg
    assert shas(folder) == before_shas                                     # nothing written


def test_dataset_summary_reports_tag_statistics(comfy, client):
    from collections import Counter

    name = f"cbe_sum_{uuid.uuid4().hex[:6]}"
    folder = comfy.folder(f"input/{name}")
    make_dataset(folder, n=40)
    with open(os.path.join(folder, "img3.txt"), "w") as f:
        f.write(", ".join(f"rare{i}" for i in range(40)))                # 40 tags used once, > 75 tokens
    want = Counter(tags.tag_key(t) for c in captions(folder).values() for t in tags.dedupe(tags.split_tags(c)))
    g = Graph()
    node = g.node("DatasetSummary", folder=name, depth=0, relative_to="input", min_size=0, duplicates="off")
    mark = client.mark()
    pid = client.queue(g.prompt())
    end = client.wait_end(pid, timeout=120, since=mark)
    assert end["type"] == "execution_success", end
    out = client.wait_history(pid)["outputs"][node.id]
    s = out["dataset_summary"][0]
    assert {tags.tag_key(t): n for t, n in s["tags_top"]} == dict(want.most_common(50))
    assert s["tags_once"] == sum(1 for n in want.values() if n == 1) >= 40
    assert [r for r, _n in s["captions_over_75"]] == ["img3.png"] and s["captions_over_75"][0][1] > 75
    assert "captions over 75 CLIP tokens: 1" in out["text"][0] and f"{len(want)} distinct" in out["text"][0]


def test_tag_and_token_routes_follow_the_folders_captions(comfy, client):
    from urllib.parse import urlencode

    from gates.core import names

    name = f"cbe_tags_{uuid.uuid4().hex[:6]}"
    folder = comfy.folder(f"input/{name}")
    make_dataset(folder, n=60)
    want = {}
    for c in captions(folder).values():
        for t in tags.dedupe(tags.split_tags(c)):
            want[tags.tag_key(t)] = want.get(tags.tag_key(t), 0) + 1
    status, data = client.get(f"{names.ROUTE_TAGS}?{urlencode({'folder': name, 'prefix': 'ca'})}")
    assert status == 200, data
    got = {t.lower(): n for t, n, _s in data["tags"]}
    assert got == {k: n for k, n in want.items() if "ca" in k}
    assert data["tags"][0][0].lower().startswith("ca")
    edit(client, name, operation="replace", find="blurry", replace="soft focus", dry_run=False)
    data = client.get(f"{names.ROUTE_TAGS}?{urlencode({'folder': name, 'prefix': 'soft'})}")[1]
    assert data["tags"] == [["soft focus", want["blurry"], 0]]               # kept current after an edit
    assert client.get(f"{names.ROUTE_TAGS}?session=nope&prefix=a")[0] == 404
    status, data = client.get(f"{names.ROUTE_TOKENS}?{urlencode({'text': 'cat, blurry'})}")
    assert status == 200 and data["tokens"] == 3 and data["limit"] == 75
    data = client.get(f"{names.ROUTE_TOKENS}?{urlencode({'text': ', '.join(['red hat'] * 30)})}")[1]
    assert data["tokens"] == 89
