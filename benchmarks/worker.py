"""One engine at one size, in a process of its own: build, export, then every catalogue query.

Run by :mod:`benchmarks.run` as ``python -m benchmarks.worker SPEC.json``; it writes its figures
to ``SPEC["out"]``. A process per measurement is what makes peak memory meaningful (the parent
reads this process's ``ru_maxrss`` when it exits) and keeps one engine's caches and garbage from
flattering or penalising the next.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import resource
import statistics
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from cmq_graph import catalog
from cmq_graph.errors import QueryError
from cmq_graph.store import GraphStore

from .engines import RdflibStore, Timeout, deadline

MAX_SAVED_ROWS = 200_000  # answers kept on disk for diffing engines; bigger ones keep only a digest


def _quiet(_message: str) -> None:
    pass


def du(path: Path) -> int:
    """Bytes of the files under ``path`` (the store's footprint on disk)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def max_rss_kib() -> int:
    """This process's peak RSS so far: taken after the build and export, it is the memory of
    making and holding the graph, before the queries' answers (whose size differs by engine,
    as does which queries an engine's budget lets run) add theirs."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def drain(cap: float = 120.0) -> float:
    """Wait for the query threads a timeout left running (Oxigraph cannot be interrupted: one
    with ORDER BY or GROUP BY runs to its end), so that they do not share the CPU with the next
    query's measurement. Returns the seconds waited (they count in the query budget)."""
    start = time.perf_counter()
    for thread in threading.enumerate():
        if thread.name == "cmq-graph-query":
            thread.join(max(0.0, cap - (time.perf_counter() - start)))
    return time.perf_counter() - start


def run_queries(store: GraphStore, spec: dict[str, Any], tag: str = "") -> dict[str, Any]:
    """Cold run (first after opening) then warm repeats of every planned query, with answers hashed.

    A query that overruns ``timeout`` on its cold run is not repeated; after one warm run, warm
    repeats stop when they would exceed ``query_budget`` seconds in all. Queries run in the
    plan's order; once ``total_query_budget`` is spent the rest are listed as not run.
    """
    queries = catalog.catalogue(Path(spec["queries_dir"]) if spec.get("queries_dir") else None)
    out: dict[str, Any] = {}
    timeout = spec.get("timeout") or None
    total_budget = spec.get("total_query_budget") or float("inf")
    began = time.perf_counter()
    for item in spec["plan"]:
        name, params = item["name"], item.get("params") or {}
        q = queries[name]
        # The text as this engine ran it: a query file edited during a run is not one question.
        entry: dict[str, Any] = {"params": params, "text": hashlib.sha256(q.text.encode()).hexdigest()[:12]}
        if item.get("carried"):
            entry.update(error=item["carried"], timeout=True, carried=True)
            out[name] = entry
            continue
        if time.perf_counter() - began > total_budget:
            entry["error"] = f"not run: this engine's {total_budget:.0f} s query budget is spent"
            entry["skipped"] = True
            out[name] = entry
            continue
        try:
            start = time.perf_counter()
            with deadline(timeout):
                result = catalog.run(store, q, params, timeout=timeout)
            entry["cold"] = time.perf_counter() - start
            comparable = catalog.comparable(result)
            rows = comparable[2] if comparable[0] == "select" else comparable[1]
            entry["rows"] = len(rows) if isinstance(rows, list) else int(bool(rows))
            entry["digest"] = hashlib.sha256(repr(comparable).encode()).hexdigest()[:16]
            # The whole canonical answer beside the figures, for the harness to diff engines.
            answers = Path(spec["work"]) / f"answers{tag}"
            answers.mkdir(parents=True, exist_ok=True)
            if entry["rows"] <= MAX_SAVED_ROWS:
                (answers / f"{name}.json").write_text(
                    json.dumps(rows if isinstance(rows, list) else [[rows]])
                )
            del result, comparable
            warm: list[float] = []
            budget = spec.get("query_budget", 60.0)
            spent = 0.0
            for _ in range(spec.get("repeats", 5)):
                # At least one warm run; more while they fit in the query's budget.
                if warm and spent + warm[-1] > budget:
                    break
                start = time.perf_counter()
                with deadline(timeout):
                    catalog.run(store, q, params, timeout=timeout)
                warm.append(time.perf_counter() - start)
                spent += warm[-1]
            entry["warm"] = warm
            entry["median"] = statistics.median(warm) if warm else entry["cold"]
        except Timeout as exc:
            entry["error"] = f"timeout ({exc})"
            entry["timeout"] = True
            entry["drained"] = drain()
        except QueryError as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"[:500]
            if "timed out" in str(exc):  # the embedded store's own deadline
                entry["timeout"] = True
                entry["drained"] = drain()
        except Exception as exc:  # one failing query must not lose the others' figures
            entry["error"] = f"{type(exc).__name__}: {exc}"[:500]
        out[name] = entry
        gc.collect()
    return out


def cmq(spec: dict[str, Any]) -> dict[str, Any]:
    """cmq-graph: :func:`cmq_graph.build.build`, its export, and the catalogue on its store."""
    from cmq_graph.build import build
    from cmq_graph.export import export
    from cmq_graph.store import EmbeddedStore, current_generation

    work = Path(spec["work"])
    root = work / "store"
    start = time.perf_counter()
    report = build(Path(spec["data"]), Path(spec["ontology"]), root, validate=spec["validate"], say=_quiet)
    total = time.perf_counter() - start
    st = report.stages
    stages = {
        "map": st.get("read ontology", 0.0) + st.get("map tables", 0.0),
        "validate": st.get("validate"),
        "load": st.get("load", 0.0),
    }
    # What build() does outside its named stages (counting the distinct triples of the store).
    stages["other"] = total - sum(v for v in stages.values() if v)
    gen = current_generation(root)
    assert gen is not None
    result: dict[str, Any] = {
        "triples": report.triples,
        "quads": report.quads,
        "rows": sum(report.rows.values()),
    }
    result["store_bytes"] = du(gen)
    with EmbeddedStore.open(root) as store:
        dump = work / "export.nt"
        start = time.perf_counter()
        with dump.open("wb") as fh:
            export(store, "nt", fh)
        stages["export"] = time.perf_counter() - start
        result["export_bytes"] = dump.stat().st_size
        dump.unlink()
    result["stages"] = stages
    result["build_total"] = total
    result["load_rate"] = report.quads / stages["load"] if stages["load"] else None
    result["build_peak_rss_kib"] = max_rss_kib()
    # The product's read path: the on-disk store, read-only (cmq-graph query).
    with EmbeddedStore.open(root) as store:
        result["queries"] = run_queries(store, spec)
    return result


def cmq_in_memory(spec: dict[str, Any]) -> dict[str, Any]:
    """The catalogue on cmq-graph's store copied into memory, in a process of its own so that
    the copy's memory is not booked to the build's peak."""
    from cmq_graph.store import EmbeddedStore

    start = time.perf_counter()
    with EmbeddedStore.open(Path(spec["store_root"]), in_memory=True) as store:
        opened = time.perf_counter() - start
        return {"in_memory_open": opened, "queries": run_queries(store, spec, "-mem")}


def rdflib_engine(spec: dict[str, Any]) -> dict[str, Any]:
    """rdflib + pySHACL: map into an in-memory Dataset, validate the union, query with rdflib."""
    from pyshacl import validate as shacl_validate
    from rdflib import Dataset, Graph, URIRef

    from cmq_graph.namespaces import ONTOLOGY_GRAPH, SHAPES_GRAPH, VOCAB_GRAPH

    from .naive import describe, map_into, union_of_sources

    ds = Dataset(default_union=True)
    stages: dict[str, float | None] = {}
    start = time.perf_counter()
    rows = map_into(ds, Path(spec["data"]), Path(spec["ontology"]))
    stages["map"] = time.perf_counter() - start
    stages["validate"] = None
    if spec["validate"]:
        # pySHACL at its fastest with the same verdict (benchmarks/README.md, profiling): the
        # ontology and vocabularies merged into the data graph by us, no inference (SHACL follows
        # rdfs:subClassOf in the data graph). ont_graph + RDFS inference is 2.1x slower.
        start = time.perf_counter()
        data = union_of_sources(ds)
        for g in (ONTOLOGY_GRAPH, VOCAB_GRAPH):
            for t in ds.graph(URIRef(g)):
                data.add(t)
        # pySHACL adds RDFS axioms to the shapes graph it is given (owl:Class subClassOf
        # rdfs:Class...): hand it a copy, or the dataset gains triples cmq-graph never emits.
        shapes = Graph()
        for t in ds.graph(URIRef(SHAPES_GRAPH)):
            shapes.add(t)
        conforms, _, text = shacl_validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
        stages["validate"] = time.perf_counter() - start
        del data
        if not conforms:
            raise RuntimeError(f"pySHACL says the graph does not conform:\n{text[:2000]}")
    # What the build adds for publication, as cmq-graph's build does after validating.
    start = time.perf_counter()
    describe(ds)
    stages["describe"] = time.perf_counter() - start
    triples = len(set(ds.triples((None, None, None))))
    quads = len(ds)
    # The in-memory graph *is* the store: mapping filled it, there is no separate load.
    stages["load"] = None
    work = Path(spec["work"])
    dump = work / "export.nt"
    start = time.perf_counter()
    with dump.open("wb") as fh:
        # N-Quads: rdflib's N-Triples writer would only see the (empty) default graph.
        ds.serialize(destination=fh, format="nquads")
    stages["export"] = time.perf_counter() - start
    export_bytes = dump.stat().st_size
    dump.unlink()
    result: dict[str, Any] = {
        "triples": triples,
        "quads": quads,
        "rows": rows,
        "stages": stages,
        "build_total": sum(v for k, v in stages.items() if v and k != "export"),
        "load_rate": quads / stages["map"] if stages["map"] else None,
        "store_bytes": None,
        "export_bytes": export_bytes,
    }
    result["build_peak_rss_kib"] = max_rss_kib()
    result["queries"] = run_queries(RdflibStore(ds), spec)
    return result


def virtuoso(spec: dict[str, Any]) -> dict[str, Any]:
    """Virtuoso on loopback, loaded with cmq-graph's publish, queried over the SPARQL protocol."""
    from .virtuoso_engine import load_and_open

    stages: dict[str, float | None] = {"map": None, "validate": None}
    start = time.perf_counter()
    store, info = load_and_open(spec)
    stages["load"] = time.perf_counter() - start
    stages["export"] = None
    result: dict[str, Any] = {
        "triples": info.get("triples"),
        "quads": info.get("quads"),
        "stages": stages,
        "build_total": stages["load"],
        "load_rate": info["quads"] / stages["load"] if info.get("quads") and stages["load"] else None,
        "store_bytes": None,
        "load_method": info.get("method"),
    }
    try:
        result["queries"] = run_queries(store, spec)
    finally:
        with contextlib.suppress(Exception):
            store.close()
    return result


ENGINES = {"cmq": cmq, "cmq-mem": cmq_in_memory, "rdflib": rdflib_engine, "virtuoso": virtuoso}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    out = Path(spec["out"])
    try:
        result = ENGINES[spec["engine"]](spec)
        result["ok"] = True
    except Exception as exc:
        result = {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}"[:4000],
            "trace": traceback.format_exc(),
        }
    out.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
