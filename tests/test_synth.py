"""The synthetic generator: reproducible, in the curated format, valid against the project's
ontology, with the identifier formats and the skewed popularity it promises, and kept apart."""

from __future__ import annotations

import csv
import re
import statistics
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from cmq_graph import paths
from cmq_graph.build import build
from cmq_graph.cli import main
from cmq_graph.namespaces import ID, source_iri
from cmq_graph.store import EmbeddedStore
from cmq_graph.synth import (
    ACADEMIES,
    PREFIX,
    SOURCE_ID,
    RefusedTarget,
    SynthConfig,
    campuses_for_triples,
    luhn_valid,
    uai_prefix,
    write,
)
from cmq_graph.tables import BY_NAME, SIREN, SIRET, UAI

SMALL = SynthConfig(campuses=4, schools_per_campus=5, partners_per_campus=12, seed=7)


def _rows(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth-small")
    write(out, SMALL)
    return out


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About a hundred campuses: enough for popularity to show its shape."""
    out = tmp_path_factory.mktemp("synth-national")
    write(out, SynthConfig(campuses=100, seed=3))
    return out


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path, small: Path) -> None:
    again = tmp_path / "again"
    write(again, SMALL)
    files = sorted(p.name for p in small.glob("*.csv"))
    assert files == sorted(p.name for p in again.glob("*.csv"))
    for name in files:
        assert (small / name).read_bytes() == (again / name).read_bytes(), name
    other = tmp_path / "other"
    write(other, SynthConfig(campuses=4, schools_per_campus=5, partners_per_campus=12, seed=8))
    assert (other / "organisations.csv").read_bytes() != (small / "organisations.csv").read_bytes()


def test_headers_are_exactly_the_tables_contract(small: Path) -> None:
    for path in small.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert header == BY_NAME[path.stem].header, path.name


def test_builds_and_validates_with_the_project_ontology(small: Path, tmp_path: Path) -> None:
    report = build(small, paths.ONTOLOGY_DIR, tmp_path / "store", say=lambda _m: None)
    assert "validate" in report.stages
    assert report.rows["campuses"] == SMALL.campuses
    with EmbeddedStore.open(tmp_path / "store") as store:
        graphs = {
            str(row[0])
            for row in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s a org:Membership } }").rows
        }
        assert graphs == {source_iri(SOURCE_ID)}
        subjects = store.query(
            "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?s), STR(id:))) }"
        ).rows
    # Its own IRI space: every entity it mints is .../id/{kind}/synth-... (the source, `synthetic`).
    for (s,) in subjects:
        # The source, and its publisher's agent (minted from the publisher's name, as for any source).
        if str(s) == source_iri(SOURCE_ID) or str(s).startswith(f"{ID}agent/"):
            continue
        kind_and_key = str(s)[len(ID) :]
        assert kind_and_key.split("/", 1)[1].startswith(PREFIX), s


def test_the_source_says_it_is_synthetic(small: Path) -> None:
    (source,) = _rows(small, "sources")
    assert source["id"] == SOURCE_ID
    assert "synthétique" in source["title"].lower()
    for table in ("organisations", "campuses", "memberships", "labellings", "territories"):
        assert {r["source"] for r in _rows(small, table)} == {SOURCE_ID}


def test_identifier_formats(national: Path) -> None:
    territories = {r["id"]: r for r in _rows(national, "territories")}
    schools = sirens = 0
    for org in _rows(national, "organisations"):
        if org["uai"]:
            schools += 1
            assert UAI.match(org["uai"])
            commune = territories[org["location"]]
            dept = territories[commune["within"]]["insee_code"]
            assert org["uai"][:3] == uai_prefix(dept)
            if dept.isdigit() and len(dept) == 2:
                assert org["uai"][1:3] == dept  # the département in characters 2–3
            # A school belongs to the académie of its département.
            (academie,) = org["territories"].split("|")
            assert territories[academie]["kind"] == "academie"
            assert academie in territories[commune["within"]]["within"].split("|")
        if org["siren"]:
            sirens += 1
            assert SIREN.match(org["siren"]) and luhn_valid(org["siren"])
        if org["siret"]:
            assert SIRET.match(org["siret"]) and luhn_valid(org["siret"])
            assert org["siret"].startswith(org["siren"])
    assert schools > 300 and sirens > 1000
    uais = [o["uai"] for o in _rows(national, "organisations") if o["uai"]]
    assert len(uais) == len(set(uais))


def test_dates_and_roles(national: Path) -> None:
    years = [int(r["date"][:4]) for r in _rows(national, "labellings")]
    assert min(years) >= 2013 and max(years) <= 2025
    assert len(set(years)) >= 8
    roles = Counter(r["role"] for r in _rows(national, "memberships"))
    assert {"pilote", "partenaire", "membre", "etablissement-support"} <= set(roles)
    date = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")
    for m in _rows(national, "memberships"):
        assert date.match(m["start"])
        assert not m["end"] or m["end"] > m["start"]


def test_partner_popularity_is_skewed(national: Path) -> None:
    campuses_of: dict[str, set[str]] = {}
    for m in _rows(national, "memberships"):
        if m["role"] != "pilote":
            campuses_of.setdefault(m["member"], set()).add(m["organisation"])
    counts = sorted((len(c) for c in campuses_of.values()), reverse=True)
    n_campuses = len(_rows(national, "campuses"))
    # A few national players sit in most campuses; the typical organisation in one.
    assert counts[0] >= 0.5 * n_campuses
    assert statistics.median(counts) == 1
    assert sum(1 for c in counts if c >= 0.2 * n_campuses) <= 0.02 * len(counts)


def test_schools_are_tied_to_one_academie(national: Path) -> None:
    campus_academie = {
        c["id"]: next(t for t in c["territories"].split("|") if "academie" in t)
        for c in _rows(national, "campuses")
    }
    school_academie = {o["id"]: o["territories"] for o in _rows(national, "organisations") if o["uai"]}
    for m in _rows(national, "memberships"):
        if m["member"] in school_academie:
            assert school_academie[m["member"]] == campus_academie[m["organisation"]]


def test_triples_per_campus_is_as_documented(tmp_path: Path) -> None:
    out = tmp_path / "data"
    cfg = SynthConfig(campuses=campuses_for_triples(20_000), seed=5)
    write(out, cfg)
    report = build(out, paths.ONTOLOGY_DIR, tmp_path / "store", validate=False, say=lambda _m: None)
    assert 0.75 * 20_000 <= report.triples <= 1.25 * 20_000


def test_refuses_the_project_data_folder() -> None:
    with pytest.raises(RefusedTarget):
        write(paths.DATA_DIR, SMALL)
    with pytest.raises(RefusedTarget):
        write(paths.DATA_DIR / "sub", SMALL)
    assert main(["synth", "--out", str(paths.DATA_DIR), "--campuses", "1"]) != 0
    assert not any(p.name == "SYNTHETIC.md" for p in paths.DATA_DIR.rglob("*"))


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--out", str(tmp_path), "--campuses", "2", "--seed", "4"]) == 0
    assert "campuses" in capsys.readouterr().out
    assert len(_rows(tmp_path, "campuses")) == 2
    assert set(ACADEMIES)  # the table of académies is importable for analysts


def test_iri_of_a_membership_is_in_the_synthetic_graph(small: Path, tmp_path: Path) -> None:
    build(small, paths.ONTOLOGY_DIR, tmp_path / "s", validate=False, say=lambda _m: None)
    with EmbeddedStore.open(tmp_path / "s") as store:
        q = store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(source_iri(SOURCE_ID)))
        assert next(iter(q), None) is not None
