"""Image and mask helpers: tensor <-> PIL, previews, mask decode/resize/batch.

No ComfyUI here. numpy and Pillow are imported at module level, torch lazily,
so the decoders can be used (and tested) without torch.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

PREVIEW_LONG_SIDE = 768          # previews are for eyes, not for the MaskEditor
PREVIEW_QUALITY = 85
THUMB_LONG_SIDE = 256            # a batch grid's thumbnails
THUMB_QUALITY = 80
MAX_MASK_BYTES = 64 * 1024 * 1024
MAX_MASK_PIXELS = 8192 * 8192


class BadImage(ValueError):
    """Bytes or a file that cannot be used as a mask (non-image, too big...)."""


def preview_size(h: int, w: int, cap: int = PREVIEW_LONG_SIDE) -> tuple[int, int]:
    """(h, w) scaled so the long side is at most ``cap``; never upscaled."""
    long_side = max(h, w)
    if long_side <= cap:
        return h, w
    s = cap / long_side
    return max(1, round(h * s)), max(1, round(w * s))


ORIENTATION = 0x0112              # the EXIF tag that says how a camera's picture is turned


def upright(im: Image.Image) -> Image.Image:
    """``im`` turned as its EXIF orientation says; ``im`` itself when it needs no turn (Pillow's
    ``exif_transpose`` copies every image, 72 MB for a 24-megapixel one, turned or not)."""
    if im.getexif().get(ORIENTATION, 1) in (2, 3, 4, 5, 6, 7, 8):
        return ImageOps.exif_transpose(im) or im
    return im


def tensor_to_uint8(image) -> np.ndarray:
    """One IMAGE ``[H, W, C]`` float tensor -> ``uint8`` array."""
    return image.detach().cpu().clamp(0, 1).mul(255).round().byte().numpy()


def tensor_to_uint16(image) -> np.ndarray:
    """One IMAGE ``[H, W, C]`` float tensor -> ``uint16`` array (0..65535), for 16-bit files.

    A 16-bit source's value v comes back exactly: the loader gave v / 65535 in float32.
    """
    return image.detach().cpu().clamp(0, 1).mul(65535).round().int().numpy().astype(np.uint16)


def encode_png16(arr: np.ndarray, level: int = 6) -> bytes:
    """A ``uint16`` array ``[H, W]`` (gray) or ``[H, W, 3]`` (RGB) as a 16-bit PNG.

    Our own writer because Pillow has no 16-bit RGB mode (it reads such a PNG as
    8-bit RGB and cannot write one). Every row uses PNG's Sub filter (the byte
    one pixel to the left subtracted), which makes photos compress far better
    than no filter at the cost of one numpy subtraction.
    """
    if arr.dtype != np.uint16 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ValueError(f"encode_png16 takes uint16 [H, W] or [H, W, 3], got {arr.dtype} {arr.shape}")
    h, w = arr.shape[0], arr.shape[1]
    c = 1 if arr.ndim == 2 else 3
    rows = np.ascontiguousarray(arr, dtype=">u2").view(np.uint8).reshape(h, w * c * 2)
    bpp = 2 * c
    raw = np.empty((h, w * c * 2 + 1), dtype=np.uint8)
    raw[:, 0] = 1                                       # filter type Sub
    raw[:, 1:bpp + 1] = rows[:, :bpp]
    np.subtract(rows[:, bpp:], rows[:, :-bpp], out=raw[:, bpp + 1:])    # uint8: wraps mod 256, as PNG wants
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 0 if c == 1 else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw, level))
            + _png_chunk(b"IEND", b""))


def downscale(images, cap: int = PREVIEW_LONG_SIDE):
    """Area-downscale an IMAGE batch ``[B, H, W, C]`` so its long side is <= cap."""
    import torch.nn.functional as F

    h, w = images.shape[1], images.shape[2]
    nh, nw = preview_size(h, w, cap)
    if (nh, nw) == (h, w):
        return images
    x = images.movedim(-1, 1).float()
    return F.interpolate(x, size=(nh, nw), mode="area").movedim(1, -1)


def thumbnail(frame: np.ndarray, cap: int = THUMB_LONG_SIDE) -> Image.Image:
    """One float ``[H, W, C]`` frame (0..1) -> a PIL thumbnail whose long side is <= ``cap``.

    Built for a batch of big frames in a thread pool: a strided view first keeps
    about twice the thumbnail's size (so only a fraction of the floats are read
    and converted), then Pillow's reducing resize, which releases the GIL.
    """
    h, w = frame.shape[0], frame.shape[1]
    step = max(1, max(h, w) // (2 * cap))
    small = frame[::step, ::step]
    if small.ndim == 2:
        small = small[..., None]
    u8 = (np.clip(small, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    im = Image.fromarray(u8[..., :3] if u8.shape[-1] >= 3 else u8[..., 0])
    im.thumbnail((cap, cap))
    return im


def save_jpeg(arr: np.ndarray, path: str, quality: int = PREVIEW_QUALITY) -> None:
    im = Image.fromarray(arr[..., :3] if arr.shape[-1] >= 3 else arr[..., 0])
    im.save(path, "JPEG", quality=quality)


class Abandoned(Exception):
    """A background write stopped because nobody needs the file any more."""


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def save_png_stoppable(image, path: str, should_stop, rows: int | None = None) -> None:
    """Write an IMAGE ``[H, W, C]`` float tensor as an 8-bit PNG, a band of rows at a time.

    For background work: everything runs on the calling thread, in numpy (torch
    would take every core) and zlib, which both release the GIL. Between bands
    of about 256K values it raises :class:`Abandoned` once ``should_stop()`` is
    true, so an answered pause frees the CPU within a millisecond or so. Our own
    encoder because Pillow's PNG encoder, stopped mid-image, leaks its zlib state
    (~0.3 MB a time).
    """
    src = image.detach().cpu().numpy()
    h, w = src.shape[0], src.shape[1]
    c = src.shape[2] if src.ndim == 3 else 1
    color = {1: 0, 3: 2, 4: 6}[c]                 # gray, RGB, RGBA
    rows = rows or max(1, (1 << 18) // (w * c))
    z = zlib.compressobj(1)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)))
        for y in range(0, h, rows):
            if should_stop():
                raise Abandoned()
            band = np.clip(src[y:y + rows].reshape(-1, w * c), 0.0, 1.0) * 255.0
            np.rint(band, out=band)
            raw = np.zeros((band.shape[0], w * c + 1), dtype=np.uint8)   # column 0: filter type None
            raw[:, 1:] = band
            data = z.compress(raw.tobytes())
            if data:
                f.write(_png_chunk(b"IDAT", data))
        f.write(_png_chunk(b"IDAT", z.flush()) + _png_chunk(b"IEND", b""))


def _open_checked(fp, what: str) -> Image.Image:
    try:
        im = Image.open(fp)
    except Exception as e:  # PIL raises many types for bad data
        raise BadImage(f"{what} is not an image PIL can read ({type(e).__name__})") from None
    w, h = im.size
    if w * h > MAX_MASK_PIXELS:
        raise BadImage(f"{what} is {w}x{h}: over the {MAX_MASK_PIXELS}-pixel cap")
    try:
        im.load()
    except Exception as e:
        raise BadImage(f"{what} is truncated or corrupt ({type(e).__name__})") from None
    return im


def decode_gray_mask(data: bytes) -> np.ndarray:
    """The plan's mask upload: grayscale image, white = painted -> float32 [H, W]."""
    if not data:
        raise BadImage("the mask upload is empty")
    if len(data) > MAX_MASK_BYTES:
        raise BadImage(f"the mask upload is over {MAX_MASK_BYTES // 2**20} MiB")
    im = _open_checked(io.BytesIO(data), "the mask upload")
    if "A" in im.getbands() and im.mode != "LA":
        # An RGBA upload is an editor file: painted = transparent.
        return alpha_mask(im)
    return np.asarray(im.convert("L"), dtype=np.float32) / 255.0


