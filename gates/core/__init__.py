"""The pure core: no ComfyUI, no torch at import (tests/unit runs it without a server)."""
