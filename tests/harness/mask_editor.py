"""Page object of ComfyUI's own MaskEditor, as the gates open it: every selector of it lives here."""
from __future__ import annotations

import re

CONTAINER = "#maskEditorCanvasContainer"

CANVAS_SIZE = (f"() => {{ const c = document.querySelector('{CONTAINER} canvas');"
               " return c ? [c.width, c.height] : null; }")

# True when some 2D canvas of the editor has (painted) or lacks (not painted) mask alpha at
# pixel (x, y) of a ``width`` x ``height`` image, ignoring the opaque image layer.
MASK_LAYER_AT = f"""([x, y, painted, width, height]) => {{
  const cs = [...document.querySelectorAll('{CONTAINER} canvas')];
  const alphas = [];
  for (const c of cs) {{
    let ctx = null;
    try {{ ctx = c.getContext('2d'); }} catch {{ continue; }}
    if (!ctx || !c.width) continue;
    const sx = Math.floor(x * c.width / width), sy = Math.floor(y * c.height / height);
    const a = ctx.getImageData(sx, sy, 1, 1).data[3];
    const opaque = ctx.getImageData(0, 0, c.width, c.height).data.every((v, i) => i % 4 !== 3 || v === 255);
    if (!opaque) alphas.push(a);
  }}
  return painted ? alphas.some(a => a > 0) : alphas.length > 0 && alphas.every(a => a === 0);
}}"""


class MaskEditor:
    def __init__(self, page):
        self.page = page                      # harness.fixtures.Page

    def wait_open(self, timeout=30000):
        self.page.page.wait_for_selector(CONTAINER, timeout=timeout)

    def wait_closed(self, timeout=10000):
        self.page.page.wait_for_function(f"() => !document.querySelector('{CONTAINER}')", timeout=timeout)

    def is_open(self) -> bool:
        return self.page.js(f"() => !!document.querySelector('{CONTAINER}')")

    def canvas_size(self, timeout=15000):
        """The canvas size once it holds the image (a new canvas is 300x150 until the editor loads it)."""
        try:
            self.page.page.wait_for_function(f"() => {{ const s = ({CANVAS_SIZE})(); return s && s[0] !== 300; }}",
                                             timeout=timeout)
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: return what is there, the caller asserts
            pass
        return self.page.js(CANVAS_SIZE)

    def paint_stroke(self, x0=0.10, x1=0.30, y=0.5):
        """Drag the brush horizontally from x0 to x1 (fractions of the canvas) at height y, and wait
        until the stroke is on the mask layer (drawn again if the editor was not taking input yet)."""
        w, h = self.canvas_size()             # the image is in the canvas
        box = self.page.page.locator(CONTAINER).bounding_box()
        py = box["y"] + box["height"] * y
        m = self.page.page.mouse
        for _ in range(3):
            m.move(box["x"] + box["width"] * x0, py)
            m.down()
            for i in range(1, 21):
                m.move(box["x"] + box["width"] * (x0 + (x1 - x0) * i / 20), py)
            m.up()
            try:
                self.wait_mask_at(w * (x0 + x1) / 2, h * y, (w, h), timeout=5000)
                return
            except Exception:  # noqa: BLE001 - Playwright's TimeoutError: the editor was not ready, draw again
                pass
        raise AssertionError("the brush stroke never reached the MaskEditor's mask layer")

    def _click(self, names, timeout=15000):
        pattern = re.compile(r"^\s*(" + "|".join(map(re.escape, names)) + r")\s*$")
        self.page.page.locator("button:visible").filter(has_text=pattern).first.click(timeout=timeout)

    def save(self):
        self._click(["Save", "Save to node"])             # the name differs per frontend

    def close(self):
        """Close without saving, unless it is closing already (Esc closes it on some frontends)."""
        try:
            self.wait_closed(timeout=2000)
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: still open, use its button
            self._click(["Cancel", "Close"])

    def wait_mask_at(self, x, y, size, timeout=15000):
        self.page.page.wait_for_function(MASK_LAYER_AT, arg=[x, y, True, *size], timeout=timeout)

    def no_mask_at(self, x, y, size) -> bool:
        return self.page.js(MASK_LAYER_AT, [x, y, False, *size])
