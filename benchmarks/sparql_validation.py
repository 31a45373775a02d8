"""Prototype: the project's SHACL shapes as set-at-a-time SPARQL queries on Oxigraph.

Evidence for a proposal to the owner of ``cmq_graph/validate.py``, not a replacement: pySHACL
walks focus nodes one by one in Python (and re-parses a ``sh:sparql`` text per node), which is
what makes validation the build's bottleneck. Here every constraint of a property shape becomes
*one* query returning only the violating (focus node, value) pairs over all targets at once, run
by Oxigraph on the mapped quads plus the ontology and vocabularies (class targets follow
``rdfs:subClassOf`` as SHACL says, through the ontology's subclass closure computed once).

Covered: ``sh:targetClass`` node shapes; property shapes with an IRI ``sh:path`` and
``sh:minCount``, ``sh:maxCount``, ``sh:datatype``, ``sh:or`` of datatypes, ``sh:class``,
``sh:pattern``, ``sh:hasValue``, ``sh:in``, ``sh:minInclusive``, ``sh:node`` (node shapes made of
such property shapes); ``sh:sparql`` constraints (``$this`` bound to every target). Whatever else
the shapes use is listed as not covered, so the coverage is stated, not assumed.

    .venv/bin/python -m benchmarks.sparql_validation --triples 1000000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF

from cmq_graph import paths
from cmq_graph.mapping import map_tables
from cmq_graph.namespaces import ONTOLOGY_GRAPH, SH, SHAPES_GRAPH
from cmq_graph.synth import SynthConfig, campuses_for_triples, write
from cmq_graph.validate import to_graph
from cmq_graph.vocabulary import load_ontology

from .run import RESULTS, WORK

HANDLED = {
    SH.path,
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH["or"],
    SH["class"],
    SH.pattern,
    SH.hasValue,
    SH["in"],
    SH.minInclusive,
    SH.node,
    SH.name,
    SH.message,
    SH.severity,
    SH.description,
    RDF.type,
    SH.order,
    SH.group,
    SH.flags,
}


def _n3(term: Any) -> str:
    return term.n3()


# Class -> itself and its subclasses, from the ontology (set by main): a VALUES list of classes
# instead of an rdfs:subClassOf* path per node, which Oxigraph evaluates node by node.
SUBCLASSES: dict[URIRef, list[URIRef]] = {}


def _classes(cls: URIRef) -> str:
    return " ".join(_n3(c) for c in SUBCLASSES.get(cls, [cls]))


def _target(cls: URIRef) -> str:
    return f"VALUES ?targetClass {{ {_classes(cls)} }} ?this a ?targetClass ."


def subclass_closure(ontology: Graph) -> dict[URIRef, list[URIRef]]:
    sub = URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf")
    classes = {c for c in ontology.all_nodes() if isinstance(c, URIRef)}
    return {c: sorted(set(ontology.transitive_subjects(sub, c))) for c in classes}


def property_queries(shapes: Graph, ps: Any, target: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(label, query) for each constraint of property shape ``ps``; and what is not covered."""
    path = shapes.value(ps, SH.path)
    uncovered = []
    if not isinstance(path, URIRef):
        return [], [f"{ps}: complex sh:path"]
    p = _n3(path)
    out = []
    for pred, obj in shapes.predicate_objects(ps):
        label = f"{ps.n3(shapes.namespace_manager)} {pred.n3(shapes.namespace_manager)}"
        if pred == SH.minCount:
            n = int(obj)
            out.append(
                (
                    label,
                    f"SELECT ?this WHERE {{ {target} OPTIONAL {{ ?this {p} ?v }} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {n})",
                )
            )
        elif pred == SH.maxCount:
            out.append(
                (
                    label,
                    f"SELECT ?this WHERE {{ {target} ?this {p} ?v }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {int(obj)})",
                )
            )
        elif pred == SH.datatype:
            out.append(
                (
                    label,
                    f"SELECT ?this ?v WHERE {{ {target} ?this {p} ?v . "
                    f"FILTER(!isLiteral(?v) || datatype(?v) != {_n3(obj)}) }}",
                )
            )
        elif pred == SH["or"]:
            members = list(Collection(shapes, obj))
            types = [shapes.value(m, SH.datatype) for m in members]
            if all(types) and all(len(list(shapes.predicates(m))) == 1 for m in members):
                allowed = ", ".join(_n3(t) for t in types)
                out.append(
                    (
                        label,
                        f"SELECT ?this ?v WHERE {{ {target} ?this {p} ?v . "
                        f"FILTER(!isLiteral(?v) || datatype(?v) NOT IN ({allowed})) }}",
                    )
                )
            else:
                uncovered.append(f"{label}: sh:or of other than datatypes")
        elif pred == SH["class"]:
            out.append(
                (
                    label,
                    f"SELECT ?this ?v WHERE {{ {target} ?this {p} ?v . FILTER NOT EXISTS "
                    f"{{ VALUES ?okClass {{ {_classes(obj)} }} ?v a ?okClass }} }}",
                )
            )
        elif pred == SH.pattern:
            flags = shapes.value(ps, SH.flags)
            regex = Literal(str(obj)).n3()
            fl = f", {Literal(str(flags)).n3()}" if flags else ""
            out.append(
                (
                    label,
                    f"SELECT ?this ?v WHERE {{ {target} ?this {p} ?v . "
                    f"FILTER(isBlank(?v) || !REGEX(STR(?v), {regex}{fl})) }}",
                )
            )
        elif pred == SH.hasValue:
            out.append(
                (label, f"SELECT ?this WHERE {{ {target} FILTER NOT EXISTS {{ ?this {p} {_n3(obj)} }} }}")
            )
        elif pred == SH["in"]:
            allowed = ", ".join(_n3(t) for t in Collection(shapes, obj))
            out.append(
                (label, f"SELECT ?this ?v WHERE {{ {target} ?this {p} ?v . FILTER(?v NOT IN ({allowed})) }}")
            )
        elif pred == SH.minInclusive:
            out.append(
                (label, f"SELECT ?this ?v WHERE {{ {target} ?this {p} ?v . FILTER(!(?v >= {_n3(obj)})) }}")
            )
        elif pred == SH.node:
            # A node shape of hasValue property shapes (the vocabulary checks): inline them on ?v.
            inner = []
            for sub in shapes.objects(obj, SH.property):
                sp, hv = shapes.value(sub, SH.path), shapes.value(sub, SH.hasValue)
                if isinstance(sp, URIRef) and hv is not None:
                    inner.append(f"?v {_n3(sp)} {_n3(hv)} .")
                else:
                    uncovered.append(f"{label}: sh:node beyond hasValue")
            if inner:
                out.append(
                    (
                        label,
                        f"SELECT ?this ?v WHERE {{ {target} ?this {p} ?v . "
                        f"FILTER NOT EXISTS {{ {' '.join(inner)} }} }}",
                    )
                )
        elif pred not in HANDLED:
            uncovered.append(f"{label}: {pred}")
    return out, uncovered


