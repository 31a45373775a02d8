"""The naive pipeline a user would write with the design card's packages: rdflib all the way.

CSV rows become rdflib terms added one by one to an in-memory ``rdflib.Dataset`` (one named graph
per source, like cmq-graph), the union is validated by pySHACL (by :mod:`benchmarks.worker`, in
its fastest form that gives the same verdict: the ontology merged into the data graph, no
inference), and queries run on rdflib's own SPARQL engine over the union of the graphs. It follows the tables'
contract (:mod:`cmq_graph.tables`) so that it emits the very triples cmq-graph emits; the harness
checks that (same triple count, same answers) before comparing any time. It does no error
reporting: the benchmark feeds it data that cmq-graph has already accepted.
"""

from __future__ import annotations

import csv
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import FOAF, RDF, SKOS, XSD

from cmq_graph.mapping import DATE, agent_slug
from cmq_graph.namespaces import (
    GEO,
    META_GRAPH,
    ONTOLOGY_GRAPH,
    SHAPES_GRAPH,
    VOCAB,
    VOCAB_GRAPH,
    entity_iri,
    source_iri,
)
from cmq_graph.tables import MULTI_SEPARATOR, TABLES, Table

ENTITY_CLASS = URIRef(VOCAB.rsplit("vocab/", 1)[0] + "def#entityClass")


def load_ontology(dataset: Dataset, ontology_dir: Path) -> dict[str, dict[str, tuple[URIRef, URIRef | None]]]:
    """Parse the ontology files into their graphs; return scheme -> code -> (concept, class)."""
    files = [(ontology_dir / "cmq.ttl", ONTOLOGY_GRAPH), (ontology_dir / "shapes.ttl", SHAPES_GRAPH)]
    files += [(p, VOCAB_GRAPH) for p in sorted((ontology_dir / "vocabularies").glob("*.ttl"))]
    for path, graph in files:
        dataset.graph(URIRef(graph)).parse(path, format="turtle")
    vocab = dataset.graph(URIRef(VOCAB_GRAPH))
    schemes: dict[str, dict[str, tuple[URIRef, URIRef | None]]] = {}
    for concept, scheme in vocab.subject_objects(SKOS.inScheme):
        s, c = str(scheme), str(concept)
        if not s.startswith(VOCAB) or not c.startswith(s + "/"):
            continue
        cls = vocab.value(concept, ENTITY_CLASS)
        schemes.setdefault(s[len(VOCAB) :], {})[c[len(s) + 1 :]] = (concept, cls)  # type: ignore[assignment]
    return schemes


def _date(value: str) -> Literal:
    _, month, day = DATE.match(value).groups()  # type: ignore[union-attr]
    dt = XSD.date if day else XSD.gYearMonth if month else XSD.gYear
    return Literal(value, datatype=dt)


def map_into(dataset: Dataset, data_dir: Path, ontology_dir: Path) -> int:
    """Map every table of ``data_dir`` into ``dataset``; return the number of rows read."""
    schemes = load_ontology(dataset, ontology_dir)
    rows: dict[str, list[dict[str, str]]] = {}
    for table in TABLES:
        path = data_dir / table.file
        if path.exists():
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows[table.name] = [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh)]
    ids = {name: {r["id"] for r in rs} for name, rs in rows.items()}
    paths = {t.name: t.path for t in TABLES}
    graphs: dict[str, Graph] = {}
    count = 0
    for table in TABLES:
        for row in rows.get(table.name, []):
            count += 1
            name = source_iri(row["source"]) if table.sourced else META_GRAPH
            if name not in graphs:
                graphs[name] = dataset.graph(URIRef(name))
            _map_row(graphs[name], table, row, ids, paths, schemes)
    return count


