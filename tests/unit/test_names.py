"""Names are defined once: the page's names module matches the server's, and nothing else spells them."""
import os
import re

from gates.core import names

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB = os.path.join(REPO, "web")


def web_files():
    return sorted(f for f in os.listdir(WEB) if f.endswith(".js"))


def read(name):
    with open(os.path.join(WEB, name), encoding="utf-8") as f:
        return f.read()


def js_value(source, name):
    m = re.search(rf"export const {name} = (\"[^\"]*\"|\d+);", source)
    assert m, f"web/names.js has no {name}"
    return m.group(1).strip('"') if m.group(1).startswith('"') else int(m.group(1))


def test_the_page_and_the_server_use_the_same_names():
    js = read("names.js")
    for js_name, py_name in [("PACK", "PACK"), ("ROUTE_PREFIX", "ROUTE_PREFIX"), ("EXTENSION", "EXTENSION"),
                             ("COMMAND_PREFIX", "COMMAND_PREFIX"), ("CSS_PREFIX", "CSS_PREFIX"),
                             ("CANCEL", "CANCEL"), ("MAX_ROUTES", "MAX_ROUTES")]:
        assert js_value(js, js_name) == getattr(names, py_name), js_name
    events = dict(re.findall(r'(\w+): "(datasete-gate-\w+)"', js))
    assert events == {"show": names.EVENT_SHOW, "ready": names.EVENT_READY, "done": names.EVENT_DONE,
                      "sort": names.EVENT_SORT}
    routes = {re.sub(r"([A-Z])", r"_\1", k).lower(): v          # sortDecide -> sort_decide
              for k, v in re.findall(r"(\w+): `\$\{ROUTE_PREFIX\}(/[\w/]+)`", js)}
    every_route = {k[len("ROUTE_"):].lower(): v for k, v in vars(names).items()
                   if k.startswith("ROUTE_") and k != "ROUTE_PREFIX"}
    assert {k: names.ROUTE_PREFIX + v for k, v in routes.items()} == every_route
    assert {"choice", "mask", "pending", "sort_decide", "sort_reroute"} <= set(every_route)


def test_published_values_keep_what_users_depend_on():
    """Saved keybindings, scripts and open pages use these: they never change."""
    assert (names.ROUTE_PREFIX, names.EVENT_SHOW, names.COMMAND_PREFIX) == (
        "/datasete_gate", "datasete-gate-show", "Datasete.Gate.")
    assert names.CATEGORY == "Dataset Gates"


def test_no_timer_redraws_the_page():
    for f in web_files():
        assert "setInterval" not in read(f), f"web/{f} uses setInterval"


def test_no_emoji_in_what_the_page_shows():
    """Characters past U+FFFF (emoji) show as empty boxes where no emoji font is installed."""
    for f in web_files():
        text = read(f)
        escaped = re.findall(r"\\u[dD][89abAB][0-9a-fA-F]{2}", text)      # a surrogate pair, written escaped
        astral = [c for c in text if ord(c) > 0xFFFF]
        assert not escaped and not astral, f"web/{f} shows {escaped or astral}"


def test_only_the_names_module_spells_event_names_and_routes():
    spelled = [names.ROUTE_PREFIX, names.EVENT_SHOW, names.EVENT_READY, names.EVENT_DONE, names.EVENT_SORT,
               names.ROUTE_PREFIX.strip("/"), names.COMMAND_PREFIX, names.EXTENSION]
    for f in web_files():
        if f == "names.js":
            continue
        text = read(f)
        assert not [s for s in spelled if s in text], f"web/{f} spells a published name"


def test_python_spells_published_names_only_in_the_names_module():
    spelled = [names.ROUTE_PREFIX, names.EVENT_SHOW, names.EVENT_READY, names.EVENT_DONE, '"Datasete Gates"',
               '"Dataset Gates"']
    gates = os.path.join(REPO, "gates")
    for f in sorted(os.listdir(gates)):
        if f.endswith(".py") and f != "names.py":
            with open(os.path.join(gates, f), encoding="utf-8") as fh:
                text = fh.read()
            assert not [s for s in spelled if s in text], f"gates/{f} spells a published name"
