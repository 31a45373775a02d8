"""Competency questions of the founding issue, answered by SPARQL on the built store.

Each expected answer is a fact of the sources (the founding document, the Code de l'éducation,
the register), written here as the source states it; the query must find exactly that, with the
source that states it. A second group checks provenance: every triple of the store sits in a
named graph, and every data graph is a source declared in the metadata graph.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef

from cmq_graph import paths
from cmq_graph.namespaces import BASE, META_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH, VOCAB_GRAPH
from cmq_graph.store import EmbeddedStore
from cmq_graph.web.void import ENTAILED_GRAPH

PREFIXES = """
PREFIX cmq: <https://w3id.org/cmq/def#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

LABEL = URIRef(BASE + "id/label/cmq")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
XSD_YEAR_MONTH = URIRef("http://www.w3.org/2001/XMLSchema#gYearMonth")
FOUNDING = "campus-propulsions-missions"  # the founding document's source id
D335_34 = "legifrance-code-education-d335-34"


def iri(path: str) -> URIRef:
    return URIRef(f"{BASE}id/{path}")


def src(source_id: str) -> URIRef:
    return iri(f"source/{source_id}")


def org(org_id: str) -> URIRef:
    return iri(f"organisation/{org_id}")


def select(store: EmbeddedStore, body: str, **constants: URIRef) -> set[tuple]:
    """Rows of ``body`` with ``?name`` replaced by the test's constant IRIs (not user input)."""
    for name, value in constants.items():
        body = re.sub(rf"\?{name}\b", f"<{value}>", body)
    return set(store.query(PREFIXES + body).rows)


def test_decree_creating_the_label_and_its_date(store: EmbeddedStore) -> None:
    rows = select(
        store,
        """SELECT DISTINCT ?text ?number ?date WHERE {
             ?label cmq:createdBy ?text .
             ?text a cmq:Decree ; eli:number ?number ; eli:date_document ?date .
           }""",
        label=LABEL,
    )
    assert rows == {
        (iri("text/decret-2014-1100"), Literal("2014-1100"), Literal("2014-09-29", datatype=XSD_DATE))
    }
    # Said by the founding document and by a second source, each in its own graph.
    sources = select(store, "SELECT ?g WHERE { GRAPH ?g { ?label cmq:createdBy ?text } }", label=LABEL)
    assert {g for (g,) in sources} == {src(FOUNDING), src("lexbase-20530845")}


def test_ministries_of_tutelage_and_ministries_granting_the_label(store: EmbeddedStore) -> None:
    tutelage = select(
        store,
        "SELECT ?ministry ?g WHERE { GRAPH ?g { ?label cmq:underTutelageOf ?ministry } }",
        label=LABEL,
    )
    # The founding document: education, employment and economy.
    assert tutelage == {
        (org("menesr"), src(FOUNDING)),
        (org("ministere-emploi"), src(FOUNDING)),
        (org("ministere-economie"), src(FOUNDING)),
    }
    granted = select(
        store,
        "SELECT ?ministry WHERE { GRAPH ?g { ?label cmq:grantedBy ?ministry } }",
        label=LABEL,
        g=src(D335_34),
    )
    # D335-34: a joint order of the four ministers.
    assert {m for (m,) in granted} == {
        org("ministere-education-nationale"),
        org("ministere-formation-professionnelle"),
        org("ministere-enseignement-superieur"),
        org("ministere-economie"),
    }


def test_who_examines_candidacies(store: EmbeddedStore) -> None:
    rows = select(
        store,
        """SELECT ?role ?body ?g WHERE {
             VALUES ?role { cmq:examinedBy cmq:opinionBy cmq:awardedBy }
             GRAPH ?g { ?label ?role ?body }
           }""",
        label=LABEL,
    )
    cmq = "https://w3id.org/cmq/def#"
    assert {(str(role).removeprefix(cmq), body, g) for role, body, g in rows} == {
        ("examinedBy", org("groupe-experts-cmq"), src(D335_34)),  # the group of experts examines
        ("opinionBy", org("cnee"), src(D335_34)),  # the CNEE gives its opinion
        ("awardedBy", org("groupe-experts-cmq"), src(FOUNDING)),  # « commission d'experts »
        ("awardedBy", org("groupe-experts-cmq"), src("banquedesterritoires-2019-labellisation-evolue")),
    }


def members_by_role(store: EmbeddedStore, campus: str, role: str) -> dict[URIRef, set[URIRef]]:
    rows = select(
        store,
        """SELECT ?member ?g WHERE {
             GRAPH ?g { ?m org:organization ?campus ; org:member ?member ; org:role ?role }
           }""",
        campus=iri(f"campus/{campus}"),
        role=URIRef(f"{BASE}vocab/role/{role}"),
    )
    by_source: dict[URIRef, set[URIRef]] = {}
    for member, graph in rows:
        by_source.setdefault(graph, set()).add(member)
    return by_source


def test_pilots_and_supporters_of_propulsions(store: EmbeddedStore) -> None:
    pilots = members_by_role(store, "propulsions", "pilote")
    assert pilots == {
        src(FOUNDING): {
            org("rectorat-caen"),
            org("rectorat-rouen"),
            org("region-normandie-collectivite"),
            org("normandie-universite"),
        },
    }
    supporters = members_by_role(store, "propulsions", "soutien")
    assert supporters == {
        src(FOUNDING): {org("normandie-aeroespace"), org("moveo"), org("plastalliance"), org("uimm")},
        src("ac-rouen-105908"): {org("normandie-aeroespace"), org("moveo"), org("aria")},
    }


