"""The ontology, vocabularies and shapes: complete, labelled in French and English, coherent with
the tables' contract, and each shape rejecting a crafted bad example."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from cmq_graph import paths
from cmq_graph.namespaces import CMQ, SH, compact
from cmq_graph.tables import TABLES
from cmq_graph.validate import check

ONTOLOGY = paths.ONTOLOGY_DIR


@pytest.fixture(scope="module")
def onto() -> Graph:
    return Graph().parse(ONTOLOGY / "cmq.ttl", format="turtle")


@pytest.fixture(scope="module")
def vocab() -> Graph:
    g = Graph()
    for f in sorted((ONTOLOGY / "vocabularies").glob("*.ttl")):
        g.parse(f, format="turtle")
    return g


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(ONTOLOGY / "shapes.ttl", format="turtle")


def _langs(g: Graph, node, prop) -> set[str]:
    return {o.language for o in g.objects(node, prop) if isinstance(o, Literal) and o.language}


def test_ontology_metadata(onto: Graph) -> None:
    ont = URIRef("https://w3id.org/cmq/def")
    assert (ont, RDF.type, OWL.Ontology) in onto
    assert onto.value(ont, OWL.versionIRI) is not None
    dct = "http://purl.org/dc/terms/"
    for prop in ("title", "description", "license", "creator"):
        assert onto.value(ont, URIRef(dct + prop)) is not None, prop


def test_every_term_is_labelled_and_defined_in_french_and_english(onto: Graph) -> None:
    terms = [
        s
        for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
        for s in onto.subjects(RDF.type, t)
        if isinstance(s, URIRef) and str(s).startswith(str(CMQ))
    ]
    assert len(terms) > 60
    for term in terms:
        assert {"fr", "en"} <= _langs(onto, term, RDFS.label), term
        assert {"fr", "en"} <= _langs(onto, term, SKOS.definition), term


def test_every_term_the_mapping_emits_is_declared(onto: Graph) -> None:
    declared = set(onto.subjects())
    used = set()
    for table in TABLES:
        if table.rdf_type is not None:
            used.add(table.rdf_type)
        used |= {c.predicate for c in table.columns if c.predicate is not None}
    missing = sorted(str(t) for t in used if str(t).startswith(str(CMQ)) and t not in declared)
    assert missing == []


def test_every_concept_is_labelled_and_its_class_exists(onto: Graph, vocab: Graph) -> None:
    concepts = set(vocab.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) > 60
    for concept in concepts:
        assert {"fr", "en"} <= _langs(vocab, concept, SKOS.prefLabel), concept
        assert vocab.value(concept, SKOS.inScheme) is not None, concept
        cls = vocab.value(concept, CMQ.entityClass)
        if cls is not None:
            assert (cls, RDF.type, OWL.Class) in onto, f"{concept} -> {cls}"


def test_founding_document_concepts_are_present(onto: Graph, vocab: Graph) -> None:
    """Every kind of thing the founding document names has a class or a concept."""
    for cls in (
        "Label",
        "LabelMention",
        "Decree",
        "Arrete",
        "CodeArticle",
        "Ministry",
        "ExpertGroup",
        "AdvisoryCouncil",
        "Campus",
        "Rectorat",
        "RegionalCouncil",
        "UniversityCommunity",
        "CompetitivenessCluster",
        "IndustryGrouping",
        "ProfessionalFederation",
        "IndustryNetwork",
        "Lycee",
        "Region",
        "Academie",
        "SmartSpecialisationStrategy",
        "Labelling",
    ):
        assert (CMQ[cls], RDF.type, OWL.Class) in onto, cls
    schemes = {str(s).rsplit("/", 1)[-1]: s for s in vocab.subjects(RDF.type, SKOS.ConceptScheme)}
    for scheme, size in (("objective", 5), ("metier-family", 5), ("role", 4), ("sector", 9)):
        members = set(vocab.subjects(SKOS.inScheme, schemes[scheme]))
        assert len(members) >= size, scheme


# -- each shape rejects a crafted bad example --------------------------------------------------


def _property_shapes(shapes: Graph):
    for node_shape in shapes.subjects(RDF.type, SH.NodeShape):
        target = shapes.value(node_shape, SH.targetClass)
        if target is None:
            continue
        for prop_shape in shapes.objects(node_shape, SH.property):
            path = shapes.value(prop_shape, SH.path)
            if isinstance(path, URIRef):
                yield node_shape, target, prop_shape, path


def _mutations(shapes: Graph, prop_shape, path):
    """Ways to break a property shape: drop the values, duplicate them, break their pattern."""
    if shapes.value(prop_shape, SH.minCount) is not None:
        yield "min", lambda g, s: g.remove((s, path, None))
    max_count = shapes.value(prop_shape, SH.maxCount)
    if max_count is not None:

        def add_extra(g, s, n=int(max_count)):
            for i in range(n + 1):
                g.add((s, path, Literal(f"extra value {i}")))

        yield "max", add_extra
    if shapes.value(prop_shape, SH.pattern) is not None:

        def bad_pattern(g, s):
            g.remove((s, path, None))
            g.add((s, path, Literal("not-a-valid-code !")))

        yield "pattern", bad_pattern


def test_each_shape_rejects_a_crafted_bad_example(store, shapes: Graph) -> None:
    """Mutate one valid entity per property shape of the curated graph and expect a violation."""
    from cmq_graph.validate import to_graph

    ontology = Graph()
    for f in [ONTOLOGY / "cmq.ttl", *sorted((ONTOLOGY / "vocabularies").glob("*.ttl"))]:
        ontology.parse(f, format="turtle")
    data_graph = to_graph(
        q for q in store.quads() if q.graph_name.value.startswith("https://w3id.org/cmq/id/source/")
    )
    assert check(data_graph, shapes, ontology) == []
    closure = data_graph + ontology  # instances by subclass, as the validator sees them
    tried = 0
    for node_shape, target, prop_shape, path in _property_shapes(shapes):
        instances = {
            s
            for s in closure.transitive_subjects(RDFS.subClassOf, target)
            for s in data_graph.subjects(RDF.type, s)
        }
        if not instances:
            continue
        focus = sorted(instances)[0]
        for kind, mutate in _mutations(shapes, prop_shape, path):
            # A small graph: the focus entity and its neighbours, so each check runs fast.
            bad = Graph()
            for s, p, o in data_graph.triples((focus, None, None)):
                bad.add((s, p, o))
                for t in data_graph.triples((o, None, None)):
                    bad.add(t)
            mutate(bad, focus)
            violations = check(bad, shapes, ontology)
            about = [v for v in violations if f"propriété {compact(str(path))}" in v]
            assert about, f"{node_shape} / {path} ({kind}) accepted a bad {focus}: {violations}"
            tried += 1
    assert tried >= 10
