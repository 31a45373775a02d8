"""Map pages and pictures, without a browser: self-contained, hostile labels inert, counts right.

The browser half (tests/test_maps_browser.py) checks what Chromium actually draws and runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest

from cmq_graph import cli, maps, network
from cmq_graph.errors import QueryError
from cmq_graph.store import EmbeddedStore, activate, write_generation

FIXTURE = Path(__file__).parent / "fixtures" / "network.trig"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>alert(2)</script>"
CASES = [
    ("overview", {}),
    ("campus", {"campus": "c3"}),
    ("shared-partners", {}),
    ("territory", {"region": "region-28"}),
    ("territory", {"academie": "academie-rouen"}),
    ("governance", {}),
]


@pytest.fixture(scope="module")
def fixture_store() -> EmbeddedStore:
    return EmbeddedStore.from_quads(ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG))


class _Page(HTMLParser):
    """Collects what a page would load or run: tags with src/href, scripts and their text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._text)))
            self._in_script = None


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def overview_html(fixture_store: EmbeddedStore) -> str:
    return maps.render_html(maps.build_map(fixture_store, "overview"))


def test_page_loads_nothing_from_outside(overview_html: str) -> None:
    page = _parse(overview_html)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"link", "img", "iframe", "object", "embed", "base", "form"}
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        assert not (attrs.get("href") or "").startswith(("http", "//")), tag
    assert "bootstrap" not in overview_html.lower()
    assert not re.search(r"url\(\s*['\"]?(?!['\"]?data:)", overview_html.split("<style>", 1)[1])


def test_content_security_policy_allows_exactly_the_page_scripts(overview_html: str) -> None:
    page = _parse(overview_html)
    csp = next(
        a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    allowed = set(re.findall(r"'sha256-([^']+)'", csp))
    executable = [text for attrs, text in page.scripts if attrs.get("type") != "application/json"]
    assert len(executable) == 2
    for text in executable:
        assert base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() in allowed


def test_hostile_labels_stay_inside_the_json(overview_html: str) -> None:
    page = _parse(overview_html)
    assert len(page.scripts) == 3  # the data, vis-network, the viewer: nothing injected
    for bad in (XSS_IMG, XSS_SCRIPT, "<!--", "\u2028"):
        assert bad not in overview_html
    data = json.loads(next(text for attrs, text in page.scripts if attrs.get("id") == "cmq-data"))
    labels = {n["label"] for n in data["nodes"]}
    assert {XSS_IMG, XSS_SCRIPT, "Lycée \u2028U &amp; <!-- fils -->"} <= labels
    assert "Site du rectorat <b>B</b>" in {s["title"] for s in data["sources"]}


def test_script_json_escapes() -> None:
    text = maps.script_json({"a": "</script>&<!--\u2028\u2029"})
    assert text == '{"a":"\\u003c/script\\u003e\\u0026\\u003c!--\\u2028\\u2029"}'
    assert json.loads(text) == {"a": "</script>&<!--\u2028\u2029"}


@pytest.mark.parametrize(("kind", "params"), CASES)
def test_page_data_matches_the_graph(fixture_store: EmbeddedStore, kind: str, params: dict) -> None:
    model = maps.build_map(fixture_store, kind, **params)
    data = maps.page_data(model)
    g = model.graph
    assert len(data["nodes"]) == g.number_of_nodes()
    assert len(data["edges"]) == g.number_of_edges()
    assert {n["iri"] for n in data["nodes"]} == set(g.nodes)
    drawn = {
        frozenset((data["nodes"][e["from"]]["iri"], data["nodes"][e["to"]]["iri"])) for e in data["edges"]
    }
    assert drawn == {frozenset(e) for e in g.edges}
    # Every node has a position and a kind in the legend.
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in data["nodes"])
    assert all(0 <= k < len(data["kinds"]) for n in data["nodes"] for k in n["kinds"])


def test_tooltip_data_has_kind_identifiers_dates_sources(fixture_store: EmbeddedStore) -> None:
    data = maps.page_data(maps.build_map(fixture_store, "overview"))
    by_label = {n["label"]: n for n in data["nodes"]}
    pont = by_label["Entreprise Pont"]
    assert data["kinds"][pont["kinds"][0]]["label"] == "entreprise"
    siren = next(pair for pair in pont["ids"] if pair[0] == "SIREN")
    assert siren[1] == "123456789"
    # Each value names the sources that state it.
    [(value, stated_by)] = siren[2]
    assert value == "123456789" and stated_by and all(0 <= i < len(data["sources"]) for i in stated_by)
    assert sorted(data["sources"][i]["title"] for i in pont["src"]) == [
        "Arrêté du 1er janvier (source A)",
        "Site du rectorat <b>B</b>",
    ]
    assert ["Labellisation", "2015-03"] in [pair[:2] for pair in by_label["Campus Un"]["dates"]]
    edge = next(
        e
        for e in data["edges"]
        if data["nodes"][e["from"]]["label"] == "Entreprise Pont"
        and data["nodes"][e["to"]]["label"] == "Campus Un"
    )
    assert edge["rel"] == ["membre"] and ["Début", "2016"] in edge["dates"]
    assert len(edge["src"]) == 2  # the membership is stated by both sources