def alpha_mask(im: Image.Image) -> np.ndarray:
    """MaskEditor polarity: painted pixels are transparent, mask = 1 - alpha/255."""
    a = np.asarray(im.getchannel("A"), dtype=np.float32) / 255.0
    return 1.0 - a


def decode_editor_file(path: str) -> np.ndarray:
    """A file the core MaskEditor saved -> float32 [H, W] mask from its alpha."""
    import os

    size = os.path.getsize(path)
    if size > MAX_MASK_BYTES:
        raise BadImage(f"{os.path.basename(path)} is over {MAX_MASK_BYTES // 2**20} MiB")
    with open(path, "rb") as f:
        im = _open_checked(f, os.path.basename(path))
        im = ImageOps.exif_transpose(im) or im
        if "A" not in im.getbands():
            raise BadImage(f"{os.path.basename(path)} has no alpha channel, so it holds no mask")
        return alpha_mask(im.convert("RGBA"))


def has_paint(mask) -> bool:
    """Is any value of a mask (array or CPU/GPU tensor, any shape) above 0?

    One read-only pass in numpy: a saver asks it before fitting a mask, so a sort's all-zero
    full-size mask costs no copy, and no torch operation whose threads spin beside the previews."""
    if isinstance(mask, (bytes, bytearray)):
        return bool(mask)                 # an encoded mask: decoded (and judged) by fit_mask
    if hasattr(mask, "detach"):
        mask = mask.detach().cpu()
        try:
            mask = mask.numpy()
        except TypeError:                 # bfloat16 and other dtypes numpy lacks
            mask = mask.float().numpy()
    arr = np.asarray(mask)
    return bool(arr.size) and bool(arr.max() > 0)


def fit_mask(mask, batch: int, height: int, width: int):
    """Any mask (None, bytes, array or tensor of [H,W] / [B,H,W]) -> float32 [batch, H, W].

    Resized (bilinear) to the image when sizes differ; a single mask is repeated
    over the batch; a shorter batch repeats its last mask; None -> zeros.
    """
    import torch
    import torch.nn.functional as F

    if mask is None or (isinstance(mask, (bytes, bytearray)) and not mask):
        # numpy's zeros come from calloc: a big one is fresh zero pages, no memset,
        # so the run resumes at once even at 4096² (torch.zeros writes all 64 MB).
        return torch.from_numpy(np.zeros((batch, height, width), dtype=np.float32))
    if isinstance(mask, (bytes, bytearray)):
        mask = decode_gray_mask(bytes(mask))
    m = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask)
    m = m.float()
    if m.ndim == 2:
        m = m.unsqueeze(0)
    if m.ndim != 3:
        raise ValueError(f"a mask must be [H, W] or [B, H, W], got shape {tuple(m.shape)}")
    if m.shape[1:] != (height, width):
        m = F.interpolate(m.unsqueeze(1), size=(height, width), mode="bilinear", align_corners=False).squeeze(1)
    if m.shape[0] < batch:
        m = torch.cat([m, m[-1:].expand(batch - m.shape[0], -1, -1)], dim=0)
    elif m.shape[0] > batch:
        m = m[:batch]
    return m.clamp(0, 1).contiguous()
