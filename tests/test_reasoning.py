"""Reasoners over the ontology and the built graph: the model must be consistent, and OWL 2 DL.

An OWL RL closure (owlrl) over ontology + vocabularies + every source's graph must report no
inconsistency (a member of two disjoint classes, e.g. a seat typed as an organisation) and put
nothing in ``owl:Nothing``. HermiT (through owlready2, needs Java) must accept the ontology: it
refuses what is outside OWL 2 DL's datatype map or mixes annotation and data properties.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import OWL, RDF

from cmq_graph import paths
from cmq_graph.namespaces import SHAPES_GRAPH
from cmq_graph.store import EmbeddedStore, to_rdflib

IN_CI = os.environ.get("CI") == "true"
ERROR = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")


def _graph(store: EmbeddedStore) -> Graph:
    """Every graph of the built store but the shapes, merged (the reasoner's input)."""
    g = Graph()
    for q in store.quads():
        if q.graph_name is not None and getattr(q.graph_name, "value", None) == SHAPES_GRAPH:
            continue
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g


def _owlrl_errors(g: Graph) -> tuple[list[str], list[str]]:
    import owlrl

    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    errors = sorted(str(o) for o in g.objects(None, ERROR))
    nothing = sorted(str(s) for s in g.subjects(RDF.type, OWL.Nothing) if not isinstance(s, BNode))
    return errors, nothing


def _disjointness(errors: list[str]) -> list[str]:
    return [e for e in errors if "disjoint" in e.lower()]


def test_owl_rl_finds_no_clash_in_the_built_graph(store: EmbeddedStore) -> None:
    errors, nothing = _owlrl_errors(_graph(store))
    assert _disjointness(errors) == []
    assert nothing == []


def test_owl_rl_finds_a_crafted_clash(store: EmbeddedStore) -> None:
    """The check can fail: a seat also typed as an organisation is a disjointness clash."""
    g = _graph(store)
    seat = next(g.subjects(RDF.type, URIRef("https://w3id.org/cmq/def#Seat")))
    g.add((seat, RDF.type, URIRef("http://www.w3.org/ns/org#Organization")))
    errors, _ = _owlrl_errors(g)
    assert any(str(seat) in e for e in _disjointness(errors)), errors


def test_no_seat_or_step_is_typed_from_the_kinds_it_describes(store: EmbeddedStore) -> None:
    rows = store.query(
        """SELECT ?s ?t WHERE {
          VALUES ?c { <https://w3id.org/cmq/def#Seat> <https://w3id.org/cmq/def#ProcedureStep> }
          ?s a ?c ; a ?t . FILTER(?t != ?c)
        }"""
    ).rows
    assert rows == []


HERMIT = r"""
import sys
import owlready2
owlready2.JAVA_EXE = sys.argv[2]
world = owlready2.World()
onto = world.get_ontology("file://" + sys.argv[1]).load()
with onto:
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
print("INCONSISTENT" if list(world.inconsistent_classes()) else "OK")
"""


def _java() -> str:
    found = shutil.which("java")
    if not found:
        message = "java is not installed (scripts/system-deps.sh installs default-jre-headless)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _owlready2() -> None:
    try:
        import owlready2  # noqa: F401
    except ImportError:
        message = "owlready2 is not installed (pip install -e '.[test]')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _ontology_file(tmp_path: Path) -> Path:
    """Ontology and vocabularies in one RDF/XML file (what owlready2 reads best)."""
    g = Graph().parse(paths.ONTOLOGY_DIR / "cmq.ttl", format="turtle")
    for f in sorted((paths.ONTOLOGY_DIR / "vocabularies").glob("*.ttl")):
        g.parse(f, format="turtle")
    out = tmp_path / "cmq.owl"
    g.serialize(out, format="xml")
    return out


def _hermit(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HERMIT, str(path), _java()], capture_output=True, text=True, timeout=300
    )


def test_hermit_accepts_the_ontology(tmp_path: Path) -> None:
    _owlready2()
    done = _hermit(_ontology_file(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("OK"), done.stdout + done.stderr[-3000:]


def test_hermit_refuses_a_datatype_outside_owl2(tmp_path: Path) -> None:
    """The check can fail: a property ranging over an undeclared custom datatype is refused."""
    _owlready2()
    path = _ontology_file(tmp_path)
    g = Graph().parse(path, format="xml")
    bad = URIRef("https://w3id.org/cmq/def#badDatatype")
    g.add((bad, RDF.type, URIRef("http://www.w3.org/2000/01/rdf-schema#Datatype")))
    prop = URIRef("https://w3id.org/cmq/def#badDate")
    g.add((prop, RDF.type, OWL.DatatypeProperty))
    g.add((prop, URIRef("http://www.w3.org/2000/01/rdf-schema#range"), bad))
    g.serialize(path, format="xml")
    done = _hermit(path)
    assert done.returncode != 0 or not done.stdout.strip().endswith("OK")
