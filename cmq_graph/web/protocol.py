"""SPARQL 1.1 Protocol: reading a request into a query and its dataset, choosing the answer's format.

Framework-free (plain strings and mappings) so that it is tested on its own and the server stays
a thin layer. Formats are the names of ``worker.RESULT_FORMATS`` and ``worker.GRAPH_FORMATS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

# Media type -> (results format, graph format) it selects; None: not for that form of answer.
MEDIA_TYPES: dict[str, tuple[str | None, str | None]] = {
    "application/sparql-results+json": ("JSON", None),
    "application/sparql-results+xml": ("XML", None),
    "text/csv": ("CSV", None),
    "text/tab-separated-values": ("TSV", None),
    "text/turtle": (None, "TURTLE"),
    "application/x-turtle": (None, "TURTLE"),
    "application/n-triples": (None, "N_TRIPLES"),
    "text/plain": (None, "N_TRIPLES"),
    "application/ld+json": (None, "JSON_LD"),
    "application/rdf+xml": (None, "RDF_XML"),
    "application/json": ("JSON", "JSON_LD"),
    "application/xml": ("XML", "RDF_XML"),
    "text/xml": ("XML", "RDF_XML"),
}

# Values of the ``format`` parameter (as well as any media type above).
FORMAT_NAMES: dict[str, tuple[str | None, str | None]] = {
    "json": ("JSON", "JSON_LD"),
    "srj": ("JSON", None),
    "xml": ("XML", "RDF_XML"),
    "srx": ("XML", None),
    "csv": ("CSV", None),
    "tsv": ("TSV", None),
    "turtle": (None, "TURTLE"),
    "ttl": (None, "TURTLE"),
    "ntriples": (None, "N_TRIPLES"),
    "nt": (None, "N_TRIPLES"),
    "jsonld": (None, "JSON_LD"),
    "json-ld": (None, "JSON_LD"),
    "rdfxml": (None, "RDF_XML"),
    "rdf": (None, "RDF_XML"),
}

DEFAULT = ("JSON", "TURTLE")


class ProtocolError(Exception):
    """A request the protocol refuses, with its HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    """The protocol's view of one query request."""

    query: str | None
    default_graphs: list[str] | None
    named_graphs: list[str] | None
    format: str | None  # the ``format`` parameter


def accepted(header: str | None) -> list[tuple[str, float]]:
    """The media ranges of an ``Accept`` header, best first (q-values, then specificity, then order)."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    ranges: list[tuple[float, int, int, str]] = []
    for i, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        specific = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        ranges.append((q, specific, -i, media))
    ranges.sort(reverse=True)
    return [(media, q) for q, _s, _i, media in ranges if q > 0]


def negotiate(accept: str | None, fmt: str | None = None) -> tuple[str | None, str | None]:
    """(results format, graph format) for an ``Accept`` header or a ``format`` parameter.

    Each is the best the client accepts for that form of answer, or None if it accepts none of
    ours; the form is known only once the query is parsed, so both are chosen here.
    """
    if fmt:
        key = fmt.strip().lower()
        chosen = FORMAT_NAMES.get(key) or MEDIA_TYPES.get(key.split(";")[0].strip())
        if chosen is None:
            known = ", ".join(FORMAT_NAMES)
            raise ProtocolError(406, f"unknown format '{fmt}'; known: {known} or a media type")
        return chosen
    results: str | None = None
    graph: str | None = None
    for media, _q in accepted(accept):
        if media in ("*/*", "application/*"):
            options = DEFAULT
        elif media == "text/*":
            options = ("CSV", "TURTLE")
        else:
            options = MEDIA_TYPES.get(media, (None, None))
        results = results or options[0]
        graph = graph or options[1]
        if results and graph:
            break
    return results, graph


def wants_html(accept: str | None) -> bool:
    """A browser's request: text/html before any format of ours."""
    for media, _q in accepted(accept):
        if media in ("text/html", "application/xhtml+xml"):
            return True
        if media in MEDIA_TYPES or media == "*/*":
            return False
    return False


