"""The coverage question on a small fixture (tests/fixtures/coverage/data): published counts
against the campuses the graph holds, national and by région, with conflicting figures kept.

Worked out by hand from the fixture: c1 sited in Fécamp (commune → département 76 → région 28),
labelled 2014-02; c2 in région 11, labelled 2015-06 (source s2); c3 in région 11, undated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmq_graph import api, paths
from cmq_graph.build import build
from cmq_graph.namespaces import compact
from cmq_graph.store import EmbeddedStore

FIXTURE = Path(__file__).parent / "fixtures" / "coverage" / "data"


@pytest.fixture(scope="module")
def coverage_store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    root = tmp_path_factory.mktemp("coverage-store")
    build(FIXTURE, paths.ONTOLOGY_DIR, root, say=lambda _m: None)
    return EmbeddedStore.open(root)


def _rows(store: EmbeddedStore) -> list[tuple[str, ...]]:
    result = api.run(store, "coverage")
    return [tuple("" if t is None else compact(str(t)) for t in row) for row in result.rows]


def test_counts_against_the_graph(coverage_store: EmbeddedStore) -> None:
    cmq, idf = "id:label/cmq", "id:territory/region-11"
    rows = _rows(coverage_store)
    counted = {r for r in rows if r[10]}
    assert counted == {
        # France 2015, 10 stated: c1 (2014-02) and c2 (2015-06) by then; c3 undated.
        ("", "2015", cmq, "", "10", "", "", "2", "", "1", "id:count/france-2015", "id:source/s1"),
        # Île-de-France 2015: two sources disagree (4; 3 of which 2 new), both kept. c2 is in the
        # graph and labelled in 2015 (new); c3 is there, undated.
        (idf, "2015", cmq, "", "4", "", "", "1", "", "1", "id:count/idf-2015", "id:source/s1"),
        (idf, "2015", cmq, "", "3", "2", "", "1", "1", "1", "id:count/idf-2015", "id:source/s2"),
    }
    held = {(r[0], r[1], r[7]) for r in rows if not r[10]}
    assert held == {
        ("", "", "1"),
        ("", "2014", "1"),
        ("", "2015", "1"),
        (idf, "", "1"),
        (idf, "2015", "1"),
        ("id:territory/region-28", "2014", "1"),  # reached from the commune where c1 is sited
    }


def test_a_region_without_count_still_shows(coverage_store: EmbeddedStore) -> None:
    rows = _rows(coverage_store)
    normandie = [r for r in rows if r[0] == "id:territory/region-28"]
    assert normandie and all(r[10] == "" and r[4] == "" for r in normandie)


def test_stats_show_campuses_by_region(coverage_store: EmbeddedStore) -> None:
    from cmq_graph.stats import format_stats, stats

    s = stats(coverage_store)
    assert [(compact(r or ""), name, n) for r, name, n in s.regions] == [
        ("id:territory/region-11", "Île-de-France", 2),
        ("id:territory/region-28", "Normandie", 1),
    ]
    assert "Campuses by région" in format_stats(s)


def test_stats_list_each_graph_once(coverage_store: EmbeddedStore) -> None:
    """A graph titled in two languages (the ontology, the metadata) is one graph, counted once."""
    from cmq_graph.stats import stats

    s = stats(coverage_store)
    names = [g for g, _title, _n in s.graphs]
    assert len(names) == len(set(names))
    assert sum(n for _g, _t, n in s.graphs) == s.quads
    titles = {g: t for g, t, _n in s.graphs}
    assert titles["https://w3id.org/cmq/def"] == "Ontologie des campus des métiers et des qualifications"
