"""Each row of a curated table becomes exactly the triples it should, in its source's graph."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from cmq_graph.errors import Problem
from cmq_graph.mapping import map_tables
from cmq_graph.vocabulary import load_ontology

MINI = Path(__file__).parent / "fixtures" / "mini"
ID = "https://w3id.org/cmq/id/"
CMQ = "https://w3id.org/cmq/def#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
ORG = "http://www.w3.org/ns/org#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
DCT = "http://purl.org/dc/terms/"
GEO = "http://www.opengis.net/ont/geosparql#"
VOCAB = "https://w3id.org/cmq/vocab/"
GA = f"<{ID}source/src-a>"
META = "<https://w3id.org/cmq/graph/meta>"


def _nquads(quads: list[ox.Quad]) -> set[str]:
    return {str(q) for q in quads}


@pytest.fixture(scope="module")
def mapped():
    problems: list[Problem] = []
    ontology = load_ontology(MINI / "ontology", problems)
    assert problems == []
    return map_tables(MINI / "data", ontology)


def test_organisation_rows(mapped) -> None:
    lycee = f"<{ID}organisation/lycee-x>"
    acme = f"<{ID}organisation/acme>"
    expected = {
        f"{lycee} <{RDF}type> <{ORG}Organization> {GA}",
        f"{lycee} <{RDF}type> <{CMQ}Lycee> {GA}",
        f"{lycee} <{CMQ}kind> <{VOCAB}school-kind/lycee> {GA}",
        f'{lycee} <{RDFS}label> "Lycée X"@fr {GA}',
        f'{lycee} <{RDFS}label> "X High School"@en {GA}',
        f'{lycee} <{CMQ}uai> "0761234A" {GA}',
        f"{lycee} <{CMQ}territory> <{ID}territory/region-28> {GA}",
        f"{acme} <{RDF}type> <{ORG}Organization> {GA}",
        f"{acme} <{RDF}type> <{CMQ}Company> {GA}",
        f"{acme} <{CMQ}kind> <{VOCAB}partner-kind/entreprise> {GA}",
        f'{acme} <{RDFS}label> "ACME, SA"@fr {GA}',
        f'{acme} <{CMQ}siren> "123456789" {GA}',
    }
    got = {q for q in _nquads(mapped.quads) if q.startswith((lycee, acme))}
    assert got == expected


def test_campus_membership_territory_rows(mapped) -> None:
    c1 = f"<{ID}campus/c1>"
    m1 = f"<{ID}membership/m1>"
    region = f"<{ID}territory/region-28>"
    expected = {
        f"{c1} <{RDF}type> <{CMQ}Campus> {GA}",
        f'{c1} <{RDFS}label> "Campus Un"@fr {GA}',
        f'{c1} <{SKOS}altLabel> "Campus 1"@fr {GA}',
        f'{c1} <{SKOS}altLabel> "C1"@fr {GA}',
        f"{c1} <{CMQ}sector> <{VOCAB}sector/transports> {GA}",
        f"{c1} <{CMQ}territory> {region} {GA}",
        f"{m1} <{RDF}type> <{ORG}Membership> {GA}",
        f"{m1} <{ORG}member> <{ID}organisation/lycee-x> {GA}",
        f"{m1} <{ORG}organization> {c1} {GA}",
        f"{m1} <{ORG}role> <{VOCAB}role/pilote> {GA}",
        f'{m1} <{SCHEMA}startDate> "2015-03"^^<{XSD}gYearMonth> {GA}',
        f"{region} <{RDF}type> <{CMQ}Region> {GA}",
        f"{region} <{CMQ}kind> <{VOCAB}territory-kind/region> {GA}",
        f'{region} <{RDFS}label> "Normandie"@fr {GA}',
        f'{region} <{CMQ}inseeCode> "28" {GA}',
        f"{region} <{GEO}hasGeometry> <{ID}territory/region-28#geometry> {GA}",
        f"<{ID}territory/region-28#geometry> <{RDF}type> <{GEO}Geometry> {GA}",
        f'<{ID}territory/region-28#geometry> <{GEO}asWKT> "POINT(0.37 49.18)"^^<{GEO}wktLiteral> {GA}',
    }
    got = {q for q in _nquads(mapped.quads) if q.startswith((c1, m1, region, f"<{ID}territory/"))}
    assert got == expected


def test_sources_go_to_the_meta_graph(mapped) -> None:
    a = f"<{ID}source/src-a>"
    b = f"<{ID}source/src-b>"
    agent = f"<{ID}agent/publisher-a>"
    expected = {
        f"{a} <{RDF}type> <{CMQ}Source> {META}",
        f'{a} <{DCT}title> "Source A" {META}',
        f"{a} <{DCT}publisher> {agent} {META}",
        f"{a} <https://schema.org/url> <https://example.org/a> {META}",
        f'{a} <{CMQ}dateConsulted> "2026-01-15"^^<{XSD}date> {META}',
        f"{b} <{RDF}type> <{CMQ}Source> {META}",
        f'{b} <{DCT}title> "Source B" {META}',
        # The publisher's name becomes an agent (dcterms:publisher ranges over dcterms:Agent).
        f"{agent} <{RDF}type> <http://xmlns.com/foaf/0.1/Agent> {META}",
        f'{agent} <http://xmlns.com/foaf/0.1/name> "Publisher A" {META}',
    }
    got = {q for q in _nquads(mapped.quads) if q.startswith((a, b, agent))}
    assert got == expected


def test_every_data_quad_is_in_a_named_graph(mapped) -> None:
    assert all(isinstance(q.graph_name, ox.NamedNode) for q in mapped.quads)
    assert mapped.sources == {"src-a"}
    assert mapped.rows == {
        "sources": 2,
        "territories": 1,
        "organisations": 2,
        "campuses": 1,
        "memberships": 1,
    }
    assert mapped.origins[f"{ID}campus/c1"] == (str(MINI / "data" / "campuses.csv"), 2)


def test_competing_claims_are_both_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for f in (MINI / "data").iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    with (data / "memberships.csv").open("a") as fh:
        fh.write("m1,src-b,lycee-x,c1,pilote,2015-02-02\n")
    problems: list[Problem] = []
    mapped = map_tables(data, load_ontology(MINI / "ontology", problems))
    starts = {
        (q.object.value, q.graph_name.value)
        for q in mapped.quads
        if q.subject.value.endswith("membership/m1") and q.predicate.value == f"{SCHEMA}startDate"
    }
    assert starts == {("2015-03", f"{ID}source/src-a"), ("2015-02-02", f"{ID}source/src-b")}