def compile_shapes(shapes: Graph) -> tuple[list[tuple[str, str]], list[str]]:
    queries: list[tuple[str, str]] = []
    uncovered: list[str] = []
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        classes = list(shapes.objects(shape, SH.targetClass))
        for cls in classes:
            target = _target(cls)
            for ps in shapes.objects(shape, SH.property):
                q, u = property_queries(shapes, ps, target)
                queries += q
                uncovered += u
            for constraint in shapes.objects(shape, SH.sparql):
                select = str(shapes.value(constraint, SH.select))
                body = select.replace("$this", "?this")
                # Bind ?this to the targets by putting the target pattern in the WHERE group.
                where = body.index("{")
                queries.append((f"{shape} sh:sparql", body[: where + 1] + f" {target} " + body[where + 1 :]))
        other = {p for p in shapes.predicates(shape)} - {
            SH.targetClass,
            SH.property,
            SH.sparql,
            RDF.type,
            SH.name,
            SH.message,
            SH.severity,
            SH.description,
            SH.closed,
            SH.ignoredProperties,
        }
        if classes:
            uncovered += [f"{shape}: {p}" for p in other]
    return queries, uncovered


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.sparql_validation")
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--ontology", type=Path, default=paths.ONTOLOGY_DIR)
    ap.add_argument("--break-rows", action="store_true", help="inject known violations and show them")
    args = ap.parse_args(argv)
    folder = WORK / f"data-sv-{args.triples}"
    if not (folder / "sources.csv").exists():
        write(folder, SynthConfig(campuses=campuses_for_triples(args.triples)))
    onto = load_ontology(args.ontology, [])
    shapes = to_graph(onto.graph_quads(SHAPES_GRAPH))
    start = time.perf_counter()
    SUBCLASSES.update(subclass_closure(to_graph(onto.graph_quads(ONTOLOGY_GRAPH))))
    queries, uncovered = compile_shapes(shapes)
    compile_s = time.perf_counter() - start
    mapped = map_tables(folder, onto)
    store = ox.Store()
    data = [q for q in onto.quads if q.graph_name.value != SHAPES_GRAPH] + mapped.quads
    start = time.perf_counter()
    store.bulk_extend(data)
    load_s = time.perf_counter() - start
    if args.break_rows:
        g = ox.NamedNode("urn:broken")
        m = ox.NamedNode("https://w3id.org/cmq/id/membership/broken")
        store.add(
            ox.Quad(m, ox.NamedNode(str(RDF.type)), ox.NamedNode("http://www.w3.org/ns/org#Membership"), g)
        )
    start = time.perf_counter()
    violations = 0
    slowest: list[tuple[float, str, int]] = []
    for label, text in queries:
        t = time.perf_counter()
        rows = list(store.query(text, use_default_graph_as_union=True))
        slowest.append((time.perf_counter() - t, label, len(rows)))
        violations += len(rows)
        if rows and args.break_rows:
            print(f"  {label}: {len(rows)} e.g. {rows[0]}", file=sys.stderr)
    check_s = time.perf_counter() - start
    slowest.sort(reverse=True)
    lines = [
        f"# SHACL as SPARQL on Oxigraph, {len(data):,} quads",
        "",
        f"{len(queries)} queries compiled from the shapes in {compile_s:.2f} s; data loaded in memory in "
        f"{load_s:.1f} s; all queries run in **{check_s:.1f} s**; {violations} violation rows.",
        "",
        f"Not covered ({len(uncovered)}): " + ("; ".join(sorted(set(uncovered))[:30]) or "nothing"),
        "",
        "Slowest queries: " + "; ".join(f"{label} {s:.2f} s" for s, label, _ in slowest[:5]),
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"sparql-validation-{args.triples // 1000}k.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
