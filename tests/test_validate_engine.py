"""The compiled SHACL engine (shapes as SPARQL on Oxigraph) against pySHACL, the reference.

Both validate the same data graph (ontology and vocabularies merged in, no inference) with the
project's shapes; they must agree on conformance and on the set of (focus node, constraint
component) of the results: on the curated data, on seeded random mutations of it (checked on the
whole graph, a few at a time), and on one crafted violation per kind of constraint the shapes
use (checked on the neighbourhood of the mutated entity).
"""

from __future__ import annotations

import random
from collections import Counter
from functools import cache

import pyoxigraph as ox
import pytest
from pyshacl import validate as pyshacl_validate
from rdflib.namespace import RDF

from cmq_graph import paths, shacl_sparql
from cmq_graph.mapping import map_tables
from cmq_graph.namespaces import SH, SHAPES_GRAPH
from cmq_graph.shacl_sparql import ShapesError, component
from cmq_graph.validate import to_graph, violations
from cmq_graph.vocabulary import load_ontology

MUTATIONS = 128
BATCH = 4
TYPE = ox.NamedNode(str(RDF.type))
XSD = "http://www.w3.org/2001/XMLSchema#"
BAD_OBJECTS = [
    ox.Literal("zz"),
    ox.Literal("not a code !", language="en"),
    ox.Literal("-3", datatype=ox.NamedNode(XSD + "integer")),
    ox.Literal("2015", datatype=ox.NamedNode(XSD + "gYear")),
    ox.Literal("12345678901234"),
    ox.NamedNode("https://w3id.org/cmq/id/unknown/thing"),
    ox.NamedNode("https://w3id.org/cmq/vocab/sector/unknown"),
    ox.NamedNode("https://w3id.org/cmq/vocab/role/pilote"),
]


@cache
def _inputs() -> tuple[list[ox.Quad], list[ox.Quad], list[ox.Quad]]:
    """(ontology and vocabularies, curated data, shapes) as quads."""
    onto = load_ontology(paths.ONTOLOGY_DIR, [])
    mapped = map_tables(paths.DATA_DIR, onto)
    shapes = onto.graph_quads(SHAPES_GRAPH)
    return [q for q in onto.quads if q.graph_name.value != SHAPES_GRAPH], mapped.quads, shapes


@cache
def _constrained() -> set[ox.NamedNode]:
    _, _, shapes = _inputs()
    return {q.object for q in shapes if q.predicate.value == str(SH.path)} | {TYPE}


def compiled(triples: list[ox.Quad]) -> tuple[bool, set[tuple[str, str]]]:
    ontology, _, shapes = _inputs()
    store = ox.Store()
    store.bulk_extend(ontology)
    g = ox.NamedNode("urn:test:data")
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, g) for q in triples)
    found = violations(store, shapes)
    return not found, {(str(v.focus), v.component) for v in found}


@cache
def _pyshacl_shapes():
    return to_graph(_inputs()[2])


def reference(triples: list[ox.Quad]) -> tuple[bool, set[tuple[str, str]]]:
    ontology, _, _ = _inputs()
    conforms, report, _ = pyshacl_validate(
        to_graph(ontology + triples), shacl_graph=_pyshacl_shapes(), inference="none", allow_warnings=True
    )
    shapes = _pyshacl_shapes()
    found = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        source = report.value(result, SH.sourceShape)
        # Results of a shape reached through sh:node / sh:or are pySHACL's details, focused on
        # the value: the top-level result (sh:NodeConstraintComponent...) is the one compared.
        if (None, SH.property, source) not in shapes and (source, SH.targetClass, None) not in shapes:
            continue
        focus = ox.NamedNode(str(report.value(result, SH.focusNode)))
        found.add((str(focus), str(report.value(result, SH.sourceConstraintComponent))))
    return bool(conforms), found


