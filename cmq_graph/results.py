"""Query results as text: a readable table, CSV/TSV and JSON (SPARQL 1.1 formats), Markdown, RDF.

``table`` and ``md`` are for people: IRIs show their French label (fetched in one extra query)
and their compact form. ``csv``, ``tsv`` and ``json`` follow the SPARQL 1.1 result formats, so
other tools read them; ``ttl``, ``nt`` and ``jsonld`` serialise a CONSTRUCT or DESCRIBE graph.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable

from rdflib import BNode, Literal, URIRef

from .errors import QueryError
from .namespaces import PREFIXES, compact
from .store import GraphStore, QueryResult, Term

TABULAR = ("table", "csv", "tsv", "json", "md")
GRAPH = ("ttl", "nt", "jsonld")
FORMATS = TABULAR + GRAPH
_RDF_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}
_SAFE_IRI = re.compile(r'^[^\s<>"{}|\\^`]+$')

_LABELS = """
SELECT ?iri ?label WHERE {
  VALUES ?iri { %s }
  { ?iri rdfs:label ?label } UNION { ?iri skos:prefLabel ?label } UNION { ?iri dcterms:title ?label }
  FILTER(LANG(?label) = "" || LANGMATCHES(LANG(?label), "fr"))
}
"""


def labels(store: GraphStore, iris: Iterable[str], *, timeout: float | None = None) -> dict[str, str]:
    """French labels (rdfs:label, skos:prefLabel, or a source's title) of ``iris``, in one query.

    The IRIs come from a result and go in a VALUES block; one that could not be written safely
    is left out rather than escaped. When an entity has several French labels (two sources
    naming it differently), the shortest, then first in order, is kept so output is stable.
    """
    wanted = sorted({i for i in iris if _SAFE_IRI.match(i)})
    if not wanted:
        return {}
    text = _LABELS % " ".join(f"<{i}>" for i in wanted)
    result = store.query("".join(f"PREFIX {p}: <{n}>\n" for p, n in PREFIXES.items()) + text, timeout=timeout)
    found: dict[str, list[str]] = {}
    for iri, label in result.rows:
        found.setdefault(str(iri), []).append(str(label))
    return {iri: min(values, key=lambda v: (len(v), v)) for iri, values in found.items()}


def result_iris(result: QueryResult) -> set[str]:
    return {str(t) for row in result.rows for t in row if isinstance(t, URIRef)}


def cell(term: Term | None, names: dict[str, str] | None = None, width: int | None = None) -> str:
    """How a term reads in a table: ``label (prefix:local)`` for IRIs, the text for literals.

    Within ``width``, a long label is shortened, never the compact IRI that identifies the thing.
    """
    if term is None:
        return ""
    if isinstance(term, URIRef):
        short = compact(str(term))
        label = (names or {}).get(str(term))
        if not label:
            return short
        if width is not None:
            label = _truncate(label, max(width - len(short) - 3, 12))
        return f"{' '.join(label.split())} ({short})"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal) and term.language and not term.language.lower().startswith("fr"):
        return _truncate(f"{term} @{term.language}", width)
    return _truncate(str(term), width)


def _truncate(text: str, width: int | None) -> str:
    text = " ".join(text.split())
    if width is not None and len(text) > width:
        return text[: width - 1] + "…"
    return text


def table(
    result: QueryResult,
    names: dict[str, str] | None = None,
    *,
    width: int | None = 60,
    total: int | None = None,
    more: bool = False,
) -> str:
    """An aligned text table; ``total`` is the row count before ``--limit`` cut it, ``more``
    says there are more rows than shown (when the total is not known)."""
    if result.kind == "ask":
        return "yes" if result.boolean else "no"
    head = result.variables
    body = [[cell(t, names, width) for t in row] for row in result.rows]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    lines.append("  ".join("─" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    n = len(result.rows)
    if total is not None and total > n:
        lines.append(f"({n} of {total} rows shown)")
    elif more:
        lines.append(f"(first {n} row{'s' if n != 1 else ''} shown; there are more)")
    else:
        lines.append(f"({n} row{'s' if n != 1 else ''})")
    return "\n".join(lines)


def markdown(result: QueryResult, names: dict[str, str] | None = None) -> str:
    if result.kind == "ask":
        return "yes" if result.boolean else "no"

    def esc(text: str) -> str:
        return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")

    lines = ["| " + " | ".join(result.variables) + " |", "|" + "---|" * len(result.variables)]
    lines += ["| " + " | ".join(esc(cell(t, names)) for t in row) + " |" for row in result.rows]
    return "\n".join(lines)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def neutralise(text: str) -> str:
    """``text`` made safe to open in a spreadsheet (OWASP CSV injection): a cell starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so it is read as
    text, not as a formula. Numbers (``-3``, ``+1.5e3``) are left as they are."""
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def to_csv(result: QueryResult) -> str:
    """SPARQL 1.1 CSV: IRIs and literals as bare text, blank nodes ``_:b``; cells that a
    spreadsheet would run as formulas are neutralised (:func:`neutralise`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if result.kind == "ask":
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.boolean else "false"])
        return out.getvalue()
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow(
            ["" if t is None else (f"_:{t}" if isinstance(t, BNode) else neutralise(str(t))) for t in row]
        )
    return out.getvalue()