def test_propulsions_labelling_date_per_source(store: EmbeddedStore) -> None:
    rows = select(
        store,
        """SELECT ?labelling ?date ?g WHERE {
             GRAPH ?g { ?labelling cmq:labelledCampus ?campus ; cmq:labellingDate ?date }
           }""",
        campus=iri("campus/propulsions"),
    )
    labelling = iri("labelling/propulsions-2015")
    # Two sources disagree: both claims are kept, each with its own source and precision.
    assert rows == {
        (labelling, Literal("2015-03", datatype=XSD_YEAR_MONTH), src(FOUNDING)),
        (labelling, Literal("2015-02-02", datatype=XSD_DATE), src("ac-rouen-105908")),
    }


def test_academie_and_region_mergers(store: EmbeddedStore) -> None:
    rows = store.query(
        PREFIXES
        + """SELECT ?merger ?into ?date (GROUP_CONCAT(STR(?from); separator=" ") AS ?froms) WHERE {
               ?merger a cmq:TerritorialMerger ; cmq:resultingTerritory ?into ;
                       cmq:effectiveDate ?date ; cmq:mergedTerritory ?from .
             } GROUP BY ?merger ?into ?date"""
    ).rows
    got = {(m, into, date, frozenset(str(froms).split())) for m, into, date, froms in rows}
    territory = BASE + "id/territory/"
    assert got == {
        (
            iri("merger/fusion-academies-normandie-2020"),
            iri("territory/academie-normandie"),
            Literal("2020-01-01", datatype=XSD_DATE),
            frozenset({territory + "academie-caen", territory + "academie-rouen"}),
        ),
        (
            iri("merger/fusion-regions-normandie-2016"),
            iri("territory/region-28"),
            Literal("2016-01-01", datatype=XSD_DATE),
            frozenset({territory + "region-23", territory + "region-25"}),
        ),
    }
    basis = select(
        store,
        "SELECT ?text WHERE { ?merger cmq:legalBasis ?text }",
        merger=iri("merger/fusion-academies-normandie-2020"),
    )
    assert basis == {(iri("text/decret-2019-1056"),)}


# -- provenance -------------------------------------------------------------------------------

# Not a source's statements: the schema, the metadata, and the super-types and super-properties
# the build infers from the ontology (cmq_graph.web.void).
SCHEMA_GRAPHS = {ONTOLOGY_GRAPH, VOCAB_GRAPH, SHAPES_GRAPH, META_GRAPH, ENTAILED_GRAPH}


@pytest.fixture(scope="module")
def oxi(store: EmbeddedStore) -> ox.Store:
    return store.oxigraph


def test_default_graph_is_the_union_of_the_source_graphs(oxi: ox.Store) -> None:
    """Nothing is stated in the default graph but the union of the named graphs, once each."""
    default = [q.triple for q in oxi.quads_for_pattern(None, None, None, ox.DefaultGraph())]
    named = {
        q.triple for q in oxi.quads_for_pattern(None, None, None, None) if q.graph_name != ox.DefaultGraph()
    }
    assert len(default) == len(set(default)) and set(default) == named


def test_every_data_graph_is_a_declared_source(oxi: ox.Store) -> None:
    graphs = {g.value for g in oxi.named_graphs()}
    assert graphs >= SCHEMA_GRAPHS
    data_graphs = graphs - SCHEMA_GRAPHS
    declared = {
        q.subject.value
        for q in oxi.quads_for_pattern(
            None,
            ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.NamedNode("https://w3id.org/cmq/def#Source"),
            ox.NamedNode(META_GRAPH),
        )
    }
    assert data_graphs <= declared
    # And data/sources.csv is exactly the set of declared sources, each with a title.
    with (paths.DATA_DIR / "sources.csv").open(encoding="utf-8") as f:
        ids = {row["id"] for row in csv.DictReader(f)}
    assert declared == {str(src(i)) for i in ids}
    titled = {
        q.subject.value
        for q in oxi.quads_for_pattern(
            None, ox.NamedNode("http://purl.org/dc/terms/title"), None, ox.NamedNode(META_GRAPH)
        )
    }
    assert declared <= titled


def test_every_data_statement_traces_to_a_source_row(oxi: ox.Store) -> None:
    """Each data graph holds statements only from rows citing that source (sampled per table)."""
    counts = {g.value: 0 for g in oxi.named_graphs()}
    for quad in oxi:
        if quad.graph_name != ox.DefaultGraph():  # the default graph: their union
            counts[quad.graph_name.value] += 1
    used = {g for g, n in counts.items() if n and g not in SCHEMA_GRAPHS}
    cited: set[str] = set()
    for table in Path(paths.DATA_DIR).glob("*.csv"):
        if table.name == "sources.csv":
            continue
        with table.open(encoding="utf-8") as f:
            cited |= {str(src(row["source"])) for row in csv.DictReader(f) if row.get("source")}
    # A graph exists for a source exactly when some row cites it.
    assert used == cited