def _neighbourhood(data: list[ox.Quad], node: ox.NamedNode) -> list[ox.Quad]:
    """The description of ``node``, of the nodes it points to and of the nodes pointing to it,
    and the type of every entity (so that ``sh:class`` holds where it holds in the whole graph)."""
    near = (
        {node} | {q.object for q in data if q.subject == node} | {q.subject for q in data if q.object == node}
    )
    return [q for q in data if q.subject in near or q.predicate == TYPE]


def _mutate(rng: random.Random, data: list[ox.Quad]) -> tuple[str, list[ox.Quad]]:
    """One random mutation of ``data`` on a constrained property: delete, replace or add a value."""
    constrained = _constrained()
    kind = rng.choice(["delete", "replace", "replace", "add"])
    candidates = [
        q
        for q in data
        if q.predicate in constrained
        and isinstance(q.subject, ox.NamedNode)
        and (kind == "delete" or q.predicate != TYPE)
    ]
    target = rng.choice(candidates)
    rest = [q for q in data if q != target]
    if kind == "delete":
        return f"delete {target}", rest
    bad = rng.choice(BAD_OBJECTS)
    new = ox.Quad(target.subject, target.predicate, bad, target.graph_name)
    if kind == "add":
        return f"add {new}", [*data, new]
    return f"replace {target} by {bad}", [*rest, new]


def test_curated_data_conforms_for_both_engines() -> None:
    _, data, _ = _inputs()
    assert compiled(data) == (True, set())
    assert reference(data) == (True, set())