def tsv_cell(term: Term | None) -> str:
    """A term in N-Triples form; a literal whose text a spreadsheet would run as a formula has
    it neutralised inside the quotes (``"'=HYPERLINK(…)"``), since spreadsheets drop them."""
    if term is None:
        return ""
    if isinstance(term, Literal):
        safe = neutralise(str(term))
        if safe != str(term):
            return Literal(safe, lang=term.language, datatype=term.datatype).n3()
    return term.n3()


def to_tsv(result: QueryResult) -> str:
    """SPARQL 1.1 TSV: ``?var`` header, terms in N-Triples/Turtle form (see :func:`tsv_cell`)."""
    if result.kind == "ask":
        return "?boolean\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join(f"?{v}" for v in result.variables)]
    lines += ["\t".join(tsv_cell(t) for t in row) for row in result.rows]
    return "\n".join(lines) + "\n"


def json_term(term: Term) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    out = {"type": "literal", "value": str(term)}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype is not None:
        out["datatype"] = str(term.datatype)
    return out


def to_json(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results JSON."""
    if result.kind == "ask":
        return json.dumps({"head": {}, "boolean": bool(result.boolean)}, indent=2)
    bindings = [
        {v: json_term(t) for v, t in zip(result.variables, row, strict=True) if t is not None}
        for row in result.rows
    ]
    doc = {"head": {"vars": result.variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, indent=2, ensure_ascii=False)


def render(
    result: QueryResult,
    fmt: str,
    store: GraphStore | None = None,
    *,
    width: int | None = 60,
    timeout: float | None = None,
    total: int | None = None,
    more: bool = False,
) -> str:
    """The text of ``result`` in ``fmt``; ``store`` lets a table or md fetch French labels."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown format '{fmt}'; formats are: {', '.join(FORMATS)}")
    if result.kind == "graph":
        if fmt not in GRAPH:
            raise QueryError(
                f"a CONSTRUCT or DESCRIBE query gives a graph: use --format {'|'.join(GRAPH)}, not {fmt}"
            )
        assert result.graph is not None
        return result.graph.serialize(format=_RDF_FORMATS[fmt])
    if fmt in GRAPH:
        raise QueryError(f"a SELECT or ASK query gives a table: use --format {'|'.join(TABULAR)}, not {fmt}")
    if fmt in {"table", "md"}:
        names = labels(store, result_iris(result), timeout=timeout) if store is not None else {}
        if fmt == "table":
            return table(result, names, width=width, total=total, more=more)
        return markdown(result, names)
    return {"csv": to_csv, "tsv": to_tsv, "json": to_json}[fmt](result)
