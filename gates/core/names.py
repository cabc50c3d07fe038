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
# a folder sort: the page sends each key at once (queued, applied in order), revisits decisions, shows the log
ROUTE_SORT_DECIDE = ROUTE_PREFIX + "/sort/decide"
ROUTE_SORT_UNDO = ROUTE_PREFIX + "/sort/undo"
ROUTE_SORT_STOP = ROUTE_PREFIX + "/sort/stop"
ROUTE_SORT_REROUTE = ROUTE_PREFIX + "/sort/reroute"
ROUTE_SORT_LOG = ROUTE_PREFIX + "/sort/log"
ROUTE_SORT_THUMB = ROUTE_PREFIX + "/sort/thumb"
ROUTE_SORT_FULL = ROUTE_PREFIX + "/sort/full"  # one image of the sort at full size, for the MaskEditor
# the Image Pool (Grid): each answers the pool's manifest
ROUTE_POOL_LIST = ROUTE_PREFIX + "/pool/list"
ROUTE_POOL_ADD = ROUTE_PREFIX + "/pool/add"
ROUTE_POOL_ACTIVE = ROUTE_PREFIX + "/pool/active"
ROUTE_POOL_LABEL = ROUTE_PREFIX + "/pool/label"
ROUTE_POOL_SET_MASK = ROUTE_PREFIX + "/pool/set_mask"
ROUTE_POOL_REMOVE = ROUTE_PREFIX + "/pool/remove"
# the Pool Profile: named pools, zip export / import
ROUTE_PROFILES_LIST = ROUTE_PREFIX + "/pool/profiles/list"
ROUTE_PROFILES_CREATE = ROUTE_PREFIX + "/pool/profiles/create"
ROUTE_PROFILES_RENAME = ROUTE_PREFIX + "/pool/profiles/rename"
ROUTE_PROFILES_DELETE = ROUTE_PREFIX + "/pool/profiles/delete"
ROUTE_PROFILES_DUPLICATE = ROUTE_PREFIX + "/pool/profiles/duplicate"
ROUTE_PROFILES_EXPORT = ROUTE_PREFIX + "/pool/profiles/export"
ROUTE_PROFILES_IMPORT = ROUTE_PREFIX + "/pool/profiles/import"
# the caption box: the folder's tags for the autocomplete, and a caption's length in CLIP tokens
ROUTE_TAGS = ROUTE_PREFIX + "/tags"
ROUTE_TOKENS = ROUTE_PREFIX + "/tokens"

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
