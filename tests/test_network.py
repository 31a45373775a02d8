"""Network analysis on a hand-made graph whose every figure is worked out on paper.

The fixture (tests/fixtures/network.trig), campuses c1…c4 and members p, q, s, t, u::

    s ── c1 ── p ── c3 ── t          c4 ── u
          │     │
          q ── c2 (q and p are both members of c1 and c2)

Betweenness, by hand, of the 7-node component (pairs whose shortest paths cross a node; a pair
with two shortest paths gives each path's inner nodes one half):

* p: s–c2 ½, s–c3 1, s–t 1, c1–c2 ½, c1–c3 1, c1–t 1, q–c3 1, q–t 1, c2–c3 1, c2–t 1 → 9
* c1: s to each of p, q, c2, c3, t → 5, plus p–q ½, q–c3 ½, q–t ½ → 6.5
* c3: t to each of p, c1, c2, q, s → 5
* c2: p–q ½, q–c3 ½, q–t ½ → 1.5
* q: s–c2 ½, c1–c2 ½ → 1
* s, t, u, c4: 0

networkx normalises undirected betweenness by 2 / ((n-1)(n-2)) with n = 9 nodes: 1/28.
"""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from pathlib import Path

import pyoxigraph as ox
import pytest

from cmq_graph import cli, network
from cmq_graph.store import EmbeddedStore

FIXTURE = Path(__file__).parent / "fixtures" / "network.trig"
ID = "https://w3id.org/cmq/id/"
C1, C2, C3, C4 = (f"{ID}campus/c{i}" for i in range(1, 5))
P, Q, S, T, U = (f"{ID}organisation/{x}" for x in "pqstu")


@pytest.fixture(scope="module")
def fixture_store() -> EmbeddedStore:
    return EmbeddedStore.from_quads(ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG))


@pytest.fixture(scope="module")
def graph(fixture_store: EmbeddedStore):
    return network.membership_graph(fixture_store)


def test_membership_graph_has_one_edge_per_pair(graph) -> None:
    assert set(graph.nodes) == {C1, C2, C3, C4, P, Q, S, T, U}
    assert {frozenset(e) for e in graph.edges} == {
        frozenset(e) for e in [(P, C1), (P, C2), (P, C3), (Q, C1), (Q, C2), (S, C1), (T, C3), (U, C4)]
    }
    # q is member of c1 twice (pilote and partenaire): one edge with both roles.
    assert graph.edges[Q, C1]["relations"] == {
        "https://w3id.org/cmq/vocab/role/pilote",
        "https://w3id.org/cmq/vocab/role/partenaire",
    }
    assert graph.edges[Q, C1]["relation_labels"] == ["partenaire", "pilote"]
    assert graph.edges[Q, C1]["origin"] == Q


def test_nodes_carry_kind_sources_identifiers_and_places(graph) -> None:
    p = graph.nodes[P]
    assert p["label"] == "Entreprise Pont"
    assert p["category"] == "partner"
    assert p["kind"] == "https://w3id.org/cmq/vocab/partner-kind/entreprise"
    assert p["properties"][f"{network.CMQ}siren"] == ["123456789"]
    assert set(p["sources"]) == {f"{ID}source/src-a", f"{ID}source/src-b"}
    assert p["point"] == (1.10, 49.44)
    # p has no sector or région of its own: it takes those of its three campuses.
    assert p["sectors"] == [
        "https://w3id.org/cmq/vocab/sector/numerique",
        "https://w3id.org/cmq/vocab/sector/transports",
    ]
    assert p["regions"] == [f"{ID}territory/region-11", f"{ID}territory/region-28"]
    assert graph.nodes[Q]["category"] == "school"
    assert graph.nodes[C1]["category"] == "campus"
    # c1's territory is the académie de Rouen, within Normandie.
    assert graph.nodes[C1]["regions"] == [f"{ID}territory/region-28"]
    assert graph.nodes[C1]["properties"][f"{network.CMQ}labellingDate"] == ["2015-03"]
    # s sits at its site's coordinates.
    assert graph.nodes[S]["point"] == (0.10, 49.49)


def test_labels_in_english_fall_back_to_french(fixture_store: EmbeddedStore) -> None:
    g = network.membership_graph(fixture_store, lang="en")
    assert g.nodes[C1]["label"] == "Campus One"
    assert g.nodes[C2]["label"] == "Campus Deux"
    assert g.nodes[P]["label"] == "Bridge Company"


def test_degree_centrality(graph) -> None:
    scores = {s.iri: s for s in network.centrality(graph)}
    expected_degree = {C1: 3, C2: 2, C3: 2, C4: 1, P: 3, Q: 2, S: 1, T: 1, U: 1}
    assert {n: s.degree for n, s in scores.items()} == expected_degree
    for node, degree in expected_degree.items():
        assert scores[node].degree_centrality == pytest.approx(degree / 8)