def test_english_map(fixture_store: EmbeddedStore) -> None:
    model = maps.build_map(fixture_store, "overview", lang="en")
    data = maps.page_data(model)
    assert model.title.startswith("The Campus")
    assert "Campus One" in {n["label"] for n in data["nodes"]}
    assert "company" in {k["label"] for k in data["kinds"]}
    assert data["text"]["searchLabel"] == "Search"


def test_territory_map_places_known_coordinates_north_up(fixture_store: EmbeddedStore) -> None:
    model = maps.build_map(fixture_store, "territory", region="region-28")
    pos = model.positions
    p = "https://w3id.org/cmq/id/organisation/p"  # 1.10 E, 49.44 N
    s = "https://w3id.org/cmq/id/organisation/s"  # 0.10 E, 49.49 N (its site)
    assert pos[p][0] > pos[s][0]  # east is right
    assert pos[p][1] > pos[s][1]  # further south is lower (screen y grows down)


def test_layout_is_seeded(fixture_store: EmbeddedStore) -> None:
    a = maps.build_map(fixture_store, "overview").positions
    b = maps.build_map(fixture_store, "overview").positions
    assert a == b


def test_size_by_betweenness(fixture_store: EmbeddedStore) -> None:
    model = maps.build_map(fixture_store, "overview", size_by="betweenness")
    sizes = model.sizes
    assert max(sizes, key=sizes.get) == "https://w3id.org/cmq/id/organisation/p"
    assert sizes["https://w3id.org/cmq/id/organisation/s"] == 8.0


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        # In French, and saying what exists.
        ("campus", {"campus": "nope"}, "aucun campus de ce nom.*campus connus : c1, c2"),
        ("campus", {}, "demande --campus"),
        ("territory", {}, "un seul territoire"),
        ("territory", {"region": "region-28", "academie": "academie-rouen"}, "un seul territoire"),
        ("territory", {"region": "region-99"}, "n'existe pas.*régions connues : .*region-28"),
        ("territory", {"academie": "region-28"}, "n'existe pas.*académies connues"),
        ("campus", {"campus": "https://w3id.org/cmq/id/organisation/p"}, "aucun campus de ce nom"),
    ],
)
def test_bad_parameters_are_explained(
    fixture_store: EmbeddedStore, kind: str, params: dict, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        maps.build_map(fixture_store, kind, **params)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_static_pictures(fixture_store: EmbeddedStore, tmp_path: Path, suffix: str) -> None:
    model = maps.build_map(fixture_store, "overview")
    path = maps.render_static(model, tmp_path / f"map{suffix}")
    content = path.read_bytes()
    if suffix == ".png":
        assert content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 10_000
    else:
        root = ET.fromstring(content)
        assert root.tag.endswith("svg")
        assert b"<img" not in content and b"<script" not in content


@pytest.fixture(scope="module")
def fixture_store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("maps-store")
    activate(root, write_generation(root, ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG)))
    return root


def test_map_command_writes_html_and_pictures(
    fixture_store_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "normandie.html"
    argv = ["map", "territory", "--region", "region-28", "-o", str(out), "--png", "--svg"]
    assert cli.main([*argv, "--store", str(fixture_store_root)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert out.with_suffix(".png").exists() and out.with_suffix(".svg").exists()
    assert "Normandie : campus et membres : 5 nœuds, 5 liens" in capsys.readouterr().out


def test_map_command_reports_an_unknown_campus(
    fixture_store_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        [
            "map",
            "campus",
            "--campus",
            "nope",
            "-o",
            str(tmp_path / "x.html"),
            "--store",
            str(fixture_store_root),
        ]
    )
    assert code == QueryError.exit_code
    assert "aucun campus de ce nom" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_every_map_of_the_curated_data(store: EmbeddedStore) -> None:
    """The real graph: every kind of map builds, with as many nodes as its query says."""
    details = network.fetch_details(store)
    campuses = sorted(str(r[0]) for r in network.run(store, "map-campuses").rows)
    members = Counter(str(r[1]) for r in network.run(store, "map-overview").rows)
    campuses.sort(key=lambda c: (-members[c], c))
    assert campuses, "the curated data has campuses"
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
        model = maps.build_map(store, kind, details=details, **params)
        assert model.graph.number_of_nodes() > 0, kind
        html = maps.render_html(model)
        assert len(html) < 5_000_000
