"""The atlas and the network maps in Debian's Chromium (Playwright), as staff would use them.

Offline (no request leaves the file), keyboard only, hostile labels inert, the same colour for a
kind on every map, every Normandy campus on the Normandie maps, the synthetic national graph.
Screenshots go to test-artifacts/atlas/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import require_program
from rdflib.namespace import RDF, RDFS

from cmq_graph import atlas, maps, network, synth
from cmq_graph.build import build
from cmq_graph.namespaces import CMQ
from cmq_graph.store import EmbeddedStore, GraphStore

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FIXTURE = Path(__file__).parent / "fixtures" / "network.trig"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "atlas"
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


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = require_program("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    root = tmp_path_factory.mktemp("synth")
    synth.write(root / "data", synth.SynthConfig(campuses=30))
    build(
        root / "data",
        Path(__file__).resolve().parent.parent / "ontology",
        root / "store",
        say=lambda _m: None,
    )
    return EmbeddedStore.open(root / "store", in_memory=True)


@pytest.fixture(scope="module")
def hostile_store() -> EmbeddedStore:
    """The network fixture, with a campus named by markup and Normandie given its INSEE code."""
    quads = list(ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG))
    graph = ox.NamedNode("https://w3id.org/cmq/id/source/src-a")
    region = ox.NamedNode("https://w3id.org/cmq/id/territory/region-28")
    c5 = ox.NamedNode("https://w3id.org/cmq/id/campus/c5")
    quads += [
        ox.Quad(region, ox.NamedNode(str(CMQ.inseeCode)), ox.Literal("28"), graph),
        ox.Quad(c5, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(CMQ.Campus)), graph),
        ox.Quad(c5, ox.NamedNode(str(CMQ.territory)), region, graph),
        ox.Quad(c5, ox.NamedNode(str(RDFS.label)), ox.Literal(XSS_IMG + XSS_SCRIPT, language="fr"), graph),
    ]
    return EmbeddedStore.from_quads(quads)


class Page:
    """A page opened from file:// with every console message, dialog and request recorded."""

    def __init__(self, browser, path: Path, ready: str, url_suffix: str = "") -> None:
        self.context = browser.new_context(viewport={"width": 1366, "height": 768})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.context.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort(),
        )
        self.page = self.context.new_page()
        self.page.on(
            "console", lambda m: self.errors.append(m.text) if m.type in {"error", "warning"} else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.resolve().as_uri() + url_suffix)
        self.page.wait_for_function(ready, timeout=90_000)

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        assert [u for u in self.requests if not u.startswith(("file://", "data:"))] == []

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def close(self) -> None:
        self.context.close()


ATLAS_READY = "window.cmqAtlas && window.cmqAtlas.ready === true"
MAP_READY = "window.cmqMap && window.cmqMap.ready === true"


def open_atlas(browser, store: GraphStore, tmp_path: Path, name: str, suffix: str = "") -> Page:
    path = atlas.write_html(atlas.build_atlas(store), tmp_path / f"{name}.html")
    return Page(browser, path, ATLAS_READY, suffix)


def open_map(browser, store: GraphStore, tmp_path: Path, kind: str, name: str, **params: str) -> Page:
    path = maps.write_html(maps.build_map(store, kind, **params), tmp_path / f"{name}.html")
    return Page(browser, path, MAP_READY)


def placed_campuses(store: GraphStore) -> set[str]:
    return {str(r[0]) for r in network.run(store, "map-campus-places").rows}


# -- the atlas -------------------------------------------------------------------------------


def test_atlas_of_the_curated_data(browser, store: EmbeddedStore, tmp_path: Path) -> None:
    page = open_atlas(browser, store, tmp_path, "curated")
    try:
        p = page.page
        total = len(network.run(store, "map-campuses").rows)
        placed = len({c for c in placed_campuses(store)})
        assert p.evaluate("cmqAtlas.shown()") == total
        assert p.evaluate("cmqAtlas.dots()") <= placed
        assert p.locator("#map path.area").count() == 96
        # Campuses with no known place are listed, not silently left out.
        unplaced = p.locator("#area li").count()
        assert p.evaluate("cmqAtlas.dots()") + unplaced == total
        # Labels that ended before today are drawn hollow and listed among the expiring or expired.
        expired = p.evaluate(
            "JSON.parse(document.getElementById('atlas-data').textContent).campuses"
            ".filter(c => c.labels.some(l => l.end)).length"
        )
        assert expired > 0
        assert p.locator("#map circle.dot.expired").count() >= 1
        assert p.locator("#t-expiring tbody tr").count() >= p.locator("#map circle.dot.expired").count()
        # Click Normandie: its campuses; click one: its fiche, with sources and their publishers.
        p.locator("#map path[aria-label^='Normandie']").first.click()
        heading = p.text_content("#area h2")
        assert heading.startswith("Normandie : ")
        assert int(heading.split(": ")[1].split()[0]) == p.locator("#area li").count() > 0
        p.locator("#area li button").first.click()
        assert p.locator("#fiche h2").count() == 1
        assert p.locator("#fiche h3", has_text="Sources").count() == 1
        assert "Éditeur" in p.text_content("#fiche")
        link = p.locator("#fiche a").first
        assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
        # The fiche is in view on a 1366×768 screen.
        box = p.locator("#fiche h2").bounding_box()
        assert box and box["y"] + box["height"] < 768
        page.shot("curated-fiche")
        page.assert_clean()
    finally:
        page.close()


