"""The filter query: precedence, quoting, every field, errors that name the position."""
import os

import pytest
from PIL import Image

from gates.core.query import Query, QueryError, Record, filter_files


def tree(text):
    return repr(Query(text).tree)


def m(text, count_tokens=None, **record):
    return Query(text).matches(Record(**record), count_tokens)


def test_precedence_not_then_and_then_or_and_juxtaposition_is_and():
    assert tree("tag:a OR tag:b AND tag:c") == "(tag:'a' OR (tag:'b' AND tag:'c'))"
    assert tree("tag:a tag:b OR tag:c") == "((tag:'a' AND tag:'b') OR tag:'c')"
    assert tree("NOT tag:a AND tag:b") == "(NOT tag:'a' AND tag:'b')"
    assert tree("NOT (tag:a OR tag:b)") == "NOT (tag:'a' OR tag:'b')"
    assert tree("(tag:a OR tag:b) tag:c") == "((tag:'a' OR tag:'b') AND tag:'c')"
    assert tree("not not tag:a and tag:b or tag:c") == "((NOT NOT tag:'a' AND tag:'b') OR tag:'c')"
    assert not m("tag:a OR tag:b AND tag:c", caption="b")
    assert m("(tag:a OR tag:b) AND NOT tag:c", caption="b, d")


def test_quoting():
    assert tree('caption:"red hat"') == "caption:'red hat'"
    assert tree(r'caption:"say \"hi\" \\ now"') == "caption:'say \"hi\" \\\\ now'"
    assert tree('tag:"OR"') == "tag:'OR'" and tree('"AND"') == "caption:'AND'"
    assert m('tag:"red hat"', caption="Red  Hat, cat") and not m('tag:"red hat"', caption="red hat on a cat")
    assert m('caption:"red hat"', caption="a RED HAT on a cat")
    assert m("cat", caption="a catgirl")                           # a bare word is a caption substring


def test_tag_and_caption_fields():
    cap = "1girl, cat ears, blurry background"
    assert m("tag:1girl", caption=cap) and m("tag:CAT_EARS OR tag:\"cat ears\"", caption=cap)
    assert not m("tag:blurry", caption=cap) and m("caption:blurry", caption=cap)
    assert m("tag:cat AND NOT tag:blurry", caption="cat, sharp") and not m("tag:cat AND NOT tag:blurry",
                                                                           caption="cat, blurry")


@pytest.mark.parametrize("q,ok", [
    ("width:<1024", True), ("width:<=1000", True), ("width:<1000", False), ("width:>999", True),
    ("width:>=1001", False), ("width:=1000", True), ("width:1000", True), ("height:>500", True),
    ("height:<500", False), ("width:>=1000 height:<=600", True),
])
def test_size_fields(q, ok):
    assert m(q, width=1000, height=600) is ok


def test_tokens_use_the_given_counter():
    words = lambda text: len(text.replace(",", " ").split())
    assert m("tokens:>3", words, caption="a b, c d") and not m("tokens:>4", words, caption="a b, c d")
    assert m("tokens:<=75", words, caption="x")
    with pytest.raises(ValueError, match="tokenizer"):
        m("tokens:>3", caption="x")


def test_ext_and_has():
    assert m("ext:png", ext=".PNG") and not m("ext:png", ext=".jpg")
    assert m("ext:jpg", ext=".jpeg") and m("ext:jpeg", ext=".jpg") and m("ext:.webp", ext="webp")
    assert m("has:caption", caption="x") and not m("has:caption", caption="  ")
    assert m("has:mask", mask=True) and m("NOT has:mask", mask=False) and m("HAS:Mask", mask=True)


def test_empty_query_matches_everything():
    assert not Query("") and not Query("   ") and Query(" ").matches(Record())


