"""The build: tables -> RDF -> SHACL -> a new store generation, swapped in only on success."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError, Problem
from .mapping import Mapped, map_tables
from .namespaces import ONTOLOGY_GRAPH, SHAPES_GRAPH, VOCAB_GRAPH
from .store import activate, discard, write_generation
from .validate import to_graph, validate_or_raise
from .vocabulary import Ontology, load_ontology

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class BuildReport:
    """What a build did, for the user and for the benchmark harness (seconds per stage)."""

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
    report.stages[name] = time.perf_counter() - start
    say(f"  {name}: {report.stages[name]:.2f} s")


def prepare(
    data_dir: Path,
    ontology_dir: Path,
    *,
    validate: bool = True,
    say: Say = _stderr,
    report: BuildReport | None = None,
) -> tuple[Ontology, Mapped, BuildReport]:
    """Read, map and validate: everything but the write. Raises on any problem."""
    report = report or BuildReport()
    problems: list[Problem] = []
    with _stage(report, "read ontology", say):
        ontology = load_ontology(ontology_dir, problems)
    with _stage(report, "map tables", say):
        if problems:
            # Still map, to report the data's own problems in the same run.
            with suppress(InputError):
                map_tables(data_dir, ontology, problems)
            raise InputError(problems, "the inputs have errors")
        mapped = map_tables(data_dir, ontology)
    report.rows = mapped.rows
    report.sources = len(mapped.sources)
    if validate:
        with _stage(report, "validate", say):
            data = to_graph(mapped.quads)
            shapes = to_graph(ontology.graph_quads(SHAPES_GRAPH))
            onto = to_graph(ontology.graph_quads(ONTOLOGY_GRAPH) + ontology.graph_quads(VOCAB_GRAPH))
            validate_or_raise(data, shapes, onto, mapped.origins)
    return ontology, mapped, report


def build(
    data_dir: Path, ontology_dir: Path, store_root: Path, *, validate: bool = True, say: Say = _stderr
) -> BuildReport:
    """Build the graph into a new generation of ``store_root``; on success make it current."""
    ontology, mapped, report = prepare(data_dir, ontology_dir, validate=validate, say=say)
    quads = ontology.quads + mapped.quads
    with _stage(report, "load", say):
        generation = write_generation(store_root, quads)
    try:
        store = ox.Store.read_only(str(generation))
        report.quads = len(store)
        report.triples = len({(q.subject, q.predicate, q.object) for q in store})
        del store
        activate(store_root, generation)
    except BaseException:
        discard(generation)
        raise
    report.store = store_root
    return report