def _one(pairs: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in pairs if k == name]
    if len(values) > 1:
        raise ProtocolError(400, f"the '{name}' parameter is given {len(values)} times; give it once")
    return values[0] if values else None


def _graphs(pairs: Sequence[tuple[str, str]], name: str) -> list[str] | None:
    values = [v.strip() for k, v in pairs if k == name]
    for v in values:
        if not v or any(c in v for c in ' <>"{}|\\^`') or ":" not in v:
            raise ProtocolError(400, f"'{name}' must be an absolute IRI, got '{v}'")
    return values or None


def read(method: str, query_string: str, content_type: str | None, body: bytes) -> Request:
    """The query, dataset and format of a SPARQL Protocol request (GET, POST form, POST direct)."""
    url = parse_qsl(query_string, keep_blank_values=True)
    media = (content_type or "").split(";")[0].strip().lower()
    if method == "GET":
        pairs = url
        if _one(pairs, "update") is not None:
            raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is refused")
        query = _one(pairs, "query")
    elif method == "POST":
        if media == "application/x-www-form-urlencoded":
            try:
                form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            except UnicodeDecodeError as exc:
                raise ProtocolError(400, "the form is not UTF-8") from exc
            if _one(form, "update") is not None:
                raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is refused")
            pairs = url + form
            query = _one(pairs, "query")
            if query is None:
                raise ProtocolError(400, "the form has no 'query' field")
        elif media == "application/sparql-query":
            pairs = url
            if _one(pairs, "query") is not None:
                raise ProtocolError(400, "a direct POST carries the query in its body, not in 'query'")
            try:
                query = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ProtocolError(400, "the query is not UTF-8") from exc
        elif media == "application/sparql-update":
            raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is refused")
        else:
            raise ProtocolError(
                415,
                f"unsupported Content-Type '{media or 'none'}': POST application/x-www-form-urlencoded"
                " or application/sparql-query",
            )
    else:
        raise ProtocolError(405, f"method {method} is not allowed: use GET or POST")
    if query is not None and not query.strip():
        raise ProtocolError(400, "the query is empty")
    return Request(query, _graphs(pairs, "default-graph-uri"), _graphs(pairs, "named-graph-uri"),
                   _one(pairs, "format"))


def service_description(endpoint: str, prefixes: Mapping[str, str], *, max_rows: int,
                        timeout: float) -> str:
    """The SPARQL 1.1 Service Description of the endpoint, in Turtle."""
    results = [
        "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
        "http://www.w3.org/ns/formats/SPARQL_Results_XML",
        "http://www.w3.org/ns/formats/SPARQL_Results_CSV",
        "http://www.w3.org/ns/formats/SPARQL_Results_TSV",
        "http://www.w3.org/ns/formats/Turtle",
        "http://www.w3.org/ns/formats/N-Triples",
        "http://www.w3.org/ns/formats/JSON-LD",
        "http://www.w3.org/ns/formats/RDF_XML",
    ]
    formats = " ,\n        ".join(f"<{f}>" for f in results)
    declared = " ,\n        ".join(
        f'[ sh:prefix "{p}" ; sh:namespace "{ns}"^^xsd:anyURI ]' for p, ns in sorted(prefixes.items())
    )
    comment = (
        "Read-only. The prefixes declared below are predeclared in every query. The default graph is"
        " the union of the named graphs (one per source) unless the request gives default-graph-uri"
        f" or the query FROM. At most {max_rows} rows or triples per answer (header X-CMQ-Truncated"
        f" when cut); {timeout:g} s per query."
    )
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph ;
    sd:resultFormat {formats} ;
    sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> ;
    dct:title "Campus des Métiers et des Qualifications : point d'accès SPARQL"@fr ,
        "Campus des Métiers et des Qualifications: SPARQL endpoint"@en ;
    rdfs:comment "{comment}"@en ;
    sh:declare {declared} .
"""
