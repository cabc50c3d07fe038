"""Tags: splitting, joining, and every Caption Batch Edit operation on tricky captions."""
import pytest

from gates.core import tags
from gates.core.tags import apply


def test_split_strips_whitespace_and_drops_empty_tags():
    assert tags.split_tags("  cat ,dog,,  , red  hat\n, ") == ["cat", "dog", "red  hat"]
    assert tags.split_tags("") == [] and tags.split_tags(None) == [] and tags.split_tags(" , ,, ") == []
    assert tags.split_tags("a photo of a cat") == ["a photo of a cat"]     # free text: one tag


def test_join_and_tidy_never_leave_empty_tags():
    assert tags.join_tags(["cat", " ", "dog "]) == "cat, dog"
    assert tags.tidy(", cat,, dog ,") == "cat, dog"
    assert tags.join_tags([]) == ""


def test_tag_identity_ignores_case_and_whitespace_runs_and_dedupe_keeps_the_first():
    assert tags.tag_key(" Red   Hat ") == tags.tag_key("red hat")
    assert tags.dedupe(["Cat", "dog", "cat", "red hat", "Red  hat"]) == ["Cat", "dog", "red hat"]
    assert tags.has_tag("dog, CAT ", "cat") and not tags.has_tag("catgirl, cats", "cat")


def test_replace_tag_renames_whole_tags_only_case_insensitively():
    assert apply("cat, catgirl, Cat ears, CAT", "replace", "cat", "feline") == "feline, catgirl, Cat ears"
    assert apply("kitten, cat", "replace", "kitten", "cat") == "cat"              # no duplicate left
    assert apply("a, b, c", "replace", "b", "") == "a, c"                          # empty = removed
    assert apply("a, b, c", "replace", "a, c", "z") == "z, b"                      # several finds
    assert apply("x,y", "replace", "nope", "z") == "x,y"                           # untouched: same bytes


def test_replace_text_is_a_substring_replace():
    assert apply("a cat, black cat", "replace", "cat", "dog", "text") == "a dog, black dog"
    assert apply("Cat", "replace", "cat", "dog", "text") == "Cat"                  # case-sensitive
    assert apply("red hat, hat", "replace", "hat", "", "text") == "red"            # an emptied tag goes


@pytest.mark.parametrize("caption,expected", [
    ("blurry, cat", "cat"), ("cat, blurry", "cat"), ("cat, blurry, dog", "cat, dog"), ("blurry", ""),
    ("cat,, blurry ,", "cat"), (" Blurry ,cat, BLURRY", "cat"), ("cat, blurry,", "cat"),
])
def test_remove_tag_never_leaves_empty_or_trailing_commas(caption, expected):
    assert apply(caption, "remove", "blurry") == expected


def test_remove_text_and_keeps_unrelated_captions():
    assert apply("very blurry, cat", "remove", "very ", match="text") == "blurry, cat"
    assert apply("cat, dog", "remove", "blurry") == "cat, dog"


def test_add_appends_missing_tags_and_fills_an_empty_caption():
    assert apply("cat", "add", replace="dog, Cat, tail") == "cat, dog, tail"
    assert apply("", "add", replace="new tag") == "new tag"
    assert apply("cat, dog", "add", replace="CAT") == "cat, dog"


def test_move_to_front():
    assert apply("a, b, masterpiece, c, best quality", "move_to_front", "best quality, masterpiece") == \
        "best quality, masterpiece, a, b, c"
    assert apply("masterpiece, a", "move_to_front", "masterpiece") == "masterpiece, a"
    assert apply("a, red hat, b, red car", "move_to_front", "red", match="text") == "red hat, red car, a, b"


def test_regex_replace_per_tag_and_on_the_whole_text():
    assert apply("cat_ears, dog_tail", "regex_replace", "_", " ") == "cat ears, dog tail"
    assert apply("1girl, solo, 2boys", "regex_replace", r"^\d+(girl|boy)s?$", "") == "solo"
    assert apply("a, b", "regex_replace", r",\s*", " and ", "text") == "a and b"
    assert apply("x", "regex_replace", "y", "z") == "x"


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match=r"not a valid regular expression at position 4: .*'cat\(\['"):
        apply("cat", "regex_replace", "cat([", "x")
    with pytest.raises(ValueError, match="needs 'find'"):
        apply("cat", "remove", " ")
    with pytest.raises(ValueError, match="needs 'replace'"):
        apply("cat", "add", "x", "")
    with pytest.raises(ValueError, match="operation must be one of"):
        apply("cat", "rename", "x", "y")
    with pytest.raises(ValueError, match="match must be"):
        apply("cat", "remove", "cat", match="word")


def test_a_caption_with_no_matching_tag_keeps_its_exact_text_duplicates_included():
    assert apply("dog, Dog ,dog", "replace", "cat", "x") == "dog, Dog ,dog"
    assert apply("catgirl, catgirl", "replace", "cat", "x") == "catgirl, catgirl"     # "cat" only inside a tag
    assert apply("dog, dog, cat", "replace", "cat", "x") == "dog, x"                   # a match: tidied as before


def test_the_quick_no_match_check_still_finds_spelling_variants():
    assert apply("RED \t  Hat, x", "replace", "red hat", "cap") == "cap, x"
    assert apply("Straße", "remove", "STRASSE") == ""                                  # casefold: ß = ss
    assert apply("\u00a0cat ,dog", "move_to_front", "dog") == "dog, cat"               # Unicode whitespace


@pytest.mark.parametrize("op", [("replace", "cat", "x", "tag"), ("remove", "a", "", "text"),
                                ("add", "", "new, cat", "tag"), ("move_to_front", "b", "", "tag"),
                                ("regex_replace", "^c", "k", "tag"), ("regex_replace", "a", "", "text")])
def test_a_compiled_operation_keeps_nothing_from_one_caption_to_the_next(op):
    captions = ["cat, b, a", "", "Cat,,b", "x y, cat , cat", "abc"]
    edit = tags.compile_operation(*op)                # one for the whole run, as Caption Batch Edit uses it
    first = [edit(c) for c in captions]
    assert [edit(c) for c in reversed(captions)] == list(reversed(first))
    assert first == [tags.compile_operation(*op)(c) for c in captions]     # a fresh one per caption
