"""The maps in a real browser: Debian's Chromium driven by Playwright (no browser download).

Each page must load from file:// with no console error and no request anywhere else, draw as
many nodes and edges as its SPARQL query returned, react to search and filters, and show hostile
labels as text without running them. A screenshot of each map goes to test-artifacts/.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import require_program

from cmq_graph import maps, network
from cmq_graph.store import EmbeddedStore, GraphStore

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FIXTURE = Path(__file__).parent / "fixtures" / "network.trig"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "maps"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>alert(2)</script>"
CASES = [
    ("overview", {}),
    ("campus", {"campus": "c3"}),
    ("shared-partners", {}),
    ("territory", {"region": "region-28"}),
    ("governance", {}),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = require_program("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def fixture_store() -> EmbeddedStore:
    return EmbeddedStore.from_quads(ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG))


class Opened:
    """A map page with everything it said and asked for recorded."""

    def __init__(self, browser, path: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on(
            "console", lambda m: self.errors.append(m.text) if m.type in {"error", "warning"} else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.cmqMap && window.cmqMap.ready === true", timeout=30_000)

    def _route(self, route) -> None:
        # Anything but the page itself is refused (and recorded by the request handler).
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def counts(self) -> dict[str, int]:
        return self.page.evaluate(
            """() => ({nodes: cmqMap.nodes.length, edges: cmqMap.edges.length,
                       shownNodes: cmqMap.nodesView.length, shownEdges: cmqMap.edgesView.length,
                       drawnNodes: Object.keys(cmqMap.network.body.nodes).length,
                       drawnEdges: Object.values(cmqMap.network.body.edges).filter(e => e.connected).length,
                       highlighted: cmqMap.highlightedCount()})"""
        )

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        assert [u for u in self.requests if not u.startswith(("file://", "data:", "blob:"))] == []

    def close(self) -> None:
        self.context.close()


def expected_counts(store: GraphStore, kind: str, bindings: dict) -> tuple[int, int]:
    """Nodes and edges straight from the map's SPARQL rows: distinct ends and distinct pairs."""
    spec = network.MAP_QUERIES[kind]
    rows = store.query(network.query_text(spec.edges), bindings).dicts()
    pairs = {frozenset((str(r["source"]), str(r["target"]))) for r in rows if r["source"] != r["target"]}
    nodes = {n for pair in pairs for n in pair}
    if spec.nodes:
        nodes |= {str(r["node"]) for r in store.query(network.query_text(spec.nodes), bindings).dicts()}
    return len(nodes), len(pairs)


def _open_map(browser, store: GraphStore, tmp_path: Path, kind: str, params: dict, name: str) -> Opened:
    model = maps.build_map(store, kind, **params)
    path = maps.write_html(model, tmp_path / f"{name}.html")
    return Opened(browser, path)


@pytest.mark.parametrize(("kind", "params"), CASES)
def test_each_map_loads_offline_and_draws_what_the_query_returned(
    browser, fixture_store: EmbeddedStore, tmp_path: Path, kind: str, params: dict
) -> None:
    opened = _open_map(browser, fixture_store, tmp_path, kind, params, kind)
    try:
        opened.assert_clean()
        bindings = network.bindings_for(kind, campus=params.get("campus"), territory=params.get("region"))
        nodes, edges = expected_counts(fixture_store, kind, bindings)
        counts = opened.counts()
        assert (counts["nodes"], counts["edges"]) == (nodes, edges)
        assert (counts["shownNodes"], counts["shownEdges"]) == (nodes, edges)
        assert (counts["drawnNodes"], counts["drawnEdges"]) == (nodes, edges)
        assert opened.page.text_content("#cmq-counts") == f"{nodes} éléments, {edges} liens affichés"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        opened.page.screenshot(path=str(ARTIFACTS / f"fixture-{kind}.png"))
    finally:
        opened.close()


@pytest.fixture
def overview(browser, fixture_store: EmbeddedStore, tmp_path: Path) -> Iterator[Opened]:
    opened = _open_map(browser, fixture_store, tmp_path, "overview", {}, "overview")
    yield opened
    opened.assert_clean()
    opened.close()


def test_search_by_name_highlights_and_lists_matches(overview: Opened) -> None:
    page = overview.page
    assert overview.counts()["highlighted"] == 9
    page.fill("#cmq-search", "lycee")  # accents do not matter
    assert overview.counts()["highlighted"] == 2
    assert sorted(page.locator("#cmq-results button").all_text_contents()) == [
        "Lycée Quai",
        "Lycée \u2028U &amp; <!-- fils -->",
    ]
    page.fill("#cmq-search", "pont")
    page.press("#cmq-search", "Enter")
    # Enter opens the first match: its card, its partners (three campuses) and its sources.
    assert page.text_content("#cmq-details h2") == "Entreprise Pont"
    partners = page.locator("#cmq-details .cmq-partners > li > button").all_text_contents()
    assert partners == ["Campus Deux", "Campus Trois", "Campus Un"]
    sources = page.locator("#cmq-details .cmq-sources li").all_text_contents()
    assert sources == ["Arrêté du 1er janvier (source A)", "Site du rectorat <b>B</b>"]
    assert overview.counts()["highlighted"] == 4  # the node and its neighbours
    page.press("#cmq-search", "Escape")
    assert overview.counts()["highlighted"] == 9