def test_atlas_of_synthetic_national_data_filters_chips_and_url(
    browser, synth_store: EmbeddedStore, tmp_path: Path
) -> None:
    page = open_atlas(browser, synth_store, tmp_path, "synth")
    try:
        p = page.page
        assert p.evaluate("cmqAtlas.shown()") == 30 == p.evaluate("cmqAtlas.dots()")
        options = p.locator("#f-region option").all()
        value = next(o.get_attribute("value") for o in options if o.get_attribute("value"))
        p.select_option("#f-region", value)
        shown = p.evaluate("cmqAtlas.shown()")
        assert 0 < shown < 30 and p.evaluate("cmqAtlas.dots()") == shown
        assert p.locator("#active .chip").count() == 1
        assert f"region={value}" in p.evaluate("location.hash")
        # Choropleth by dominant filière or sector: a legend per theme.
        p.select_option("#f-measure", "dominant")
        assert p.locator("#legend .swatch").count() >= 1
        # The view survives a reload from its URL.
        url = p.url
        page.shot("synth-filtered")
        p.goto(url)
        p.wait_for_function(ATLAS_READY)
        assert p.evaluate("cmqAtlas.shown()") == shown
        assert p.input_value("#f-region") == value and p.input_value("#f-measure") == "dominant"
        p.click("#clear-all")
        assert p.evaluate("cmqAtlas.shown()") == 30 and p.locator("#active .chip").count() == 0
        # Indicators: one row per région with campuses, and labels per year.
        assert p.locator("#t-region tbody tr").count() >= 2
        assert p.locator("#t-year tbody tr").count() >= 2
        page.assert_clean()
    finally:
        page.close()


def test_atlas_keyboard_only(browser, store: EmbeddedStore, tmp_path: Path) -> None:
    page = open_atlas(browser, store, tmp_path, "keyboard")
    try:
        p = page.page
        for _ in range(200):
            p.keyboard.press("Tab")
            if (p.evaluate("document.activeElement.getAttribute('aria-label') || ''")).startswith(
                "Normandie"
            ):
                break
        else:
            pytest.fail("Normandie cannot be reached with Tab")
        p.keyboard.press("Enter")
        assert p.text_content("#area h2").startswith("Normandie")
        for _ in range(200):
            p.keyboard.press("Tab")
            if p.evaluate(
                "document.activeElement.closest('#area') !== null"
                " && document.activeElement.tagName === 'BUTTON'"
            ):
                break
        else:
            pytest.fail("the campus list cannot be reached with Tab")
        name = p.evaluate("document.activeElement.textContent")
        p.keyboard.press("Enter")
        assert p.text_content("#fiche h2") == name
        assert p.evaluate("document.activeElement.id") == "fiche"
        page.assert_clean()
    finally:
        page.close()


def test_atlas_hostile_labels_are_text(browser, hostile_store: EmbeddedStore, tmp_path: Path) -> None:
    page = open_atlas(browser, hostile_store, tmp_path, "hostile")
    try:
        p = page.page
        p.locator("#map path[aria-label^='Normandie']").first.click()
        p.locator("#area li button", has_text="<img").click()
        assert p.text_content("#fiche h2") == XSS_IMG + XSS_SCRIPT
        assert p.evaluate("document.querySelectorAll('img').length") == 0
        assert p.evaluate("document.querySelectorAll('script').length") == 2
        page.shot("hostile")
        page.assert_clean()
    finally:
        page.close()


# -- the network maps ------------------------------------------------------------------------


