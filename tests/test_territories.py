"""Territories on official codes: the Etalab script, and every campus placed in a région.

The script runs as a real process on a small package folder laid out like the npm package (same
file names and fields); the curated data is checked against the script's own reading of it.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from cmq_graph import api, paths
from cmq_graph.namespaces import ID
from cmq_graph.store import EmbeddedStore

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "territories.py"


def _script():
    spec = importlib.util.spec_from_file_location("territories_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


TERRITORIES = _script()


def _package(root: Path, version: str = TERRITORIES.VERSION) -> Path:
    pkg = root / "package"
    (pkg / "data").mkdir(parents=True)
    (pkg / "package.json").write_text(
        json.dumps({"name": TERRITORIES.PACKAGE, "version": version, "license": "MIT"})
    )
    regions = [
        {"code": "28", "nom": "Normandie", "zone": "metro"},
        {"code": "94", "nom": "Corse", "zone": "metro"},
        {"code": "987", "nom": "Polynésie française", "zone": "com"},
    ]
    departements = [
        {"code": "76", "region": "28", "nom": "Seine-Maritime", "zone": "metro"},
        {"code": "2A", "region": "94", "nom": "Corse-du-Sud", "zone": "metro"},
    ]
    communes = [
        {"code": "76259", "nom": "Fécamp", "departement": "76", "region": "28", "type": "commune-actuelle"},
        {"code": "76540", "nom": "Rouen", "departement": "76", "region": "28", "type": "commune-actuelle"},
        {"code": "2A004", "nom": "Ajaccio", "departement": "2A", "region": "94", "type": "commune-actuelle"},
        {
            "code": "98735",
            "nom": "Papeete",
            "departement": "987",
            "region": "987",
            "type": "commune-actuelle",
        },
        {
            "code": "76500",
            "nom": "Nouvelle",
            "departement": "76",
            "region": "28",
            "type": "commune-actuelle",
            "anciensCodes": ["76499"],
        },
    ]
    for name, rows in (("regions", regions), ("departements", departements), ("communes", communes)):
        (pkg / "data" / f"{name}.json").write_text(json.dumps(rows), encoding="utf-8")
    return pkg


def _data(root: Path, campus_cells: str) -> Path:
    data = root / "data"
    data.mkdir()
    (data / "territories.csv").write_text(
        ",".join(TERRITORIES.HEADER) + "\n"
        "region-23,insee-geo,region,Haute-Normandie,,23,,,,,,,2015-12-31,curated\n"
        "region-28,etalab-decoupage-administratif,region,Stale,,28,,,,,,,,old generated row\n",
        encoding="utf-8",
    )
    (data / "sources.csv").write_text(
        "id,title,publisher,url,locator,date_published,note\ninsee-geo,INSEE,INSEE,,,,\n", encoding="utf-8"
    )
    (data / "campuses.csv").write_text(f"id,source,name_fr,sites\nc1,insee-geo,Campus,{campus_cells}\n")
    return data


def _run(data: Path, pkg: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--data", str(data), "--package", str(pkg)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_script_writes_codes_within_and_insee_iris(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    data = _data(tmp_path, "commune-76259|commune-2a004|commune-98735")
    done = _run(data, pkg)
    assert done.returncode == 0, done.stderr
    rows = _rows(data / "territories.csv")
    assert rows[0]["id"] == "region-23" and rows[0]["note"] == "curated"  # curated row kept first
    generated = {r["id"]: r for r in rows if r["source"] == TERRITORIES.SOURCE_ID}
    assert sorted(generated) == [
        "collectivite-987",
        "commune-2a004",
        "commune-76259",
        "commune-98735",
        "departement-2a",
        "departement-76",
        "region-28",
        "region-94",
    ]  # Rouen is not referenced: not written; the stale row is replaced
    assert generated["region-28"]["name_fr"] == "Normandie"
    assert generated["region-28"]["insee_iri"] == "http://id.insee.fr/geo/region/28"
    assert generated["departement-76"]["within"] == "region-28"
    assert generated["departement-2a"]["insee_code"] == "2A"
    assert generated["commune-76259"]["within"] == "departement-76"
    assert generated["commune-76259"]["insee_iri"] == "http://id.insee.fr/geo/commune/76259"
    assert generated["commune-2a004"]["insee_iri"] == "http://id.insee.fr/geo/commune/2A004"
    assert generated["commune-98735"]["within"] == "collectivite-987"
    assert generated["collectivite-987"]["kind"] == "collectivite"
    sources = {r["id"]: r for r in _rows(data / "sources.csv")}
    assert "MIT" in sources[TERRITORIES.SOURCE_ID]["note"]
    assert TERRITORIES.VERSION in sources[TERRITORIES.SOURCE_ID]["title"]
    # A second run changes nothing.
    before = (data / "territories.csv").read_text(), (data / "sources.csv").read_text()
    assert _run(data, pkg).returncode == 0
    assert ((data / "territories.csv").read_text(), (data / "sources.csv").read_text()) == before


def test_script_names_the_cell_of_a_commune_that_does_not_exist(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    data = _data(tmp_path, "commune-76499")
    before = (data / "territories.csv").read_text()
    done = _run(data, pkg)
    assert done.returncode == 2
    assert "campuses.csv:2: commune-76499 is not a current commune" in done.stderr
    assert "it became commune-76500" in done.stderr
    assert (data / "territories.csv").read_text() == before  # nothing written


def test_script_refuses_another_version(tmp_path: Path) -> None:
    done = _run(_data(tmp_path, ""), _package(tmp_path, version="0.0.1"))
    assert done.returncode == 3 and "pins" in done.stderr


def test_curated_data_has_every_referenced_commune_from_the_package() -> None:
    """After adding a commune to data/, scripts/territories.py must be run again: this says so."""
    referenced = set(TERRITORIES.referenced_communes(paths.DATA_DIR))
    generated = {
        r["id"].removeprefix("commune-")
        for r in _rows(paths.DATA_DIR / "territories.csv")
        if r["source"] == TERRITORIES.SOURCE_ID and r["kind"] == "commune"
    }
    assert referenced and referenced == generated


def test_every_region_and_departement_is_there() -> None:
    rows = [r for r in _rows(paths.DATA_DIR / "territories.csv") if r["source"] == TERRITORIES.SOURCE_ID]
    kinds = [r["kind"] for r in rows]
    assert kinds.count("region") == 18 and kinds.count("departement") == 101


def test_every_campus_reaches_a_region_by_the_documented_path(store: EmbeddedStore) -> None:
    """The path of campuses-by-territory: (cmq:territory|schema:location)/geo:sfWithin*.

    Every campus a source places (a territory or a site in some row) reaches a région or an
    overseas collectivité by it; a campus no source places has no place (an unknown is absent).
    """
    rows = api.run(
        store,
        """SELECT ?campus (COUNT(DISTINCT ?region) AS ?n) WHERE {
          ?campus a cmq:Campus .
          OPTIONAL { ?campus (cmq:territory|schema:location)/geo:sfWithin* ?region .
                     ?region a ?k . VALUES ?k { cmq:Region cmq:OverseasCollectivity } }
        } GROUP BY ?campus""",
    ).rows
    campuses = _rows(paths.DATA_DIR / "campuses.csv")
    placed = {f"{ID}campus/{r['id']}" for r in campuses if r["territories"] or r["sites"]}
    assert rows
    assert {str(c) for c, n in rows if int(n) >= 1} == placed


def _academie_composition() -> dict[str, set[str]]:
    """The départements a source places in an académie (``within`` = academie-*), from the CSV."""
    composition: dict[str, set[str]] = {}
    for r in _rows(paths.DATA_DIR / "territories.csv"):
        if r["kind"] == "departement":
            for parent in filter(None, r["within"].split("|")):
                if parent.startswith("academie-"):
                    composition.setdefault(parent, set()).add(r["id"])
    return composition


def test_sourced_academies_reach_their_departements_and_campuses(store: EmbeddedStore) -> None:
    """Issue 10: every campus reaches its académie by the documented path.

    Oracle from territories.csv: the académies whose départements a source names. In the graph,
    each reaches exactly those départements (geo:sfWithin), and every campus that reaches one of
    them by (cmq:territory|schema:location)/geo:sfWithin* reaches the académie by the same path,
    including campuses whose own rows name no académie at all.
    """
    composition = _academie_composition()
    assert len(composition) >= 27  # 12 académies, then 15 more for issue 10
    pairs = api.run(
        store,
        """SELECT ?academie ?departement WHERE {
          ?departement a cmq:Departement ; geo:sfWithin ?academie . ?academie a cmq:Academie .
        }""",
    ).rows
    graph: dict[str, set[str]] = {}
    for academie, departement in pairs:
        graph.setdefault(str(academie).rsplit("/", 1)[1], set()).add(str(departement).rsplit("/", 1)[1])
    assert graph == composition
    reached = api.run(
        store,
        """SELECT DISTINCT ?campus ?territory WHERE {
          ?campus a cmq:Campus ; (cmq:territory|schema:location)/geo:sfWithin* ?territory .
          ?territory a ?k . VALUES ?k { cmq:Departement cmq:Academie }
        }""",
    ).rows
    places: dict[str, set[str]] = {}
    for campus, territory in reached:
        places.setdefault(str(campus), set()).add(str(territory).rsplit("/", 1)[1])
    campus_rows = _rows(paths.DATA_DIR / "campuses.csv")
    named = {f"{ID}campus/{r['id']}" for r in campus_rows if "academie-" in r["territories"]}
    through_a_departement = set()
    for campus, territories in places.items():
        for academie, departements in composition.items():
            if territories & departements:
                assert academie in territories, (campus, academie)
                if campus not in named:
                    through_a_departement.add(campus)
    assert through_a_departement  # the path, not the campus rows, places these in an académie


def test_former_ids_are_renamed_to_existing_ones(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("rename_ids", SCRIPT.parent / "rename_territory_ids.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text, n = module.rename("x,region-normandie|commune-fecamp,region-normandie-collectivite,academie-caen\n")
    assert (text, n) == ("x,region-28|commune-76259,region-normandie-collectivite,academie-caen\n", 2)
    ids = {r["id"] for r in _rows(paths.DATA_DIR / "territories.csv")}
    assert set(module.RENAMED.values()) <= ids
    assert not set(module.RENAMED) & ids
    csv_file = tmp_path / "campuses.csv"
    csv_file.write_text("id,source,territories\nc,s,region-basse-normandie\n", encoding="utf-8")
    assert module.main([str(csv_file)]) == 0
    assert csv_file.read_text(encoding="utf-8").endswith("c,s,region-25\n")
