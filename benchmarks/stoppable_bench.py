"""What running embedded queries in a killable worker process costs, against running them in
this process (the same graph, the same engine): a small query's round trip, a large answer's
transfer, and the catalogue.

    python -m benchmarks.stoppable_bench --store STORE [--repeat 3] [--out FILE.json]

Both sides are in-memory Oxigraph stores with the union materialised: the worker's (the store
opened with ``open_store``) and a copy in this process (``EmbeddedStore.from_quads``, which
answers in-process). Medians of ``--repeat`` runs after one warm run, interleaved.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from cmq_graph import catalog
from cmq_graph.api import open_store
from cmq_graph.errors import QueryError
from cmq_graph.store import EmbeddedStore

SMALL = "SELECT ?l WHERE { ?s a cmq:Campus ; rdfs:label ?l } LIMIT 1"
LARGE = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


def timed(store: EmbeddedStore, text: str, timeout: float = 60) -> tuple[float, int]:
    start = time.perf_counter()
    result = catalog.run(store, text, timeout=timeout)
    return time.perf_counter() - start, len(result.rows) if result.kind == "select" else 0


def compare(worker: EmbeddedStore, local: EmbeddedStore, text: str, repeat: int) -> dict:
    times: dict[str, list[float]] = {"worker": [], "in_process": []}
    rows = 0
    for store in (worker, local):  # warm
        timed(store, text)
    for _ in range(repeat):
        for name, store in (("worker", worker), ("in_process", local)):
            seconds, rows = timed(store, text)
            times[name].append(seconds)
    w, p = statistics.median(times["worker"]), statistics.median(times["in_process"])
    return {"rows": rows, "worker_s": w, "in_process_s": p, "ratio": w / p if p else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    worker = open_store(args.store, in_memory=True)
    local = EmbeddedStore.from_quads(worker.quads())
    report: dict = {"store": str(args.store), "triples": len(list(worker.triples()))}
    small: dict[str, list[float]] = {"worker": [], "in_process": []}
    for _ in range(200):  # interleaved; medians, since a loaded machine delays some wake-ups
        for name, store in (("worker", worker), ("in_process", local)):
            start = time.perf_counter()
            catalog.run(store, SMALL)
            small[name].append(time.perf_counter() - start)
    report["small_query_ms_worker"] = statistics.median(small["worker"]) * 1000
    report["small_query_ms_in_process"] = statistics.median(small["in_process"]) * 1000
    report["large_answer"] = compare(worker, local, LARGE, args.repeat)
    report["catalogue"] = {}
    for name, q in catalog.catalogue().items():
        if any(p.required for p in q.params):
            continue
        try:
            report["catalogue"][name] = compare(worker, local, q.text, args.repeat)
        except QueryError as exc:
            report["catalogue"][name] = {"error": str(exc)}
    cat = [v for v in report["catalogue"].values() if "worker_s" in v]
    report["catalogue_total_worker_s"] = sum(v["worker_s"] for v in cat)
    report["catalogue_total_in_process_s"] = sum(v["in_process_s"] for v in cat)
    worker.close()
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
