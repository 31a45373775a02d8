"""The engines under comparison, each behind cmq-graph's :class:`~cmq_graph.store.GraphStore`.

Every engine answers the catalogue through the same :func:`cmq_graph.catalog.run` (same query
text, same parameters bound as RDF terms), so the only thing that differs between two timings is
the engine, and :func:`cmq_graph.catalog.comparable` makes their answers comparable row by row.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.term import Node, Variable

from cmq_graph.errors import QueryError
from cmq_graph.namespaces import PREFIXES
from cmq_graph.store import QueryResult, Term


class Timeout(Exception):
    """A query overran its budget (raised from SIGALRM inside the engine's Python loop)."""


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (main thread only; pure-Python engines stop at once,
    Oxigraph at its next result row)."""
    if not seconds:
        yield
        return

    def _raise(_sig: int, _frame: object) -> None:
        raise Timeout(f"over {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class RdflibStore:
    """Plain rdflib: an in-memory ``Dataset`` queried with rdflib's own SPARQL engine.

    The default graph is the union of the named graphs (``default_union``), as in cmq-graph.
    Parameters go in as ``initBindings``, the rdflib way; the query text is parsed on every call,
    which is what a user calling ``Graph.query(text)`` pays.
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def query(
        self, sparql: str, bindings: Mapping[str, Node] | None = None, *, timeout: float | None = None
    ) -> QueryResult:
        init = {Variable(k): v for k, v in (bindings or {}).items()}
        with deadline(timeout):
            try:
                answer = self.dataset.query(sparql, initNs=PREFIXES, initBindings=init)
            except Exception as exc:  # rdflib raises pyparsing's and its own errors
                if isinstance(exc, Timeout):
                    raise
                raise QueryError(f"rdflib: {exc}") from exc
            if answer.type == "ASK":
                return QueryResult("ask", boolean=bool(answer.askAnswer))
            if answer.type in ("CONSTRUCT", "DESCRIBE"):
                return QueryResult("graph", graph=answer.graph)
            variables = [str(v) for v in answer.vars]
            rows: list[tuple[Term | None, ...]] = []
            for row in answer:
                rows.append(tuple(_term(row[i]) for i in range(len(variables))))  # type: ignore[index]
            return QueryResult("select", variables=variables, rows=rows)

    def close(self) -> None:
        self.dataset = None  # type: ignore[assignment]


def _term(value: object) -> Term | None:
    if value is None or isinstance(value, URIRef | Literal | BNode):
        return value  # type: ignore[return-value]
    return Literal(value)
