"""The Python API for notebooks and scripts: open the graph, run catalogue queries, get tables.

    from cmq_graph.api import open_store, run, to_dataframe, list_queries
    store = open_store()                      # the embedded store ($CMQ_GRAPH_STORE or default)
    result = run(store, "campus-members", campus="id:campus/propulsions")
    result.dicts()                            # rows as dicts of rdflib terms
    to_dataframe(result)                      # pandas, IRIs compacted, numbers as numbers
    graph = run(store, "organisation-profile").graph   # CONSTRUCT → rdflib Graph

Everything goes through :class:`GraphStore`, so the same code runs on a remote endpoint
(``open_store(endpoint="https://…/sparql")``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from . import catalog, paths, results
from .catalog import CatalogQuery
from .errors import QueryError
from .namespaces import compact
from .store import EmbeddedStore, GraphStore, QueryResult, Term

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "QueryResult",
    "describe",
    "graph",
    "labels",
    "list_queries",
    "open_store",
    "run",
    "to_dataframe",
]


def open_store(
    path: str | Path | None = None,
    *,
    endpoint: str | None = None,
    in_memory: bool = True,
    timeout: float | None = None,
) -> GraphStore:
    """The embedded store at ``path`` (default ``$CMQ_GRAPH_STORE``), or a remote endpoint.

    ``in_memory`` copies the on-disk store into RAM: joins run several times faster there, and
    the CMQ graph is small.
    """
    if endpoint:
        from .query_commands import open_remote

        return open_remote(endpoint, timeout=timeout)
    root = Path(path) if path is not None else paths.default_store_path()
    return EmbeddedStore.open(root, in_memory=in_memory, prestart=True)


def list_queries(directory: str | Path | None = None) -> list[CatalogQuery]:
    """The catalogue, sorted by name; each has ``name``, ``title``, ``description``, ``params``."""
    folder = Path(directory) if directory is not None else None
    return list(catalog.catalogue(folder).values())


def describe(name: str) -> str:
    """One query's documentation, as ``cmq-graph queries NAME`` prints it."""
    from .query_commands import describe as _describe

    return _describe(catalog.resolve(name))


def run(
    store: GraphStore,
    query: str | CatalogQuery,
    params: Mapping[str, object] | None = None,
    *,
    timeout: float | None = None,
    limit: int | None = None,
    **kwargs: object,
) -> QueryResult:
    """Run a catalogue name, a ``.rq`` path or a SPARQL text, with parameters bound as terms.

    Parameters come as keywords (``as_of="2020-01-01"``) or a ``params`` mapping; values may be
    text (read by the parameter's type), rdflib terms, or Python values where the type takes
    them: ``int`` for integer and decimal, ``float``/``Decimal`` for decimal, ``bool`` for
    boolean, ``datetime.date`` for date (``term`` takes all of these). Anything else, such as
    ``campus=5`` for an IRI, is refused with a QueryError.

    On the embedded store a query stops after ``timeout`` seconds (default 60), or on an
    interrupt (Ctrl-C, a notebook's stop button), and its process stops using CPU; ``limit`` is
    sent with the query, so the engine stops after that many rows.
    """
    values = {**(params or {}), **kwargs}
    return catalog.run(store, query, values, timeout=timeout, limit=limit)


def graph(result: QueryResult) -> Graph:
    """The rdflib Graph of a CONSTRUCT or DESCRIBE result."""
    if result.kind != "graph" or result.graph is None:
        raise QueryError(f"a {result.kind.upper()} result has no graph (run a CONSTRUCT query)")
    return result.graph


def labels(store: GraphStore, result: QueryResult) -> dict[str, str]:
    """French labels of every IRI in ``result`` (one query)."""
    return results.labels(store, results.result_iris(result))


_INTEGERS = {str(XSD[t]) for t in ("integer", "int", "long", "short", "nonNegativeInteger")}


def python_value(term: Term | None, *, compact_iris: bool = True) -> Any:
    """A term as a plain Python value: compact IRI text, int, float, bool or the lexical form.

    Dates stay text: the data mixes years, months and days, and ``STR`` order is what the
    queries compare on.
    """
    if term is None:
        return None
    if isinstance(term, URIRef):
        return compact(str(term)) if compact_iris else str(term)
    if isinstance(term, Literal):
        dt = str(term.datatype) if term.datatype else None
        if dt in _INTEGERS:
            return int(str(term))
        if dt in {str(XSD.decimal), str(XSD.double), str(XSD.float)}:
            return float(Decimal(str(term)))
        if dt == str(XSD.boolean):
            return str(term) in {"true", "1"}
    return str(term)


def to_dataframe(
    result: QueryResult,
    *,
    store: GraphStore | None = None,
    compact_iris: bool = True,
) -> pd.DataFrame:
    """A SELECT result as a pandas DataFrame (pandas is imported only here).

    With ``store``, each column holding IRIs gets a ``{column}_label`` column with French labels
    (an empty result gets one after every column, so code that picks columns works either way).
    """
    import pandas as pd

    if result.kind == "ask":
        return pd.DataFrame({"boolean": [result.boolean]})
    if result.kind == "graph":
        assert result.graph is not None
        rows = [tuple(python_value(t, compact_iris=compact_iris) for t in triple) for triple in result.graph]
        return pd.DataFrame(sorted(rows), columns=["subject", "predicate", "object"])
    frame = pd.DataFrame(
        [[python_value(t, compact_iris=compact_iris) for t in row] for row in result.rows],
        columns=result.variables,
    )
    if store is not None:
        names = labels(store, result)
        for i, var in reversed(list(enumerate(result.variables))):
            iris = [row[i] for row in result.rows]
            if not iris or any(isinstance(t, URIRef) for t in iris):
                col = [names.get(str(t)) if isinstance(t, URIRef) else None for t in iris]
                frame.insert(i + 1, f"{var}_label", col)
    return frame
