"""Every name this pack publishes, defined once.

Routes, event names and command ids are public contracts: pages, scripts and
users' saved keybindings depend on them, so their values never change (the
``datasete`` spelling included). ``web/names.js`` holds the same values for the
page; ``tests/unit/test_names.py`` keeps the two in step.
"""
PACK = "Dataset Gates"
CATEGORY = "Dataset Gates"                 # where the nodes show in the node library
LOGGER = "dataset_gates"

ROUTE_PREFIX = "/datasete_gate"            # HTTP: {prefix}/choice, {prefix}/mask, {prefix}/pending
ROUTE_CHOICE = ROUTE_PREFIX + "/choice"
ROUTE_MASK = ROUTE_PREFIX + "/mask"
ROUTE_PENDING = ROUTE_PREFIX + "/pending"
ROUTE_FULL = ROUTE_PREFIX + "/full"            # one full-resolution image of a batch pause, on demand
ROUTE_PROGRESS = ROUTE_PREFIX + "/progress"    # a batch pause's assignments so far (kept for a reload)

EVENT_SHOW = "datasete-gate-show"          # a pause began (token, kind, what to show; never image bytes)
EVENT_READY = "datasete-gate-ready"        # the full-resolution PNGs for the MaskEditor exist
EVENT_DONE = "datasete-gate-done"          # a pause ended (routed, stopped, interrupted, timeout)
EVENT_SORT = "datasete-gate-sort"          # a folder sort: the next image is ready, or the sort ended (why)

SAMPLE_FOLDER = "dataset_gates_sample"    # a relative folder: input/<it> if there, else the shipped sample
TEMP_SUBFOLDER = "datasete_gate"           # previews, under ComfyUI's temp folder
PART_PREFIX = ".dsg-"                      # hidden temporary files of atomic writes
EXTENSION = "datasete.ImageGate"           # the page extension's registered name
COMMAND_PREFIX = "Datasete.Gate."          # Route1..Route10, Stop, EditMask
CSS_PREFIX = "dsg-"
ENV_PREFIX = "DG_"                         # environment variables of the tests and the bench

CANCEL = "__cancel__"                      # the answer that stops a pause
MAX_ROUTES = 10
