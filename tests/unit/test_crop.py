"""Crop at the gate: the answer's crop and bucket are checked; a crop framed for a bucket is not cut again."""
import pytest

from gates.core import buckets
from gates.core.pauses import PauseError, RouteKind, bucket_name, crop_box


def test_a_crop_inside_the_image_is_taken_in_whole_pixels():
    assert crop_box({"x": 10, "y": 0, "width": 64.4, "height": 100}, (200, 100)) == \
        {"x": 10, "y": 0, "width": 64, "height": 100}
    assert crop_box(None, (200, 100)) is None


@pytest.mark.parametrize("crop, why", [
    ({"x": 0, "y": 0, "width": 63, "height": 100}, "at least 64"),
    ({"x": 150, "y": 0, "width": 64, "height": 100}, "leaves the image"),
    ({"x": -1, "y": 0, "width": 64, "height": 64}, "leaves the image"),
    ({"x": 0, "y": 40, "width": 64, "height": 64}, "leaves the image"),
    ({"x": "0", "y": 0, "width": 64, "height": 64}, "must be a number"),
    ({"x": True, "y": 0, "width": 64, "height": 64}, "must be a number"),
    ({"x": float("nan"), "y": 0, "width": 64, "height": 64}, "must be a number"),
    ({"y": 0, "width": 64, "height": 64}, "must be a number"),
    ([0, 0, 64, 64], "must be an object"),
])
def test_bad_crops_are_refused_with_the_reason(crop, why):
    with pytest.raises(PauseError, match=why):
        crop_box(crop, (200, 100))


def test_the_route_answer_carries_crop_and_bucket():
    kind = RouteKind(3, ["a", "b", "c"])
    kind.size = (300, 200)
    choice = kind.parse({"message": 2, "crop": {"x": 1, "y": 2, "width": 100, "height": 150}, "bucket": "832X1216"})
    assert int(choice) == 2 and choice.crop == {"x": 1, "y": 2, "width": 100, "height": 150}
    assert choice.bucket == "832x1216"
    with pytest.raises(PauseError, match="leaves"):
        kind.parse({"message": 2, "crop": {"x": 250, "y": 0, "width": 100, "height": 100}})
    with pytest.raises(PauseError, match="bucket"):
        bucket_name("big")


@pytest.mark.parametrize("size", [(1024, 1536), (3000, 2000), (777, 1333), (4000, 6000)])
def test_a_crop_of_a_bucket_aspect_is_resized_to_the_bucket_not_cut(size):
    iw, ih = size
    W, H = 832, 1216
    # the largest box of the bucket's aspect, as the page frames it, in whole pixels
    if iw / ih > W / H:
        ch, cw = ih, round(ih * W / H)
    else:
        cw, ch = iw, round(iw * H / W)
    geo = buckets.cover(cw, ch, W, H)
    assert (geo["new_w"], geo["new_h"], geo["left"], geo["top"]) == (W, H, 0, 0)


def test_an_image_of_another_aspect_is_still_cropped_to_cover():
    geo = buckets.cover(1920, 1080, 1664, 960)
    assert geo["new_w"] - 1664 > 1 or geo["new_h"] - 960 > 1 or (geo["left"], geo["top"]) != (0, 0)


def test_the_show_event_offers_sane_bucket_aspects_only():
    from gates.nodes.gate import crop_buckets

    offered = crop_buckets(buckets.candidates(1280, 64, ""))
    assert [1280, 1280] in offered and len(offered) > 10
    assert all(1 / 4 <= w / h <= 4 for w, h in offered) and len(offered) <= 64