@pytest.mark.parametrize("seed", range(4))
def test_engines_agree_on_random_mutations(seed: int) -> None:
    """A quarter of the corpus per test (two workers share it). pySHACL takes ~1.5 s on the
    curated graph, so mutations are validated by batches of ``BATCH`` on the whole graph."""
    _, data, _ = _inputs()
    rng = random.Random(seed)
    kinds: Counter[str] = Counter()
    for _ in range(MUTATIONS // 4 // BATCH):
        graph, done = data, []
        for _ in range(BATCH):
            what, graph = _mutate(rng, graph)
            done.append(what)
        mine, ref = compiled(graph), reference(graph)
        assert mine == ref, f"{done}: only compiled {mine[1] - ref[1]}, only pySHACL {ref[1] - mine[1]}"
        kinds.update(c.rsplit("#", 1)[1] for _, c in ref[1])
    assert sum(kinds.values()) > 0


# -- one crafted violation per kind of constraint ---------------------------------------------

CMQ = "https://w3id.org/cmq/def#"
ORG = "http://www.w3.org/ns/org#"
ID = "https://w3id.org/cmq/id/"


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _entity(data: list[ox.Quad], cls: str, having: str | None = None) -> ox.NamedNode:
    typed = {q.subject for q in data if q.predicate == TYPE and q.object == _n(cls)}
    if having is not None:
        typed &= {q.subject for q in data if q.predicate == _n(having)}
    return sorted(typed, key=str)[0]


def _set(data, node, prop, *values):
    """``data`` with the values of ``prop`` on ``node`` replaced by ``values``."""
    graph = next(q.graph_name for q in data if q.subject == node)
    kept = [q for q in data if not (q.subject == node and q.predicate == _n(prop))]
    return kept + [ox.Quad(node, _n(prop), v, graph) for v in values]


RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def _crafted():
    """name -> (expected component, focus, mutated data)."""
    _, data, _ = _inputs()
    campus = _entity(data, CMQ + "Campus")
    labelling = _entity(data, CMQ + "Labelling")
    membership = _entity(data, ORG + "Membership")
    org = next(q.subject for q in data if q.subject.value.startswith(ID + "organisation/"))
    label = next(q.object for q in data if q.predicate == _n(CMQ + "label"))
    merger = _entity(data, CMQ + "TerritorialMerger")
    mention = _entity(data, CMQ + "LabelMention")
    text = next(q.subject for q in data if q.subject.value.startswith(ID + "text/"))
    member = next(q.object for q in data if q.subject == membership and q.predicate == _n(ORG + "member"))
    merged = next(
        q.object for q in data if q.subject == merger and q.predicate == _n(CMQ + "mergedTerritory")
    )
    graph = next(q.graph_name for q in data if q.subject == mention)
    return {
        "minCount": ("minCount", campus, _set(data, campus, RDFS_LABEL)),
        "maxCount": ("maxCount", labelling, _set(data, labelling, CMQ + "labelledCampus", campus, label)),
        "datatype": ("datatype", org, _set(data, org, CMQ + "siren", ox.Literal("123456789", language="fr"))),
        "class": ("class", labelling, _set(data, labelling, CMQ + "legalBasis", campus)),
        "nodeKind": (
            "nodeKind",
            campus,
            _set(data, campus, "https://schema.org/url", ox.Literal("example.org")),
        ),
        "pattern": ("pattern", org, _set(data, org, CMQ + "uai", ox.Literal("076123A"))),
        "minInclusive": (
            "minInclusive",
            labelling,
            _set(data, labelling, CMQ + "durationYears", ox.Literal("0", datatype=_n(XSD + "integer"))),
        ),
        "languageIn": (
            "qualifiedMinCount",
            campus,
            _set(data, campus, RDFS_LABEL, ox.Literal("Campus", language="en")),
        ),
        "in": ("in", org, _set(data, org, CMQ + "status", ox.Literal("public-prive"))),
        "or": ("or", membership, _set(data, membership, "https://schema.org/startDate", ox.Literal("2015"))),
        "not": ("not", mention, [*data, ox.Quad(mention, TYPE, _n(CMQ + "Label"), graph)]),
        "node": (
            "node",
            campus,
            _set(data, campus, CMQ + "sector", _n("https://w3id.org/cmq/vocab/objective/emploi")),
        ),
        "disjoint": ("disjoint", membership, _set(data, membership, ORG + "organization", member)),
        "disjoint (merger)": ("disjoint", merger, _set(data, merger, CMQ + "resultingTerritory", merged)),
        "sparql": (
            "SPARQL",
            org,
            _set(
                _set(data, org, CMQ + "siren", ox.Literal("123456789")),
                org,
                CMQ + "siret",
                ox.Literal("99999999900012"),
            ),
        ),
        "ill-formed literal": (
            "datatype",
            text,
            _set(
                data,
                text,
                "http://data.europa.eu/eli/ontology#number",
                ox.Literal("1", datatype=_n(XSD + "integer")),
            ),
        ),
    }


@pytest.mark.parametrize("name", sorted(_crafted()))
def test_each_kind_of_constraint_catches_its_crafted_violation(name: str) -> None:
    expected, focus, data = _crafted()[name]
    graph = _neighbourhood(data, focus)
    conforms, found = compiled(graph)
    assert not conforms
    assert (str(focus), component(expected)) in found, found
    assert reference(graph) == (conforms, found)


def test_every_constraint_kind_of_the_shapes_is_crafted() -> None:
    kinds = {c.component for c in shacl_sparql.compile_shapes(_inputs()[2], {})}
    crafted = {component(k) for k, _, _ in _crafted().values()}
    assert kinds <= crafted, kinds - crafted


def test_an_uncompiled_construct_is_an_error() -> None:
    shapes = list(
        ox.parse(
            b"""@prefix sh: <http://www.w3.org/ns/shacl#> .
            <urn:s> a sh:NodeShape ; sh:targetClass <urn:C> ;
              sh:property [ sh:path <urn:p> ; sh:uniqueLang true ] .""",
            format=ox.RdfFormat.TURTLE,
        )
    )
    with pytest.raises(ShapesError, match="uniqueLang"):
        shacl_sparql.compile_shapes(shapes, {})
    path = list(
        ox.parse(
            b"""@prefix sh: <http://www.w3.org/ns/shacl#> .
            <urn:s> a sh:NodeShape ; sh:targetClass <urn:C> ;
              sh:property [ sh:path [ sh:inversePath <urn:p> ] ; sh:minCount 1 ] .""",
            format=ox.RdfFormat.TURTLE,
        )
    )
    with pytest.raises(ShapesError, match="only IRI paths"):
        shacl_sparql.compile_shapes(path, {})
