"""The build: tables -> RDF -> a new store generation -> SHACL on it -> swapped in only on success.

The mapped quads stream from the CSV files into the new generation (nothing holds the whole
graph in Python), the shapes are checked on that generation by Oxigraph itself
(:mod:`cmq_graph.validate`), and only a generation that passed every check becomes current: on
any problem it is deleted and the previous graph stays live. ``cmq-graph validate`` runs the same
steps into an in-memory store, without touching the user's store.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError, Problem
from .mapping import Mapped, TableMapper
from .namespaces import SHAPES_GRAPH
from .store import (
    BUILD_WAIT,
    LOAD_BATCH,
    activate,
    batches,
    build_lock,
    collect,
    discard,
    materialise_union,
    write_generation,
)
from .validate import validate_or_raise
from .vocabulary import Ontology, load_ontology
from .web.void import describe_build

Say = Callable[[str], None]
UNION_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"  # the default graph: the union, once each


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class BuildReport:
    """What a build did, for the user and for the benchmark harness (seconds per stage).

    Stages: ``read ontology``, ``map tables`` (both passes over the CSV files, including the
    mapping done while loading), ``load`` (the store's share of the streamed load, flush and
    compaction), ``validate`` (the compiled shapes on the new generation), ``union`` (the
    default graph made from the named graphs, see :func:`~cmq_graph.store.materialise_union`),
    ``count``. ``quads`` counts the named graphs' statements (with their source), ``triples``
    the distinct triples of their union.
    """

    triples: int = 0
    quads: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    sources: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    store: Path | None = None


@contextmanager
def _stage(report: BuildReport, name: str, say: Say) -> Iterator[None]:
    say(f"· {name}…")
    start = time.perf_counter()
    yield
    report.stages[name] = report.stages.get(name, 0.0) + time.perf_counter() - start
    say(f"  {name}: {report.stages[name]:.2f} s")


def _read(data_dir: Path, ontology_dir: Path, report: BuildReport, say: Say) -> tuple[Ontology, TableMapper]:
    """Parse the ontology and check the tables' headers and ids; raise if either has problems."""
    problems: list[Problem] = []
    with _stage(report, "read ontology", say):
        ontology = load_ontology(ontology_dir, problems)
    with _stage(report, "map tables", say):
        mapper = TableMapper(data_dir, ontology, problems)
        if problems:
            # Still map, to report the data's own problems in the same run.
            for _ in mapper.quads():
                pass
            raise InputError(problems, "the inputs have errors")
    return ontology, mapper


def _load(report: BuildReport, mapper: TableMapper, say: Say, load: Callable[[], ox.Store | Path]):
    """Run ``load`` (which consumes the mapper's stream); book the mapping time under ``map tables``."""
    say("· map tables and load…")
    start = time.perf_counter()
    target = load()
    total = time.perf_counter() - start
    report.stages["map tables"] += mapper.seconds
    report.stages["load"] = total - mapper.seconds
    say(f"  map tables: {report.stages['map tables']:.2f} s, load: {report.stages['load']:.2f} s")
    return target


def _check(
    store: ox.Store, ontology: Ontology, mapper: TableMapper, report: BuildReport, validate: bool, say: Say
) -> None:
    """Raise on the mapping's row problems, then on the shapes' violations; count what was loaded."""
    if mapper.problems:
        raise InputError(mapper.problems, "the curated data has errors")
    report.rows = mapper.out.rows
    report.sources = len(mapper.out.sources)
    shapes = ontology.graph_quads(SHAPES_GRAPH)
    if validate:
        with _stage(report, "validate", say):
            validate_or_raise(store, shapes, mapper.out.origins)
    # The shapes join the graph only now: while it holds nothing but the data graphs, the checks
    # read the union of all graphs, which Oxigraph answers 2-3x faster than a list of graphs.
    store.bulk_extend(shapes)


def _finish(store: ox.Store, report: BuildReport, say: Say, *, describe: bool) -> None:
    """What a checked graph gets before it is counted: the publication's entailments and VoID
    (builds only: ``validate`` does not publish), then the union, which must include them."""
    if describe:
        with _stage(report, "describe", say):
            describe_build(store)  # super-types and VoID for publication (cmq_graph.web.void)
    with _stage(report, "union", say):
        report.quads = materialise_union(store)
    with _stage(report, "count", say):
        report.triples = int(next(iter(store.query(UNION_TRIPLES)))["n"].value)


def _without_shapes(ontology: Ontology) -> list[ox.Quad]:
    """The ontology's quads but the shapes, which :func:`_check` adds after validating."""
    shapes = ox.NamedNode(SHAPES_GRAPH)
    return [q for q in ontology.quads if q.graph_name != shapes]


def build(
    data_dir: Path,
    ontology_dir: Path,
    store_root: Path,
    *,
    validate: bool = True,
    say: Say = _stderr,
    wait: float = BUILD_WAIT,
) -> BuildReport:
    """Build the graph into a new generation of ``store_root``; on success make it current.

    The inputs are read and checked first; the store's writer lock is taken only to write, so
    a build with bad inputs fails without waiting for another one (see :func:`build_lock`).
    """
    report = BuildReport()
    ontology, mapper = _read(data_dir, ontology_dir, report, say)
    stream = itertools.chain(_without_shapes(ontology), mapper.quads())
    with build_lock(store_root, wait=wait, say=say):
        collect(store_root)  # what killed builds left, and generations readers have let go
        generation = _load(report, mapper, say, lambda: write_generation(store_root, stream))
        try:
            store = ox.Store(str(generation))
            try:
                _check(store, ontology, mapper, report, validate, say)
                _finish(store, report, say, describe=True)
            finally:
                del store
            activate(store_root, generation)
        except BaseException:
            discard(generation)
            raise
    report.store = store_root
    return report


def prepare(
    data_dir: Path, ontology_dir: Path, *, validate: bool = True, say: Say = _stderr
) -> tuple[Ontology, Mapped, BuildReport]:
    """The build's checks in an in-memory store, writing nothing (``cmq-graph validate``).

    Raises on any problem; the returned ``Mapped`` has the counts and origins, not the quads.
    """
    report = BuildReport()
    ontology, mapper = _read(data_dir, ontology_dir, report, say)

    def load() -> ox.Store:
        store = ox.Store()
        for chunk in batches(itertools.chain(_without_shapes(ontology), mapper.quads()), LOAD_BATCH):
            store.bulk_extend(chunk)
        return store

    store = _load(report, mapper, say, load)
    _check(store, ontology, mapper, report, validate, say)
    _finish(store, report, say, describe=False)
    return ontology, mapper.out, report
