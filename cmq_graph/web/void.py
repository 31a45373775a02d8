"""Dataset metadata computed at build: standard super-types and VoID statistics.

Two things are added to a new store generation once its checks have passed
(:func:`describe_build`, called at the end of :func:`cmq_graph.build._check`):

* the rdfs:subClassOf / rdfs:subPropertyOf closure of what ``ontology/cmq.ttl`` declares,
  materialised in the graph ``{base}graph/entailed`` (as DBpedia does), so that a client knowing
  ORG, ELI, PROV, DCTERMS or schema.org but not ``cmq:`` finds ``org:Organization``,
  ``eli:LegalResource``, ``dcterms:references``… without a reasoner. The entailments sit in a
  graph of their own, described in PROV as derived from the ontology, so no source is made to
  say what it did not say, and the per-source counts stay those of the sources' own statements;
* a VoID description in the meta graph: the whole dataset (``{base}dataset``) and one subset
  per named graph (``{base}graph/{name}``, linked to the graph's name by ``sd:name``), each with
  ``void:triples``, ``void:entities`` (distinct subjects), class and property partitions. The
  catalogue's ``sources`` question reads these counts instead of scanning every statement.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from ..namespaces import BASE, ID, META_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH, VOCAB_GRAPH

DATASET_IRI = BASE + "dataset"
ENTAILED_GRAPH = BASE + "graph/entailed"
GRAPH_BASE = BASE + "graph/"

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_VOID = "http://rdfs.org/ns/void#"
_PROV = "http://www.w3.org/ns/prov#"
_DCT = "http://purl.org/dc/terms/"
_SD = "http://www.w3.org/ns/sparql-service-description#"
_XSD = "http://www.w3.org/2001/XMLSchema#"

RDF_TYPE = ox.NamedNode(_RDF + "type")
# Licence Ouverte / Open Licence 2.0 (Etalab), as the vocabularies declare it.
LICENCE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
DUMPS = ("dumps/cmq.nq.gz", "dumps/cmq.trig.gz", "dumps/cmq.nt.gz", "dumps/cmq.ttl.gz")
_BATCH = 200_000


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(_XSD + "integer"))


# -- super-types and super-properties ---------------------------------------------------------


def _closure(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Every strict ancestor of each term, following ``(sub, super)`` pairs transitively."""
    parents: dict[str, set[str]] = defaultdict(set)
    for sub, sup in pairs:
        if sub != sup:
            parents[sub].add(sup)
    result: dict[str, set[str]] = {}
    for term in list(parents):
        seen: set[str] = set()
        todo = list(parents[term])
        while todo:
            t = todo.pop()
            if t in seen or t == term:
                continue
            seen.add(t)
            todo.extend(parents.get(t, ()))
        result[term] = seen
    return result