def test_click_highlights_neighbours(overview: Opened) -> None:
    page = overview.page
    position = page.evaluate(
        """() => { const id = cmqMap.nodes.get().find(n => n.label === 'Campus Un').id;
                   return cmqMap.network.canvasToDOM(cmqMap.network.getPositions([id])[id]); }"""
    )
    box = page.locator("#cmq-network").bounding_box()
    page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
    page.wait_for_function("document.querySelector('#cmq-details h2') !== null")
    assert page.text_content("#cmq-details h2") == "Campus Un"
    assert overview.counts()["highlighted"] == 4  # Campus Un, Pont, Quai and the <img> one
    dimmed = page.evaluate("() => cmqMap.nodes.get().filter(n => n.opacity < 1).map(n => n.label).sort()")
    assert dimmed == sorted(
        ["Campus Deux", "Campus Trois", "Campus Quatre", XSS_SCRIPT, "Lycée \u2028U &amp; <!-- fils -->"]
    )


def test_filters_by_kind_sector_and_region(overview: Opened) -> None:
    page = overview.page
    entreprise = page.locator("#cmq-legend label", has_text="entreprise").locator("input")
    entreprise.uncheck()
    counts = overview.counts()
    assert (counts["shownNodes"], counts["shownEdges"]) == (6, 3)  # no p, s, t nor their 5 links
    entreprise.check()
    assert overview.counts()["shownNodes"] == 9
    page.select_option("#cmq-sector", label="transports")
    counts = overview.counts()
    # Campus Un, and the members that take its sector: Pont, Quai, <img>.
    assert (counts["shownNodes"], counts["shownEdges"]) == (4, 3)
    page.select_option("#cmq-sector", label="Tous")
    page.select_option("#cmq-region", label="Île-de-France")
    counts = overview.counts()
    assert (counts["shownNodes"], counts["shownEdges"]) == (3, 2)  # Campus Trois, Pont, </script>
    assert page.text_content("#cmq-counts") == "3 éléments, 2 liens affichés"


def test_hostile_labels_are_text_and_run_nothing(overview: Opened) -> None:
    page = overview.page
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0
    assert page.evaluate("() => document.querySelectorAll('script').length") == 3
    # Shown in the details panel and the search results as the very characters.
    for bad in (XSS_IMG, XSS_SCRIPT):
        page.fill("#cmq-search", bad)
        page.press("#cmq-search", "Enter")
        assert page.text_content("#cmq-details h2") == bad
        assert page.locator("#cmq-results button").all_text_contents() == [bad]
    # Hovering shows the tooltip, built as DOM with the label as its text; still nothing runs.
    page.press("#cmq-search", "Escape")
    for bad in (XSS_IMG, XSS_SCRIPT):
        _hover(page, bad)
        tooltip = page.locator("div.vis-tooltip")
        tooltip.wait_for(state="visible", timeout=5_000)
        assert tooltip.locator(".cmq-tip-title").text_content() == bad
        assert "Arrêté du 1er janvier (source A)" in tooltip.text_content()
        assert page.evaluate("() => document.querySelectorAll('img, div.vis-tooltip script').length") == 0
        page.mouse.move(1, 1)
    assert overview.dialogs == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fixture-hostile-labels.png"))


def _hover(page, label: str) -> None:
    """Move the mouse onto the node called ``label``, first brought into view (as a user pans to
    it: after a search the view is where the last found node was)."""
    position = page.evaluate(
        """(label) => { const id = cmqMap.nodes.get().find(n => n.label === label).id;
                        cmqMap.network.focus(id, { animation: false });
                        return cmqMap.network.canvasToDOM(cmqMap.network.getPositions([id])[id]); }""",
        label,
    )
    box = page.locator("#cmq-network").bounding_box()
    page.mouse.move(box["x"] + position["x"] - 3, box["y"] + position["y"] - 3, steps=3)


def test_maps_of_the_curated_data(browser, store: EmbeddedStore, tmp_path: Path) -> None:
    details = network.fetch_details(store)
    campuses = sorted(str(r[0]) for r in network.run(store, "map-campuses").rows)
    # The campus with the most members makes the most telling campus map.
    members = Counter(str(r[1]) for r in network.run(store, "map-overview").rows)
    campuses.sort(key=lambda c: (-members[c], c))
    regions = sorted({r for c in campuses for r in details.regions.get(c, ())})
    cases = [
        ("overview", {}),
        ("shared-partners", {}),
        ("governance", {}),
        ("campus", {"campus": campuses[0]}),
    ]
    if regions:
        cases.append(("territory", {"region": regions[0]}))
    for kind, params in cases:
        opened = _open_map(browser, store, tmp_path, kind, params, f"data-{kind}")
        try:
            opened.assert_clean()
            bindings = network.bindings_for(kind, campus=params.get("campus"), territory=params.get("region"))
            nodes, edges = expected_counts(store, kind, bindings)
            counts = opened.counts()
            assert (counts["nodes"], counts["edges"], counts["drawnNodes"]) == (nodes, edges, nodes), kind
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            opened.page.screenshot(path=str(ARTIFACTS / f"data-{kind}.png"))
        finally:
            opened.close()
