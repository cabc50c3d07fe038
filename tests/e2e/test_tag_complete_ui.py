"""The caption box completes tags from the sort's folder, shows chips and the CLIP token count."""
import os
import time
import uuid

from PIL import Image

from harness.ui import SortPanel, TagBox, build_sort_graph, queue, wire_sort_caption

CAPTIONS = ["cat", "blurry, dog", "blue sky, blurry", "black hair, blurry", "blue sky", "blurry, outdoors"]
WARN = "rgb(255, 140, 0)"


LONG = ", ".join(f"tag number {i}" for i in range(30))
# What ComfyUI's SD1 CLIP tokenizer (comfy/sd1_tokenizer, CLIPTokenizer) counts, start/end tokens not counted:
# len(CLIPTokenizer.from_pretrained(<ComfyUI>/comfy/sd1_tokenizer)(text)["input_ids"]) - 2
KNOWN = {"cat, blurry, ": 4, LONG: 139}


def clip_tokens(text):
    return KNOWN[text]


def test_typing_bl_lists_the_most_used_tag_tab_inserts_it_tokens_count_and_esc_only_closes(server, api, new_page):
    uid = uuid.uuid4().hex[:6]
    folder = f"tags_{uid}"
    src = server.folder(f"input/{folder}")
    os.makedirs(src)
    for i, cap in enumerate(CAPTIONS, start=1):
        Image.new("RGB", (64, 48), (i * 30, 90, 60)).save(os.path.join(src, f"img{i}.png"))
        with open(os.path.join(src, f"img{i}.txt"), "w") as f:
            f.write(cap)
    page = new_page(server)
    panel, box = SortPanel(page), TagBox(page)
    build_sort_graph(page, folder, f"tagsout_{uid}")
    wire_sort_caption(page)
    queue(page)
    panel.wait_progress("1 / 6")
    panel.wait_shown("img1.png")
    assert panel.caption_value() == "cat"

    panel.press_in_caption("End")
    panel.type_in_caption(", bl")
    time.sleep(0.5)                                         # the answer for "bl", not for "b"
    items = box.wait_items()
    assert items[0] == ["blurry", 4]                        # the folder's most used bl... tag, with its count
    assert items[1:] == [["blue sky", 2], ["black hair", 1]]
    page.page.keyboard.press("Tab")
    box.wait_closed()
    assert panel.caption_value() == "cat, blurry, "
    assert box.chips() == ["cat", "blurry"]
    text, warn, colour = box.wait_tokens(clip_tokens("cat, blurry, "))
    assert text.startswith(f"{clip_tokens('cat, blurry, ')} / 75") and not warn and colour != WARN

    long = LONG
    n = clip_tokens(long)
    assert n > 75
    panel.fill_caption(long)
    text, warn, colour = box.wait_tokens(n)
    assert warn and colour == WARN and text.startswith(f"{n} / 75")

    panel.fill_caption("cat")
    panel.press_in_caption("End")
    panel.type_in_caption(", blue")
    assert box.wait_first("blue sky")[0] == ["blue sky", 2]
    page.page.keyboard.press("Escape")                      # closes the list only
    box.wait_closed()
    time.sleep(0.8)
    assert len(api.pending()) == 1, "Esc in the list stopped the gate"
    assert panel.shown_file() == "img1.png" and panel.caption_value() == "cat, blue"
    assert page.real_errors() == []