def test_betweenness_worked_out_by_hand(graph) -> None:
    scores = {s.iri: s.betweenness for s in network.centrality(graph)}
    expected = {
        P: Fraction(9, 28),
        C1: Fraction(13, 56),
        C3: Fraction(5, 28),
        C2: Fraction(3, 56),
        Q: Fraction(1, 28),
        S: 0,
        T: 0,
        U: 0,
        C4: 0,
    }
    for node, value in expected.items():
        assert scores[node] == pytest.approx(float(value)), node
    order = [s.iri for s in network.centrality(graph)][:5]
    assert order == [P, C1, C3, C2, Q]


def test_bridges_are_members_of_several_campuses(graph) -> None:
    found = network.bridges(graph)
    assert [(b.iri, b.campuses) for b in found] == [(P, 3), (Q, 2)]
    assert found[0].campus_labels == ["Campus Deux", "Campus Trois", "Campus Un"]
    assert found[0].betweenness == pytest.approx(9 / 28)


def test_components_largest_first(graph) -> None:
    assert network.components(graph) == [sorted([C1, C2, C3, P, Q, S, T]), sorted([C4, U])]


def test_communities_partition_the_graph_and_are_seeded(graph) -> None:
    first = network.communities(graph, seed=7)
    again = network.communities(graph, seed=7)
    assert first == again
    members = [set(c.campuses) | set(c.members) for c in first]
    labels = [graph.nodes[n]["label"] for n in graph]
    assert sorted(x for m in members for x in m) == sorted(labels)
    # A community never spans two components: c4 and u form one on their own.
    assert {"Campus Quatre", graph.nodes[U]["label"]} in members


def test_shared_partner_projection(graph) -> None:
    p = network.shared_partner_projection(graph)
    assert set(p.nodes) == {C1, C2, C3, C4}
    weights = {frozenset((a, b)): d["weight"] for a, b, d in p.edges(data=True)}
    assert weights == {frozenset((C1, C2)): 2, frozenset((C1, C3)): 1, frozenset((C2, C3)): 1}
    assert p.edges[C1, C2]["partners"] == {P, Q}


def test_projection_agrees_with_the_sparql_of_the_map(fixture_store: EmbeddedStore, graph) -> None:
    mapped = network.map_graph(fixture_store, "shared-partners")
    projected = network.shared_partner_projection(graph)
    assert set(mapped.nodes) == set(projected.nodes)
    assert {frozenset((a, b)): d["weight"] for a, b, d in mapped.edges(data=True)} == {
        frozenset((a, b)): d["weight"] for a, b, d in projected.edges(data=True)
    }


@pytest.mark.parametrize(
    ("kind", "params", "nodes", "edges"),
    [
        ("campus", {"campus": "c3"}, {C3, P, T, C1, C2}, 4),
        ("territory", {"territory": "region-28"}, {C1, C2, P, Q, S}, 5),
        ("territory", {"territory": "academie-rouen"}, {C1, P, Q, S}, 3),
        # Rouen merged into Normandie: its campuses are on the successor's map.
        ("territory", {"territory": "academie-normandie"}, {C1, P, Q, S}, 3),
        ("territory", {"territory": "region-11"}, {C3, P, T}, 2),
        (
            "governance",
            {},
            {f"{ID}label/cmq", f"{ID}text/decret-2014", f"{ID}organisation/men", f"{ID}procedure-step/s1"},
            5,
        ),
    ],
)
def test_map_graphs(fixture_store: EmbeddedStore, kind: str, params: dict, nodes: set, edges: int) -> None:
    g = network.map_graph(fixture_store, kind, bindings=network.bindings_for(kind, **params))
    assert set(g.nodes) == nodes
    assert g.number_of_edges() == edges


def test_a_map_needing_a_parameter_says_so(fixture_store: EmbeddedStore) -> None:
    with pytest.raises(network.QueryError, match="--campus"):
        network.bindings_for("campus")


def test_report_json_round_trips(graph) -> None:
    report = network.analyse(graph)
    data = json.loads(report.to_json())
    assert data["nodes"] == 9 and data["edges"] == 8 and data["campuses"] == 4
    assert data["bridges"][0]["iri"] == P
    assert len(data["components"]) == 2


@pytest.fixture(scope="module")
def fixture_store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture written as an on-disk store, for the command line."""
    from cmq_graph.store import activate, write_generation

    root = tmp_path_factory.mktemp("network-store")
    quads = ox.parse(path=str(FIXTURE), format=ox.RdfFormat.TRIG)
    activate(root, write_generation(root, quads))
    return root


def test_network_command_csv(fixture_store_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["network", "bridges", "--format", "csv", "--store", str(fixture_store_root)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["name"], r["campuses"]) for r in rows] == [("Entreprise Pont", "3"), ("Lycée Quai", "2")]


def test_network_command_json_and_table(fixture_store_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli.main(
            ["network", "centrality", "--format", "json", "--top", "2", "--store", str(fixture_store_root)]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert [c["iri"] for c in data["centrality"]] == [P, C1]
    assert cli.main(["network", "summary", "--store", str(fixture_store_root)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["measure", "value"]
    assert "components" in table[5] and table[5].split()[-1] == "2"