def _map_row(
    graph: Graph,
    table: Table,
    row: dict[str, str],
    ids: dict[str, set[str]],
    paths: dict[str, str],
    schemes: dict[str, dict[str, tuple[URIRef, URIRef | None]]],
) -> None:
    subject = URIRef(entity_iri(table.path, row["id"]))
    if table.rdf_type is not None:
        graph.add((subject, RDF.type, table.rdf_type))
    for extra in table.extra_types:
        graph.add((subject, RDF.type, extra))
    for row_type in {c.row_type for c in table.columns if c.row_type is not None and row.get(c.name)}:
        graph.add((subject, RDF.type, row_type))
    for const_p, const_o in table.constants:
        graph.add((subject, const_p, const_o))
    for col in table.columns:
        raw = row.get(col.name, "")
        if not raw:
            continue
        for value in [v.strip() for v in raw.split(MULTI_SEPARATOR)] if col.multi else [raw]:
            obj: URIRef | Literal
            if col.kind == "text":
                obj = Literal(value, lang=col.lang)
            elif col.kind == "date":
                obj = _date(value)
            elif col.kind == "int":
                obj = Literal(str(int(value)), datatype=XSD.integer)
            elif col.kind == "decimal":
                obj = Literal(value, datatype=XSD.decimal)
            elif col.kind in ("iri", "code"):
                obj = URIRef(value) if col.kind == "iri" or value.startswith("http") else Literal(value)
            elif col.kind == "enum":
                obj = Literal(value)
            elif col.kind == "agent":
                # A named agent (a source's publisher), as cmq_graph.mapping.map_agent makes it.
                obj = URIRef(entity_iri("agent", agent_slug(value)))
                graph.add((obj, RDF.type, FOAF.Agent))
                graph.add((obj, FOAF.name, Literal(value)))
            elif col.kind == "ref":
                target = next(t for t in col.targets if value in ids.get(t, ()))
                obj = URIRef(entity_iri(paths[target], value))
            else:  # concept
                concept, cls = next(schemes[s][value] for s in col.targets if value in schemes.get(s, {}))
                obj = concept
                if cls is not None and col.entity_type:  # only a row's own kind types it
                    graph.add((subject, RDF.type, cls))
            if col.predicate is not None:
                graph.add((subject, col.predicate, obj))
            for also in col.also:
                graph.add((subject, also, obj))
    if table.geometry and row.get("latitude"):
        geom = URIRef(str(subject) + "#geometry")
        graph.add((subject, GEO.hasGeometry, geom))
        graph.add((geom, RDF.type, GEO.Geometry))
        wkt = f"POINT({row['longitude']} {row['latitude']})"
        graph.add((geom, GEO.asWKT, Literal(wkt, datatype=GEO.wktLiteral)))


def union_of_sources(dataset: Dataset) -> Graph:
    """Every source graph's triples in one graph, which is what the shapes are checked against."""
    data = Graph()
    skip = {URIRef(g) for g in (ONTOLOGY_GRAPH, SHAPES_GRAPH, VOCAB_GRAPH)}
    for s, p, o, g in dataset.quads((None, None, None, None)):
        if g not in skip:
            data.add((s, p, o))
    return data


def describe(dataset: Dataset) -> int:
    """Add what cmq-graph's build adds for publication (the entailed super-types and the VoID
    description, :func:`cmq_graph.web.void.describe_build`) and return how many quads it added.

    Computed by the same code on an Oxigraph copy of the dataset, so that both pipelines hold
    the same graph; rdflib's own SPARQL would be slower, so this stage favours the baseline.
    """
    import pyoxigraph as ox

    from cmq_graph.web.void import describe_build

    store = ox.Store()
    nquads = dataset.serialize(format="nquads", encoding="utf-8")
    store.bulk_extend(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    before = set(store.quads_for_pattern(None, None, None, None))
    describe_build(store)
    added = [q for q in store.quads_for_pattern(None, None, None, None) if q not in before]
    text = "".join(f"{q} .\n" for q in added)
    dataset.parse(data=text, format="nquads")
    return len(added)
