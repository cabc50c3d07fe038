"""The Folder Image Loader's filter: a sort visits exactly the matching images and resumes with the filter."""
import os
import uuid

from PIL import Image

from gates.core import names
from harness.graphs import Graph, SortGraph

CAPTIONS = {f"img{i}.png": c for i, c in enumerate(
    ["cat", "cat, blurry", "dog", "Cat , outdoors", "blurry", "catgirl", "dog, cat", "cat,blurry,dog", "cat ears",
     "red hat, CAT", "", "cat"], start=1)}
FILTER = "tag:cat AND NOT tag:blurry"
EXPECTED = ["img1.png", "img4.png", "img7.png", "img10.png", "img12.png"]     # natural order, not img10 < img4


def make(comfy):
    name = f"filt_{uuid.uuid4().hex[:6]}"
    folder = comfy.folder(f"input/{name}")
    os.makedirs(folder)
    for i, (f, cap) in enumerate(CAPTIONS.items()):
        Image.new("RGB", (16 + i, 16), (i * 20, 0, 0)).save(os.path.join(folder, f))
        if cap:
            with open(os.path.join(folder, f[:-4] + ".txt"), "w") as fh:
                fh.write(cap)
    return name


def test_a_filtered_sort_visits_exactly_the_matches_in_natural_order_and_resumes_with_the_filter(comfy, client):
    folder = make(comfy)
    g = SortGraph(folder, f"filt_out_{uuid.uuid4().hex[:6]}")
    g.loader.set(filter=FILTER)
    seen = []
    mark = client.mark()
    client.queue(g.prompt())
    for _ in range(2):
        show = client.wait_gate(since=mark, timeout=60)
        assert (show["sort"]["index"], show["sort"]["count"]) == (len(seen) + 1, len(EXPECTED))
        seen.append(show["sort"]["file"])
        mark = client.mark()
        client.choose(show, 1)
    show = client.wait_gate(since=mark, timeout=60)
    mark = client.mark()
    client.choose(show, names.CANCEL)                                 # stopped at the third match
    client.wait_for(lambda e: e.get("type") == "execution_interrupted", since=mark, timeout=30)

    other = SortGraph(folder, "filt_other")                           # an unfiltered sort meanwhile
    mark = client.mark()
    client.queue(other.prompt())
    show = client.wait_gate(since=mark, timeout=60)
    assert show["sort"]["count"] == len(CAPTIONS) and show["sort"]["file"] == "img2.png"
    mark = client.mark()
    client.choose(show, names.CANCEL)
    client.wait_for(lambda e: e.get("type") == "execution_interrupted", since=mark, timeout=30)

    mark = client.mark()
    client.queue(g.prompt())                                          # Run again, with the filter
    while True:
        show = client.wait_gate(since=mark, timeout=60)
        assert show["sort"]["count"] == len(EXPECTED) and show["sort"]["index"] == len(seen) + 1
        seen.append(show["sort"]["file"])
        mark = client.mark()
        client.choose(show, 2)
        if len(seen) == len(EXPECTED):
            break
    done = client.wait_for(lambda e: e.get("type") == names.EVENT_SORT and e["data"]["state"] == "done",
                           since=mark, timeout=60)["data"]
    assert seen == EXPECTED and "Folder done: 5 images" in done["message"]
    client.reset()


def test_index_mode_counts_the_matches_and_a_bad_filter_names_the_position(comfy, client):
    folder = make(comfy)
    for flt, words in ((FILTER, f"({len(EXPECTED)} images"), ("tag:cat AND (NOT", "at position 17: expected a term"),
                       ("tag:nothing", "matches the filter 'tag:nothing'"),
                       ("tokens:=1 OR tokens:>=5", "(5 images")):   # SD1 CLIP: cat, dog, blurry = 1; cat,blurry,dog = 5
        g = Graph()
        load = g.node("FolderImageLoader", folder=folder, index=len(EXPECTED), depth=0, filter=flt)
        g.node("PreviewImage", images=load.out(0))
        mark = client.mark()
        pid = client.queue(g.prompt())
        end = client.wait_end(pid, since=mark)
        assert end["type"] == "execution_error" and words in end["data"]["exception_message"], end
