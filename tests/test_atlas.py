"""The atlas's data and page without a browser: read through SPARQL, every campus accounted for.

The browser half (tests/test_atlas_browser.py) checks what Chromium draws and how it reacts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from cmq_graph import atlas, cli, maps, network, synth
from cmq_graph.build import build
from cmq_graph.errors import QueryError
from cmq_graph.store import EmbeddedStore, GraphStore

FIXTURE = Path(__file__).parent / "fixtures" / "network.trig"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>alert(2)</script>"


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    """A small synthetic national graph (30 campuses across France)."""
    root = tmp_path_factory.mktemp("synth")
    synth.write(root / "data", synth.SynthConfig(campuses=30))
    build(
        root / "data",
        Path(__file__).resolve().parent.parent / "ontology",
        root / "store",
        say=lambda _m: None,
    )
    return EmbeddedStore.open(root / "store", in_memory=True)


def page_json(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="atlas-data">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def campus_iris(store: GraphStore) -> set[str]:
    return {str(r[0]) for r in network.run(store, "map-campuses").rows}


def placed_iris(store: GraphStore) -> set[str]:
    return {str(r[0]) for r in network.run(store, "map-campus-places").rows}


def test_atlas_of_the_curated_data_has_every_campus_and_says_which_have_no_place(
    store: EmbeddedStore,
) -> None:
    made = atlas.build_atlas(store, today="2026-01-01")
    campuses = {c["iri"]: c for c in made.data["campuses"]}
    assert set(campuses) == campus_iris(store)
    placed = placed_iris(store)
    for iri, c in campuses.items():
        assert bool(c["regions"] or c["departements"] or c["academies"]) == (iri in placed), iri
    assert atlas.summary(made)["placés"] == sum(
        1 for c in campuses.values() if c["regions"] or c["departements"]
    )
    # Régions drawn are matched by INSEE code; Normandie is 28 whatever its id.
    normandie = [r for r in made.data["regions"] if r["label"] == "Normandie"]
    assert normandie and normandie[0]["code"] == "28"
    # Labellings carry their source, and their end from the label's duration.
    dated = [lab for c in campuses.values() for lab in c["labels"] if lab["date"]]
    assert dated and all(lab["src"] is not None for lab in dated)
    assert any(lab["end"] and lab["end"][:4] > lab["date"][:4] for lab in dated)


def test_atlas_of_a_synthetic_national_graph_places_every_campus(synth_store: EmbeddedStore) -> None:
    made = atlas.build_atlas(synth_store)
    assert len(made.data["campuses"]) == 30
    geo_regions = {d["region"] for d in made.data["geo"]["departements"]} | {
        o["region"] for o in made.data["overseas"]
    }
    for c in made.data["campuses"]:
        codes = {made.data["regions"][r]["code"] for r in c["regions"]}
        assert codes & geo_regions, c["name"]
        assert c["labels"] and c["members"] and c["src"]
    # Départements are known in the synthetic graph, and each maps to an outline.
    geo_deps = {d["code"] for d in made.data["geo"]["departements"]} | {
        o["departement"] for o in made.data["overseas"]
    }
    deps = {made.data["departements"][d]["code"] for c in made.data["campuses"] for d in c["departements"]}
    assert deps and deps <= geo_deps


def test_geography_is_the_vendored_package_with_its_licence() -> None:
    geo = atlas.geography()
    assert len(geo["departements"]) == 96
    assert {d["code"] for d in geo["departements"]} >= {"01", "2A", "2B", "76", "95"}
    # Régions grouped by INSEE code: the 13 metropolitan régions.
    assert len({d["region"] for d in geo["departements"]}) == 13
    assert {d["code"] for d in geo["departements"] if d["region"] == "28"} == {"14", "27", "50", "61", "76"}
    licence = (atlas.ASSETS / "france-departements.LICENSE.md").read_text(encoding="utf-8")
    assert "Attribution 4.0 International" in licence
    assert "CC-BY-4.0" in atlas.ATTRIBUTION


def test_atlas_page_is_offline_and_hostile_labels_are_inert(tmp_path: Path) -> None:
    store = EmbeddedStore.from_quads(ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG))
    html = atlas.render_html(atlas.build_atlas(store))
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html.replace("&#39;", "'"))
    assert csp and "default-src 'none'" in csp.group(1) and "connect-src 'none'" in csp.group(1)
    # No tag loads anything: no src, no stylesheet link, no URL in styles.
    assert not re.search(r"<(img|iframe|link|object|embed)\b", html, re.I)
    assert not re.search(r"<script[^>]*\bsrc=", html, re.I)
    assert html.count("</script>") == 2
    data = page_json(html)
    names = {c["name"] for c in data["campuses"]}
    assert {"Campus Un", "Campus Deux"} <= names
    assert XSS_IMG not in html and XSS_SCRIPT not in html  # escaped in the JSON


def test_atlas_command_writes_the_page_and_refuses_other_formats(
    store_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "atlas.html"
    assert cli.main(["map", "atlas", "-o", str(out), "--store", str(store_root)]) == 0
    assert "Atlas des campus" in capsys.readouterr().out
    assert page_json(out.read_text(encoding="utf-8"))["campuses"]
    code = cli.main(["map", "atlas", "-o", str(tmp_path / "atlas.png"), "--store", str(store_root)])
    assert code == QueryError.exit_code
    assert "l'atlas est une page .html" in capsys.readouterr().err


def _territory(store: GraphStore, kind: str, name: str) -> dict:
    return next(t for t in maps.territories(store) if t["type"] == kind and t.get("name") == name)


@pytest.mark.parametrize(
    ("kind", "name", "option"),
    [
        ("région", "Normandie", "region"),
        ("académie", "Académie de Normandie", "academie"),
        ("académie", "Académie de Caen", "academie"),
    ],
)
def test_normandy_maps_account_for_every_normandy_campus(
    normandy_store: EmbeddedStore, kind: str, name: str, option: str
) -> None:
    """Every campus of the Normandy slice is in Normandy: each is drawn, or listed as having no
    known place."""
    store = normandy_store
    territory = _territory(store, kind, name)
    model = maps.build_map(store, "territory", **{option: territory["id"]})
    drawn = {
        model.graph.nodes[v]["label"] for v in model.graph if model.graph.nodes[v].get("category") == "campus"
    }
    details = network.fetch_details(store)
    everyone = {details.label(c) for c in campus_iris(store)}
    assert drawn | set(model.extras["unplaced"]) == everyone
    placed = {details.label(c) for c in placed_iris(store)}
    if kind == "région":
        assert placed <= drawn  # every campus with a known place in Normandy is drawn
    else:
        # An académie map draws the campuses known to lie in that académie; a campus placed only
        # by a commune whose département no source puts in an académie is listed, not drawn.
        assert drawn <= placed