def test_a_kind_has_one_colour_and_shape_on_every_map_and_the_atlas(
    browser, hostile_store: EmbeddedStore, tmp_path: Path
) -> None:
    styles: dict[str, set[tuple[str, str]]] = {}
    cases = [
        ("overview", {}),
        ("campus", {"campus": "c1"}),
        ("shared-partners", {}),
        ("territory", {"region": "region-28"}),
    ]
    for kind, params in cases:
        data = maps.page_data(maps.build_map(hostile_store, kind, **params))
        for k in data["kinds"]:
            styles.setdefault(k["label"], set()).add((k["color"], k["shape"]))
    assert styles and all(len(v) == 1 for v in styles.values()), styles
    assert styles["Campus"] == {(maps.OKABE_ITO["campus"], "star")}
    # What Chromium draws: the campus group of a network map and a campus dot of the atlas.
    page = open_map(browser, hostile_store, tmp_path, "overview", "colours")
    try:
        drawn = page.page.evaluate(
            "() => { const n = cmqMap.network.body.nodes[0]; return n.options.color.background; }"
        )
        assert drawn.upper() == maps.OKABE_ITO["campus"]
    finally:
        page.close()
    page = open_atlas(browser, hostile_store, tmp_path, "colours-atlas")
    try:
        fill = page.page.evaluate("getComputedStyle(document.querySelector('#map circle.dot')).fill")
        assert fill == "rgb(213, 94, 0)"  # #D55E00
    finally:
        page.close()


def test_time_slider_and_minimum_shared(browser, hostile_store: EmbeddedStore, tmp_path: Path) -> None:
    page = open_map(browser, hostile_store, tmp_path, "overview", "time")
    try:
        p = page.page
        # The membership of Entreprise Pont in Campus Un starts in 2016: dashed before, solid after.
        dashed = """(year) => { cmqMap.setDate(year);
            const d = JSON.parse(document.getElementById('cmq-data').textContent);
            const e = cmqMap.edges.get().find(e => d.edges[e.id].start === '2016');
            return !!e.dashes; }"""
        assert p.evaluate(dashed, "2010-01-01") is True
        assert p.evaluate(dashed, "2020-01-01") is False
        page.assert_clean()
    finally:
        page.close()
    page = open_map(browser, hostile_store, tmp_path, "shared-partners", "slider")
    try:
        p = page.page
        assert p.locator("#cmq-shared-box").is_visible()
        total = p.evaluate("cmqMap.edgesView.length")
        assert total > 0
        assert p.evaluate("cmqMap.setMinShared(1000)") == 0
        assert p.evaluate("cmqMap.setMinShared(1)") == total
        page.assert_clean()
    finally:
        page.close()


def test_network_map_by_keyboard_zoom_and_table(
    browser, hostile_store: EmbeddedStore, tmp_path: Path
) -> None:
    page = open_map(browser, hostile_store, tmp_path, "overview", "keyboard-map")
    try:
        p = page.page
        p.keyboard.press("Tab")  # the skip link to the table comes first
        assert p.evaluate("document.activeElement.className") == "cmq-skip"
        p.keyboard.press("Enter")
        p.locator("#cmq-table-box summary").focus()
        p.keyboard.press("Enter")
        first = p.locator("#cmq-table tbody button").first
        first.focus()
        name = first.text_content()
        p.keyboard.press("Enter")
        assert p.text_content("#cmq-details h2") == name
        # The fiche is at the top, in view on a 1366×768 laptop.
        box = p.locator("#cmq-details h2").bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] < 768
        # Identifiers open in a new tab, so the offline map stays.
        iri = p.locator("#cmq-details a[href^='https://w3id.org/']").first
        assert iri.get_attribute("target") == "_blank"
        scale = p.evaluate("cmqMap.network.getScale()")
        p.click("#cmq-zoom-in")
        assert p.evaluate("cmqMap.network.getScale()") > scale
        p.click("#cmq-zoom-out")
        p.click("#cmq-fit")
        # Search by identifier (UAI) and by town.
        assert p.evaluate("cmqMap.search('0761234A').length") == 1
        assert p.evaluate("cmqMap.search('le havre').length") >= 1
        page.assert_clean()
    finally:
        page.close()


def test_empty_map_explains_itself(browser, store: EmbeddedStore, tmp_path: Path) -> None:
    empty = [
        t
        for t in maps.territories(store)
        if t["type"] == "académie"
        and not network.run(store, "map-territory-nodes", {"territory": ox_iri(t["iri"])}).rows
    ]
    assert empty, "every académie has a campus: no empty map to check"
    page = open_map(browser, store, tmp_path, "territory", "empty", academie=empty[0]["id"])
    try:
        assert page.page.locator("#cmq-empty").is_visible()
        assert "Rien à dessiner" in page.page.text_content("#cmq-empty")
        page.assert_clean()
    finally:
        page.close()


