"""Export round-trips: each format parses back (rdflib) to a graph isomorphic to the store's."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from cmq_graph.build import build
from cmq_graph.cli import main
from cmq_graph.export import FORMATS, export
from cmq_graph.store import EmbeddedStore, to_rdflib

MINI = Path(__file__).parent / "fixtures" / "mini"
RDFLIB_FORMAT = {
    "ttl": "turtle",
    "nt": "nt",
    "jsonld": "json-ld",
    "xml": "xml",
    "trig": "trig",
    "nq": "nquads",
}


@pytest.fixture(scope="module")
def mini_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export") / "store"
    build(MINI / "data", MINI / "ontology", root, say=lambda _m: None)
    return root


def _expected(store_root: Path) -> tuple[Graph, dict[str, Graph]]:
    union = Graph()
    graphs: dict[str, Graph] = {}
    with EmbeddedStore.open(store_root) as store:
        for q in store.quads():
            triple = (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object))
            union.add(triple)
            graphs.setdefault(q.graph_name.value, Graph()).add(triple)
    return union, graphs


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_round_trips(mini_store: Path, fmt: str) -> None:
    union, graphs = _expected(mini_store)
    assert len(union) > 50 and len(graphs) >= 4
    out = io.BytesIO()
    with EmbeddedStore.open(mini_store) as store:
        export(store, fmt, out)
    data = out.getvalue().decode("utf-8")
    if FORMATS[fmt][1]:
        ds = Dataset()
        ds.parse(data=data, format=RDFLIB_FORMAT[fmt])
        got = {str(g.identifier): g for g in ds.graphs() if len(g)}
        assert set(got) == set(graphs)
        for name, graph in graphs.items():
            assert isomorphic(got[name], graph), name
    else:
        parsed = Graph().parse(data=data, format=RDFLIB_FORMAT[fmt])
        assert isomorphic(parsed, union)


def test_export_cli_writes_a_file(mini_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.nt"
    assert main(["export", "--store", str(mini_store), "--format", "nt", "-o", str(target)]) == 0
    graph = Graph().parse(target, format="nt")
    assert (URIRef("https://w3id.org/cmq/id/campus/c1"), None, None) in graph


def test_failed_build_keeps_previous_graph_readable(mini_store: Path, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(MINI, project)
    shutil.copytree(mini_store, project / "store", symlinks=True)
    before, _ = _expected(project / "store")
    (project / "data" / "sources.csv").write_text("id,title\n")  # every row now cites an unknown source
    assert (
        main(
            [
                "build",
                "--data",
                str(project / "data"),
                "--ontology",
                str(project / "ontology"),
                "--store",
                str(project / "store"),
            ]
        )
        == 2
    )
    after, _ = _expected(project / "store")
    assert isomorphic(before, after)
    assert len([p for p in (project / "store" / "generations").iterdir() if p.is_dir()]) == 1