def hierarchy(store: ox.Store) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The class and property ancestors declared in the ontology graph (IRIs only)."""

    def pairs(prop: str) -> list[tuple[str, str]]:
        rows = store.query(
            f"SELECT ?a ?b WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?a <{prop}> ?b }} "
            "FILTER(isIRI(?a) && isIRI(?b)) }"
        )
        return [(r["a"].value, r["b"].value) for r in rows]  # type: ignore[union-attr]

    return _closure(pairs(_RDFS + "subClassOf")), _closure(pairs(_RDFS + "subPropertyOf"))


def _values(mapping: dict[str, set[str]]) -> str:
    return " ".join(f"(<{a}> <{b}>)" for a, sups in sorted(mapping.items()) for b in sorted(sups))


def entailments(store: ox.Store) -> Iterator[ox.Quad]:
    """The super-type and super-property statements the data implies, in the entailed graph.

    Read from the sources' graphs and the vocabularies (not the ontology, shapes or metadata).
    A statement a source also makes is repeated here: testing for it (FILTER NOT EXISTS) took
    29 s of 42 s at 1M triples, and a triple in two graphs is still one triple of the dataset.
    """
    classes, properties = hierarchy(store)
    graph = _n(ENTAILED_GRAPH)
    skip = ", ".join(f"<{g}>" for g in (ONTOLOGY_GRAPH, SHAPES_GRAPH, META_GRAPH, ENTAILED_GRAPH))
    if classes:
        rows = store.query(
            "SELECT DISTINCT ?s ?sup WHERE { "
            f"VALUES (?c ?sup) {{ {_values(classes)} }} GRAPH ?g {{ ?s a ?c }} "
            f"FILTER(?g NOT IN ({skip})) }}"
        )
        for r in rows:
            yield ox.Quad(r["s"], RDF_TYPE, r["sup"], graph)  # type: ignore[arg-type]
    if properties:
        rows = store.query(
            "SELECT DISTINCT ?s ?sup ?o WHERE { "
            f"VALUES (?p ?sup) {{ {_values(properties)} }} GRAPH ?g {{ ?s ?p ?o }} "
            f"FILTER(?g NOT IN ({skip})) }}"
        )
        for r in rows:
            yield ox.Quad(r["s"], r["sup"], r["o"], graph)  # type: ignore[arg-type]


def entailment_metadata() -> list[ox.Quad]:
    """What the entailed graph is, in PROV and DCTERMS."""
    g, meta = _n(ENTAILED_GRAPH), _n(META_GRAPH)
    activity = _n(ENTAILED_GRAPH + "#materialisation")
    fr = "Types et propriétés standard (ORG, ELI, PROV, DCTERMS, schema.org…) déduits des déclarations "
    fr += "rdfs:subClassOf et rdfs:subPropertyOf de l'ontologie cmq à partir de ce qu'affirment les sources."
    en = "Standard types and properties (ORG, ELI, PROV, DCTERMS, schema.org…) inferred from the "
    en += "ontology's rdfs:subClassOf and rdfs:subPropertyOf declarations from what the sources state."
    return [
        ox.Quad(g, RDF_TYPE, _n(_PROV + "Entity"), meta),
        ox.Quad(g, RDF_TYPE, _n(_PROV + "Bundle"), meta),
        ox.Quad(g, _n(_DCT + "title"), ox.Literal("Déductions RDFS", language="fr"), meta),
        ox.Quad(g, _n(_DCT + "title"), ox.Literal("RDFS entailments", language="en"), meta),
        ox.Quad(g, _n(_DCT + "description"), ox.Literal(fr, language="fr"), meta),
        ox.Quad(g, _n(_DCT + "description"), ox.Literal(en, language="en"), meta),
        ox.Quad(g, _n(_PROV + "wasGeneratedBy"), activity, meta),
        ox.Quad(g, _n(_PROV + "wasDerivedFrom"), _n(ONTOLOGY_GRAPH), meta),
        ox.Quad(activity, RDF_TYPE, _n(_PROV + "Activity"), meta),
        ox.Quad(activity, _n(_PROV + "used"), _n(ONTOLOGY_GRAPH), meta),
    ]


# -- VoID -------------------------------------------------------------------------------------


def subset_iri(graph_name: str) -> str:
    """The VoID subset describing named graph ``graph_name``: ``{base}graph/{local name}``."""
    if graph_name.startswith(GRAPH_BASE):
        return graph_name
    if graph_name.startswith(ID + "source/"):
        return GRAPH_BASE + graph_name[len(ID + "source/") :]
    if graph_name == ONTOLOGY_GRAPH:
        return GRAPH_BASE + "ontology"
    if graph_name == VOCAB_GRAPH:
        return GRAPH_BASE + "vocab"
    return GRAPH_BASE + graph_name.rstrip("/#").rsplit("/", 1)[-1]


_PER_GRAPH = (
    "SELECT ?g (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?e) "
    "WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {f} }} GROUP BY ?g"
)
_CLASSES_PER_GRAPH = (
    "SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?e) WHERE {{ GRAPH ?g {{ ?s a ?c }} {f} }} GROUP BY ?g ?c"
)
_PROPS_PER_GRAPH = "SELECT ?g ?p (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {f} }} GROUP BY ?g ?p"
_DISTINCT = "SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {f} }}"
_ALL_SUBJECTS = (
    "SELECT (COUNT(*) AS ?e) WHERE {{ SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {f} }} }}"
)
_ALL_CLASSES = "SELECT ?c (COUNT(DISTINCT ?s) AS ?e) WHERE {{ GRAPH ?g {{ ?s a ?c }} {f} }} GROUP BY ?c"
_ALL_PROPS = "SELECT ?p (COUNT(*) AS ?n) WHERE {{ " + _DISTINCT + " }} GROUP BY ?p"


def void_quads(store: ox.Store) -> list[ox.Quad]:
    """VoID for the dataset as published (every graph but the shapes and this metadata)."""
    meta = _n(META_GRAPH)
    f = f"FILTER(?g NOT IN (<{SHAPES_GRAPH}>, <{META_GRAPH}>))"
    dataset = _n(DATASET_IRI)
    out: list[ox.Quad] = [ox.Quad(dataset, RDF_TYPE, _n(_VOID + "Dataset"), meta)]

    def add(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        out.append(ox.Quad(s, _n(p), o, meta))

    def partitions(node: ox.NamedNode, classes: list[tuple[str, int]], props: list[tuple[str, int]]) -> None:
        for i, (cls, entities) in enumerate(sorted(classes)):
            part = _n(f"{node.value}#class-{i + 1}")
            add(node, _VOID + "classPartition", part)
            add(part, _VOID + "class", _n(cls))
            add(part, _VOID + "entities", _int(entities))
        for i, (prop, triples) in enumerate(sorted(props)):
            part = _n(f"{node.value}#property-{i + 1}")
            add(node, _VOID + "propertyPartition", part)
            add(part, _VOID + "property", _n(prop))
            add(part, _VOID + "triples", _int(triples))

    meta_node = _n(META_GRAPH)
    add(meta_node, _RDF + "type", _n(_SD + "NamedGraph"))
    add(meta_node, _RDF + "type", _n(_PROV + "Entity"))
    add(meta_node, _SD + "name", meta_node)
    add(meta_node, _DCT + "title", ox.Literal("Métadonnées du graphe", language="fr"))
    add(meta_node, _DCT + "title", ox.Literal("Metadata of the graph", language="en"))
    add(
        meta_node,
        _DCT + "description",
        ox.Literal(
            "The sources (title, publisher, dates), the VoID statistics and what each named graph is.",
            language="en",
        ),
    )
    add(meta_node, _DCT + "subject", dataset)
    # The dataset's triples are counted once each whatever the graphs stating them: the
    # distinct triples are grouped by property once, and their total is the dataset's count.
    all_props = [(r["p"].value, int(r["n"].value)) for r in store.query(_ALL_PROPS.format(f=f))]  # type: ignore[union-attr]
    row = next(iter(store.query(_ALL_SUBJECTS.format(f=f))))
    add(dataset, _VOID + "triples", _int(sum(n for _p, n in all_props)))
    add(dataset, _VOID + "entities", _int(int(row["e"].value)))  # type: ignore[union-attr]
    add(dataset, _VOID + "uriSpace", ox.Literal(ID))
    add(
        dataset,
        _DCT + "title",
        ox.Literal("Graphe des Campus des métiers et des qualifications", language="fr"),
    )
    add(
        dataset,
        _DCT + "title",
        ox.Literal("Graph of the Campus des Métiers et des Qualifications", language="en"),
    )
    add(dataset, _DCT + "license", _n(LICENCE))
    # The dumps `cmq-graph site` writes, at their persistent addresses.
    for dump in DUMPS:
        add(dataset, _VOID + "dataDump", _n(BASE + dump))
    add(dataset, _VOID + "rootResource", _n(ONTOLOGY_GRAPH))
    add(dataset, _VOID + "vocabulary", _n(ONTOLOGY_GRAPH))
    partitions(
        dataset,
        [(r["c"].value, int(r["e"].value)) for r in store.query(_ALL_CLASSES.format(f=f))],  # type: ignore[union-attr]
        all_props,
    )
    classes: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for r in store.query(_CLASSES_PER_GRAPH.format(f=f)):
        classes[r["g"].value].append((r["c"].value, int(r["e"].value)))  # type: ignore[union-attr]
    props: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for r in store.query(_PROPS_PER_GRAPH.format(f=f)):
        props[r["g"].value].append((r["p"].value, int(r["n"].value)))  # type: ignore[union-attr]
    for r in store.query(_PER_GRAPH.format(f=f)):
        name = r["g"].value  # type: ignore[union-attr]
        subset = _n(subset_iri(name))
        add(dataset, _VOID + "subset", subset)
        add(subset, _RDF + "type", _n(_VOID + "Dataset"))
        add(subset, _RDF + "type", _n(_SD + "NamedGraph"))
        add(subset, _RDF + "type", _n(_PROV + "Entity"))
        add(subset, _SD + "name", _n(name))
        add(subset, _VOID + "triples", _int(int(r["n"].value)))  # type: ignore[union-attr]
        add(subset, _VOID + "entities", _int(int(r["e"].value)))  # type: ignore[union-attr]
        if name.startswith(ID + "source/"):
            # A source's graph is the set of statements that source makes.
            add(subset, _PROV + "wasQuotedFrom", _n(name))
            add(subset, _DCT + "source", _n(name))
            add(subset, _DCT + "title", ox.Literal("Déclarations d'une source", language="fr"))
            add(subset, _DCT + "title", ox.Literal("Statements of one source", language="en"))
            add(
                subset,
                _DCT + "description",
                ox.Literal(
                    "Les affirmations lues dans la source que nomme sd:name (le nom du graphe est "
                    "l'IRI de la source) ; la source est décrite (titre, éditeur, date) dans ces "
                    "métadonnées.",
                    language="fr",
                ),
            )
            add(
                subset,
                _DCT + "description",
                ox.Literal(
                    "The statements read in the source named by sd:name (the graph's name is the "
                    "source's IRI); the source is described by dcterms:title, dcterms:publisher, "
                    "dcterms:issued in this metadata.",
                    language="en",
                ),
            )
        partitions(subset, classes.get(name, []), props.get(name, []))
    return out


def describe_build(store: ox.Store) -> dict[str, float]:
    """Add the entailments and the VoID description to ``store``; seconds spent per step."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    # Read whole before loading: the query must not see what is being added.
    entailed = list(entailments(store))
    for start_at in range(0, len(entailed), _BATCH):
        store.bulk_extend(entailed[start_at : start_at + _BATCH])
    store.bulk_extend(entailment_metadata())
    times["entail"] = time.perf_counter() - start
    start = time.perf_counter()
    store.bulk_extend(void_quads(store))
    times["void"] = time.perf_counter() - start
    return times