def ox_iri(iri: str):
    from rdflib import URIRef

    return URIRef(iri)


@pytest.mark.parametrize(
    ("kind", "name", "option"),
    [("région", "Normandie", "region"), ("académie", "Académie de Normandie", "academie"),
     ("académie", "Académie de Caen", "academie")],
)  # fmt: skip
def test_normandie_maps_show_every_normandy_campus(
    browser, normandy_store: EmbeddedStore, tmp_path: Path, kind: str, name: str, option: str
) -> None:
    store = normandy_store  # the Normandy slice: every campus in it is in Normandy
    territory = next(t for t in maps.territories(store) if t["type"] == kind and t.get("name") == name)
    page = open_map(
        browser, store, tmp_path, "territory", f"normandie-{territory['id']}", **{option: territory["id"]}
    )
    try:
        p = page.page
        drawn = set(
            p.evaluate(
                """() => { const d = JSON.parse(document.getElementById('cmq-data').textContent);
                           return d.nodes.filter(n => d.kinds[n.kinds[0]].category === 'campus')
                                         .map(n => n.label); }"""
            )
        )
        listed = set(p.locator("#cmq-unplaced li").all_text_contents())
        details = network.fetch_details(store)
        everyone = {details.label(str(r[0])) for r in network.run(store, "map-campuses").rows}
        assert drawn | listed == everyone
        assert p.locator("#cmq-unplaced-box").is_visible() == bool(listed)
        page.shot(f"normandie-{territory['id']}")
        page.assert_clean()
    finally:
        page.close()


@pytest.mark.parametrize("kind", ["overview", "shared-partners", "territory", "governance", "campus"])
def test_network_maps_of_synthetic_national_data(
    browser, synth_store: EmbeddedStore, tmp_path: Path, kind: str
) -> None:
    params: dict[str, str] = {}
    if kind == "territory":
        params["region"] = next(
            t["id"]
            for t in maps.territories(synth_store)
            if t["type"] == "région" and t.get("name") == "Normandie"
        )
    if kind == "campus":
        params["campus"] = sorted(str(r[0]) for r in network.run(synth_store, "map-campuses").rows)[0].rsplit(
            "/", 1
        )[-1]
    page = open_map(browser, synth_store, tmp_path, kind, f"synth-{kind}", **params)
    try:
        counts = page.page.evaluate(
            "({n: cmqMap.nodes.length, drawn: Object.keys(cmqMap.network.body.nodes).length})"
        )
        assert counts["n"] == counts["drawn"] > 0
        page.shot(f"synth-{kind}")
        page.assert_clean()
    finally:
        page.close()


def test_national_overview_opens_on_campuses_and_a_click_opens_members(
    browser, synth_store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maps, "CAMPUS_ONLY_LIMIT", 10)  # the synthetic graph stands for a national one
    page = open_map(browser, synth_store, tmp_path, "overview", "campus-only")
    try:
        p = page.page
        visible = "() => cmqMap.nodes.get().filter(n => !n.hidden).length"
        assert p.evaluate("cmqMap.campusOnly()") is True
        assert p.evaluate(visible) == 30  # the campuses only
        assert p.text_content("#cmq-counts").startswith("30 éléments")
        p.evaluate("cmqMap.select(0)")  # campuses sort first
        opened = p.evaluate(visible)
        degree = p.evaluate("cmqMap.network.getConnectedNodes(0).length")
        assert opened == 30 + degree and degree > 0
        # Only the opened campus's links are drawn, not its members' links to every other campus.
        assert p.evaluate("cmqMap.edges.length") == degree
        assert p.locator("#cmq-details h2").count() == 1
        # Unticking the box shows everything.
        p.uncheck("#cmq-campus-only")
        total = p.evaluate("JSON.parse(document.getElementById('cmq-data').textContent).nodes.length")
        assert p.evaluate(visible) == p.evaluate("cmqMap.nodes.length") == total
        edges_total = p.evaluate("JSON.parse(document.getElementById('cmq-data').textContent).edges.length")
        assert p.evaluate("cmqMap.edges.length") == edges_total
        assert p.text_content("#cmq-counts").startswith(f"{total} éléments")
        # Ticking it again closes every member.
        p.check("#cmq-campus-only")
        assert p.evaluate(visible) == 30
        page.shot("synth-campus-only")
        page.assert_clean()
    finally:
        page.close()
