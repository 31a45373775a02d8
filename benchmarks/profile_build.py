"""Where the build's time goes, and what the alternatives would cost (evidence for core changes).

    .venv/bin/python -m benchmarks.profile_build --triples 100000 [--validation-timeout 300]

Maps a synthetic folder with :mod:`cmq_graph.mapping`, then times, each on its own:

* loading: Oxigraph on disk (``bulk_extend``, what ``store.write_generation`` does) against an
  in-memory store;
* counting distinct triples, as ``build()`` does after the load (a Python set over the on-disk
  store) against one SPARQL ``COUNT`` over ``SELECT DISTINCT`` and a set over the mapped quads;
* validation: pySHACL as ``validate.check`` calls it (ontology graph handed over, mixed into the
  data by pySHACL, RDFS inference) against the data and the ontology merged by us into one graph
  with no inference (SHACL's class targets follow ``rdfs:subClassOf`` in the data graph already),
  and, per shape, against the number of focus nodes.

Each validation variant runs in a subprocess with a timeout, so a pathological case is reported
as such ("> N s") instead of hanging the study. Writes ``benchmarks/results/profile-{size}.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from cmq_graph import paths
from cmq_graph.mapping import map_tables
from cmq_graph.namespaces import ONTOLOGY_GRAPH, SHAPES_GRAPH, VOCAB_GRAPH
from cmq_graph.synth import SynthConfig, campuses_for_triples, write
from cmq_graph.validate import to_graph
from cmq_graph.vocabulary import load_ontology

from .run import RESULTS, WORK


def _rss_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _validate(variant: str, data_dir: str, ontology_dir: str, queue: mp.Queue) -> None:
    """One validation variant, in a child process; puts (seconds by step, conforms, results)."""
    from pyshacl import validate

    onto = load_ontology(Path(ontology_dir), [])
    mapped = map_tables(Path(data_dir), onto)
    steps: dict[str, float] = {}
    start = time.perf_counter()
    data = to_graph(mapped.quads)
    shapes = to_graph(onto.graph_quads(SHAPES_GRAPH))
    ontology = to_graph(onto.graph_quads(ONTOLOGY_GRAPH) + onto.graph_quads(VOCAB_GRAPH))
    steps["rdflib graphs (N-Triples round trip)"] = time.perf_counter() - start
    start = time.perf_counter()
    if variant == "as build() does: ont_graph + RDFS inference":
        conforms, report, _ = validate(
            data, shacl_graph=shapes, ont_graph=ontology, inference="rdfs", allow_warnings=True
        )
    elif variant == "ont_graph, no inference":
        conforms, report, _ = validate(
            data, shacl_graph=shapes, ont_graph=ontology, inference="none", allow_warnings=True
        )
    else:  # merged by us, no inference
        for t in ontology:
            data.add(t)
        steps["merge ontology into data"] = time.perf_counter() - start
        start = time.perf_counter()
        conforms, report, _ = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    steps["pySHACL"] = time.perf_counter() - start
    results = len(list(report.subjects(predicate=None, object=None))) if not conforms else 0
    queue.put({"steps": steps, "conforms": bool(conforms), "report_nodes": results, "rss_mib": _rss_mib()})


VARIANTS = (
    "as build() does: ont_graph + RDFS inference",
    "ont_graph, no inference",
    "ontology merged into the data graph, no inference",
)


def study(triples: int, ontology_dir: Path, timeout: float) -> dict[str, Any]:
    folder = WORK / f"profile-{triples}"
    if not (folder / "sources.csv").exists():
        write(folder, SynthConfig(campuses=campuses_for_triples(triples)))
    out: dict[str, Any] = {"triples_target": triples}
    onto = load_ontology(ontology_dir, [])
    start = time.perf_counter()
    mapped = map_tables(folder, onto)
    out["map"] = time.perf_counter() - start
    quads = onto.quads + mapped.quads
    out["quads"] = len(quads)
    out["rss_after_map_mib"] = _rss_mib()

    disk = WORK / f"profile-{triples}-store"
    shutil.rmtree(disk, ignore_errors=True)
    store = ox.Store(str(disk))
    start = time.perf_counter()
    store.bulk_extend(quads)
    store.flush()
    store.optimize()
    out["load_disk"] = time.perf_counter() - start
    del store
    start = time.perf_counter()
    mem = ox.Store()
    mem.bulk_extend(quads)
    out["load_memory"] = time.perf_counter() - start
    del mem
    out["rss_after_loads_mib"] = _rss_mib()

    reader = ox.Store.read_only(str(disk))
    start = time.perf_counter()
    out["distinct_python_set_on_disk_store"] = len({(q.subject, q.predicate, q.object) for q in reader})
    out["count_python_set_disk"] = time.perf_counter() - start
    start = time.perf_counter()
    q = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
    out["distinct_sparql"] = int(next(iter(reader.query(q)))[0].value)
    out["count_sparql"] = time.perf_counter() - start
    start = time.perf_counter()
    out["distinct_python_set_mapped"] = len({(q.subject, q.predicate, q.object) for q in quads})
    out["count_python_set_mapped"] = time.perf_counter() - start
    del reader
    shutil.rmtree(disk, ignore_errors=True)

    out["validation"] = {}
    ctx = mp.get_context("fork")
    for variant in VARIANTS:
        queue: mp.Queue = ctx.Queue()
        proc = ctx.Process(target=_validate, args=(variant, str(folder), str(ontology_dir), queue))
        start = time.perf_counter()
        proc.start()
        proc.join(timeout)
        if proc.is_alive():
            proc.kill()
            proc.join()
            out["validation"][variant] = {"timeout": timeout}
        else:
            result = queue.get(timeout=10) if not queue.empty() else {"error": f"exit {proc.exitcode}"}
            result["wall"] = time.perf_counter() - start
            out["validation"][variant] = result
        print(variant, out["validation"][variant], file=sys.stderr, flush=True)
    return out


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# Build profile at {r['quads']:,} quads",
        "",
        "| step | seconds | note |",
        "|---|---:|---|",
        f"| map tables | {r['map']:.1f} | peak RSS after mapping {r['rss_after_map_mib']} MiB |",
        f"| load: Oxigraph on disk (bulk_extend + optimize) | {r['load_disk']:.1f} | what build() does |",
        f"| load: Oxigraph in memory | {r['load_memory']:.1f} | |",
        f"| distinct triples: Python set over the on-disk store | {r['count_python_set_disk']:.1f} "
        "| what build() does after the load |",
        f"| distinct triples: SPARQL COUNT(DISTINCT) on the store | {r['count_sparql']:.1f} | same number: "
        f"{r['distinct_sparql'] == r['distinct_python_set_on_disk_store']} |",
        f"| distinct triples: Python set over the mapped quads | {r['count_python_set_mapped']:.1f} | |",
    ]
    for variant, v in r["validation"].items():
        if "timeout" in v:
            lines.append(f"| validate, {variant} | > {v['timeout']:.0f} | did not finish |")
        elif "error" in v:
            lines.append(f"| validate, {variant} | — | {v['error']} |")
        else:
            detail = ", ".join(f"{k} {s:.1f} s" for k, s in v["steps"].items())
            lines.append(
                f"| validate, {variant} | {v['wall']:.1f} | {detail}; conforms {v['conforms']}; "
                f"peak {v['rss_mib']} MiB |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profile_build")
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--ontology", type=Path, default=paths.ONTOLOGY_DIR)
    ap.add_argument("--validation-timeout", type=float, default=300)
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    r = study(args.triples, args.ontology, args.validation_timeout)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"profile-{args.triples // 1000}k"
    (RESULTS / f"{name}.json").write_text(json.dumps(r, indent=1))
    (RESULTS / f"{name}.md").write_text(markdown(r))
    print(markdown(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
