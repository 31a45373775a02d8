"""Where a build's time goes: its stages, then every compiled SHACL check timed on its own.

    .venv/bin/python -m benchmarks.profile_build --triples 1000000 [--top 20]

Writes synthetic tables for the size (:mod:`cmq_graph.synth`, under ``benchmarks/out/``), runs
:func:`cmq_graph.build.build` into a scratch store, then runs each check that the build's
validation runs (:mod:`cmq_graph.shacl_sparql`), one after the other on one thread, on the new
store: the checks that cost most are the ones to rewrite or merge. Writes
``benchmarks/results/profile-{size}.md``.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import pyoxigraph as ox

from cmq_graph import paths, shacl_sparql
from cmq_graph.build import build
from cmq_graph.namespaces import SHAPES_GRAPH
from cmq_graph.store import current_generation
from cmq_graph.synth import SynthConfig, campuses_for_triples, write
from cmq_graph.validate import data_graphs

from .run import RESULTS, WORK


def _label(n: int) -> str:
    return f"{n // 1_000_000}m" if n >= 1_000_000 else f"{n // 1000}k"


def time_checks(root: Path) -> list[tuple[float, int, shacl_sparql.Check]]:
    """(seconds, rows, check) for every compiled check on the (scratch) store's generation."""
    store = ox.Store(str(current_generation(root)))
    name = ox.NamedNode(SHAPES_GRAPH)
    shapes = list(store.quads_for_pattern(None, None, None, name))
    # As the build runs them: before the shapes join the store, on the union of all graphs.
    store.remove_graph(name)
    graphs = data_graphs(store)
    checks = shacl_sparql.compile_shapes(shapes, shacl_sparql.subclass_closure(store, graphs))
    timed = []
    for check in checks:
        start = time.perf_counter()
        rows = sum(1 for _ in store.query(check.query, use_default_graph_as_union=True))
        timed.append((time.perf_counter() - start, rows, check))
    return sorted(timed, key=lambda t: -t[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_build", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--top", type=int, default=20, help="checks listed")
    args = ap.parse_args(argv)

    size = _label(args.triples)
    cfg = SynthConfig(campuses=campuses_for_triples(args.triples), seed=args.seed)
    data = WORK / f"data-{size}-seed{args.seed}"
    if not ((data / ".complete").exists() and (data / ".complete").read_text() == repr(cfg)):
        shutil.rmtree(data, ignore_errors=True)
        write(data, cfg)
        (data / ".complete").write_text(repr(cfg))
    root = WORK / f"profile-{size}"
    shutil.rmtree(root, ignore_errors=True)
    start = time.perf_counter()
    report = build(data, paths.ONTOLOGY_DIR, root, say=lambda _m: None)
    total = time.perf_counter() - start
    timed = time_checks(root)
    seq = sum(t for t, _, _ in timed)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    lines = [
        f"# Build profile — {size} ({report.triples:,} triples, {stamp})",
        "",
        f"Build: {total:.1f} s, {total / report.triples * 1e6:.1f} µs a triple.",
        "",
        "| stage | seconds | µs a triple |",
        "|---|---:|---:|",
        *(f"| {k} | {v:.2f} | {v / report.triples * 1e6:.1f} |" for k, v in report.stages.items()),
        "",
        f"Validation: {len(timed)} compiled checks, {seq:.1f} s one after the other on one thread "
        f"(the build runs them on two). The {min(args.top, len(timed))} slowest:",
        "",
        "| seconds | rows | component | shape | path |",
        "|---:|---:|---|---|---|",
    ]
    for seconds, rows, check in timed[: args.top]:
        lines.append(
            f"| {seconds:.3f} | {rows} | {check.component.rsplit('#', 1)[-1]} "
            f"| `{check.shape}` | {f'`{check.path.value}`' if check.path else '—'} |"
        )
    out = RESULTS / f"profile-{size}.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