@pytest.mark.parametrize("q,pos,expected", [
    ("tag:", 5, "expected a value after 'tag:'"),
    ("tag:a AND", 10, "expected a term"),
    ("(tag:a OR tag:b", 16, "expected ')' to close the '(' at position 1"),
    ("tag:a)", 6, "unmatched ')': expected AND, OR or the end"),
    ('caption:"red hat', 9, 'expected a closing "'),
    ("width:big", 7, "expected a number after 'width:'"),
    ("width:<<3", 7, "expected a number"),
    ("has:hat", 5, "expected has:caption or has:mask"),
    ("size:3", 1, "expected a field (tag, caption, ext, has, width, height, tokens, sharpness, black, white, "
                  "clipped), got 'size'"),
    ("tag:a OR OR tag:b", 10, "expected a term (field:value), NOT or '(', got 'OR'"),
    ("NOT", 4, "expected a term"),
    ("()", 2, "expected a term (field:value), NOT or '(', got ')'"),
])
def test_errors_name_the_position_and_what_was_expected(q, pos, expected):
    with pytest.raises(QueryError) as e:
        Query(q)
    assert e.value.pos + 1 == pos, (e.value.pos, str(e.value))
    assert expected in str(e.value) and f"at position {pos}" in str(e.value)
    assert str(e.value).splitlines()[-1] == "  " + " " * (pos - 1) + "^"


def test_filter_files_reads_captions_sizes_and_masks(tmp_path):
    for name, size, cap in [("a.png", (64, 32), "cat, blurry"), ("b.jpg", (32, 64), "cat"), ("c.png", (8, 8), None)]:
        Image.new("RGB", size).save(tmp_path / name)
        if cap is not None:
            (tmp_path / name).with_suffix(".txt").write_text(cap)
    Image.new("L", (8, 8)).save(tmp_path / "c.mask.png")
    files = ["a.png", "b.jpg", "c.png"]
    f = lambda q: filter_files(str(tmp_path), files, q)
    assert f("") == files
    assert f("tag:cat AND NOT tag:blurry") == ["b.jpg"]
    assert f("width:>40") == ["a.png"] and f("height:>40 OR has:mask") == ["b.jpg", "c.png"]
    assert f("NOT has:caption") == ["c.png"] and f("ext:jpeg") == ["b.jpg"]
    assert os.path.exists(tmp_path / "c.mask.png")


def sig(sharpness=100.0, black=0.0, white=0.0):
    from gates.core.quality import Signals

    return Signals(sharpness, black, white, 64, 64, True, 0)


@pytest.mark.parametrize("q,ok", [
    ("sharpness:<50", True), ("sharpness:<40.5", True), ("sharpness:<=40.3", False), ("sharpness:>=40.5", False),
    ("black:>10", True), ("black:>=12.5", True), ("black:>12.6", False), ("white:=0", True), ("white:>0", False),
    ("clipped:>12", True), ("clipped:<12.5", False), ("sharpness:<50 AND NOT white:>1", True),
    ("sharpness:.5", False),
])
def test_quality_fields_compare_sharpness_and_clipped_percentages(q, ok):
    assert m(q, signals=sig(40.4, 0.125, 0.0)) is ok
    assert m(q, signals=None) is False                         # unreadable: no comparison holds


@pytest.mark.parametrize("q,pos,expected", [
    ("sharpness:blurry", 11, "expected a number after 'sharpness:', optionally after <=, >=, <, >, = "
                             "(e.g. sharpness:<50)"),
    ("white:>5%", 7, "expected a number after 'white:' (a percentage of the pixels)"),
    ("black:", 7, "expected a value after 'black:'"),
])
def test_quality_field_errors_name_the_position(q, pos, expected):
    with pytest.raises(QueryError) as e:
        Query(q)
    assert e.value.pos + 1 == pos and expected in str(e.value), str(e.value)


def test_filter_files_measures_quality_or_takes_given_signals(tmp_path):
    from PIL import ImageFilter

    from gates.core.query import needs_signals

    rng = __import__("numpy").random.default_rng(1)
    sharp = Image.fromarray((rng.random((128, 128)) * 255).astype("uint8"))
    sharp.save(tmp_path / "sharp.png")
    sharp.filter(ImageFilter.GaussianBlur(6)).save(tmp_path / "soft.png")
    Image.new("RGB", (64, 64), (255, 255, 255)).save(tmp_path / "white.png")
    (tmp_path / "broken.png").write_bytes(b"no")
    files = ["broken.png", "sharp.png", "soft.png", "white.png"]
    assert needs_signals("tag:a OR sharpness:<3") and not needs_signals("tag:a width:>3")
    assert filter_files(str(tmp_path), files, "sharpness:<50") == ["soft.png", "white.png"]
    assert filter_files(str(tmp_path), files, "white:>99") == ["white.png"]
    assert filter_files(str(tmp_path), files, "NOT sharpness:<50") == ["broken.png", "sharp.png"]
    given = {"soft.png": sig(5.0)}
    assert filter_files(str(tmp_path), files, "sharpness:<50", signals=given) == ["soft.png"]
