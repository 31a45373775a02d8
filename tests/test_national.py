"""The national graph (issue 10) on the project's own data: what ``data/*.csv`` states about
France's campuses, read back through SPARQL and the catalogue.

Every expectation is worked out from the CSV tables by a few lines of Python (the oracle), never
from the queries' own output, so data and queries that drift apart fail here.
"""

from __future__ import annotations

import csv
from collections import defaultdict

from cmq_graph import api, paths
from cmq_graph.namespaces import ID, compact
from cmq_graph.store import EmbeddedStore

PROJECT_STAGES = {"projet", "candidature", "pre-labellise"}


def table(name: str) -> list[dict[str, str]]:
    with open(paths.DATA_DIR / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _select(store: EmbeddedStore, sparql: str) -> list[tuple[str, ...]]:
    return [tuple(compact(str(t)) for t in row) for row in store.query(sparql).rows]


def _labelled() -> set[str]:
    """Campuses a source says are labelled: a labelling row, or the stage a source gives."""
    by_labelling = {r["campus"] for r in table("labellings") if r["label"] == "cmq"}
    by_stage = {r["id"] for r in table("campuses") if r.get("stage") == "labellise"}
    return by_labelling | by_stage


def test_the_sources_attest_at_least_85_labelled_campuses(store: EmbeddedStore) -> None:
    labelled = _labelled()
    assert len(labelled) >= 85
    rows = _select(
        store,
        """SELECT DISTINCT ?c WHERE {
             { ?l cmq:labelledCampus ?c ; cmq:label <%s> }
             UNION { ?c cmq:stage <https://w3id.org/cmq/vocab/campus-stage/labellise> } }"""
        % (ID + "label/cmq"),
    )
    assert {r[0] for r in rows} == {f"id:campus/{c}" for c in labelled}


def test_campuses_are_counted_once_whatever_the_number_of_sources(store: EmbeddedStore) -> None:
    ids = {r["id"] for r in table("campuses")}
    assert len(table("campuses")) > len(ids)  # several sources state the same campuses
    (n,) = _select(store, "SELECT (COUNT(*) AS ?n) WHERE { ?c a cmq:Campus }")[0]
    assert int(n) == len(ids)


def test_every_campus_is_found_from_each_region_its_sources_name(store: EmbeddedStore) -> None:
    stated: dict[str, set[str]] = defaultdict(set)
    for row in table("campuses"):
        for territory in filter(None, row["territories"].split("|")):
            if territory.startswith("region-"):
                stated[row["id"]].add(f"id:territory/{territory}")
    assert len(stated) >= 80
    found: dict[str, set[str]] = defaultdict(set)
    for row in api.run(store, "campuses-by-territory").dicts():
        if compact(str(row["kind"])) == "cmq:Region":
            found[compact(str(row["campus"])).removeprefix("id:campus/")].add(compact(str(row["recorded"])))
    missing = {c: regions - found[c] for c, regions in stated.items() if not regions <= found[c]}
    assert missing == {}


def test_projects_are_campuses_with_their_stage_not_labelled_by_it(store: EmbeddedStore) -> None:
    projects = {r["id"] for r in table("campuses") if r.get("stage") in PROJECT_STAGES}
    assert projects
    rows = _select(
        store,
        """SELECT DISTINCT ?c ?stage WHERE { ?c a cmq:Campus ; cmq:stage ?stage }""",
    )
    staged = {(c.removeprefix("id:campus/"), s.rsplit("/", 1)[-1]) for c, s in rows}
    assert {c for c, s in staged if s in PROJECT_STAGES} == projects


def test_stats_show_the_campuses_by_region(store_root, capsys) -> None:
    from cmq_graph.cli import main

    assert main(["stats", "--store", str(store_root)]) == 0
    out = capsys.readouterr().out
    per_region: dict[str, set[str]] = defaultdict(set)
    for row in table("campuses"):
        for territory in filter(None, row["territories"].split("|")):
            if territory.startswith("region-"):
                per_region[territory].add(row["id"])
    # Occitanie (76) and Auvergne-Rhône-Alpes (84) are named by their sources for many campuses.
    for code in ("region-76", "region-84"):
        line = next(ln for ln in out.splitlines() if ln.rstrip().endswith(f"id:territory/{code}"))
        assert int(line.split()[0]) >= len(per_region[code])
