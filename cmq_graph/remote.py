"""A remote SPARQL 1.1 endpoint as a :class:`~cmq_graph.store.GraphStore` (Virtuoso is the tested one).

Analysts run the same catalogue against the embedded store or a shared triple store, so this
class answers exactly like :class:`~cmq_graph.store.EmbeddedStore`: rdflib terms in a
:class:`~cmq_graph.store.QueryResult`, the project's prefixes predeclared, parameters bound as RDF
terms. What a network adds is handled here, each with a message a person can act on:

- **Transport.** SPARQLWrapper builds the protocol request (GET for short queries, POST for long
  ones, the Accept header, the user agent). We open it with our own ``urllib`` opener rather than
  ``SPARQLWrapper.query()`` because the latter installs a *process-wide* opener for digest
  authentication, truncates timeouts to whole seconds (0.5 s becomes "no timeout") and drops the
  status code and headers we need to classify errors and detect truncation.
- **Failures.** Connection refused/reset and HTTP 502/503/504 are transient: retried with
  exponential backoff, a bounded number of times, within the call's deadline. Other errors are
  reported at once: 4xx with the server's own message (a Virtuoso syntax error says which line),
  401/403 as an authorisation problem, 500 as the server failing on the query.
- **Deadline.** ``timeout`` bounds the whole call (retries, backoff and the reading of the answer
  included), not each socket operation: every wait is given what is left of it. A timed-out
  request is never sent again: the server may still be running it, and a second copy would only
  double its load (a query is sent once).
- **Redirects** are never followed: a 3xx is an error naming where it points. Following one would
  carry the query, or credentials, to a host (or scheme) nobody chose.
- **Credentials** are refused over plain ``http://`` unless the host is a loopback address or the
  caller allows it explicitly (``allow_plain_http``): Basic sends the password in clear, and a
  server (or anyone on the path) can ask for Basic even where Digest was expected.
- **Responses.** The content type and the JSON structure are checked before any row is
  converted; a malformed answer raises and returns nothing, never a partial result.
- **Truncation.** Virtuoso cuts results at ``ResultSetMaxRows`` (10,000 by default) and says so
  only in an ``X-SPARQL-MaxRows`` header; an "anytime" query returns partial results with an
  ``X-SQL-State`` header. Both raise :class:`QueryError` instead of handing back a silently
  incomplete table. (Virtuoso sends no such header for CONSTRUCT/DESCRIBE: see docs/remote.md.)
- **Dataset.** A shared store holds more than our graphs (Virtuoso alone ships its ``owl:``
  labels and system graphs), so ``GRAPH ?g`` would range over all of them. When the endpoint
  holds a publication manifest (written by ``cmq-graph publish``), queries are sent with the
  protocol's ``default-graph-uri``/``named-graph-uri`` set to the published graphs: the same
  dataset as the embedded store (one named graph per source; default graph = the union of the
  graphs as a *set*: the publication's deduplicated union graph, which ``publish`` writes, so
  that a triple stated by two sources counts once, as SPARQL means). A query with its own FROM
  is sent as written. The manifest is checked first: a publication in the middle of being
  replaced, or whose graphs do not hold the counts it records, is an error, not an answer.
- **Geometry.** Virtuoso turns ``geo:wktLiteral`` values into its ``virtrdf:Geometry`` type with
  single-precision coordinates; we give them back as ``geo:wktLiteral`` with each coordinate
  written as the shortest decimal that rounds to the same single-precision number, which is the
  loaded text whenever it had at most about seven significant digits.
- **Binding.** A query's parameters are injected as a ``VALUES`` block at the start of the
  outermost WHERE group, written from validated RDF terms with escaping of our own: user text
  never becomes query syntax, whatever quotes, braces or ``} ; DROP ALL`` it contains.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import ipaddress
import json
import os
import re
import socket
import stat
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node
from SPARQLWrapper import GET, JSON, POST, POSTDIRECTLY, TURTLE, URLENCODED, SPARQLWrapper

from .errors import QueryError, StoreError
from .namespaces import BASE, GEO, PREFIXES
from .store import QueryResult, Term

try:
    __version__ = metadata.version("cmq-graph")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0"

DEFAULT_USER_AGENT = f"cmq-graph/{__version__} (+https://w3id.org/cmq; SPARQLWrapper)"

# Above this many characters of URL-encoded query, use POST: some servers and proxies cut URLs at
# 2 or 8 KiB, and a catalogue query with its prefixes is often longer than that.
GET_LIMIT = 1500

TRANSIENT_STATUS = frozenset({502, 503, 504})

# What ``cmq-graph publish`` writes: a manifest graph (the publication's IRI) listing, as
# ``xsd:anyURI`` literals under this predicate, the named graphs it published.
DEFAULT_DATASET = BASE + "graph/published"
PUBLISHED_GRAPH = BASE + "graph/publication#namedGraph"
# The manifest also names the deduplicated union of the graphs (the queries' default graph), says
# whether a publish is under way (``publishing``) or done (``complete``), and gives each graph's
# triple count on an entry ``{manifest}#graph-{n}``: readers check the counts before trusting it.
UNION_GRAPH = BASE + "graph/publication#unionGraph"
PUBLICATION_STATE = BASE + "graph/publication#state"
ENTRY_GRAPH = BASE + "graph/publication#graph"
ENTRY_TRIPLES = BASE + "graph/publication#triples"

_GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_JSON_TYPES = ("application/sparql-results+json", "application/json")
_GRAPH_TYPES = {
    "application/n-triples": "nt",
    "text/plain": "nt",  # Virtuoso answers N-Triples as text/plain on some paths
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "text/rdf+n3": "n3",
    "text/n3": "n3",
}
_GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"


# -- terms as SPARQL text ----------------------------------------------------------------------

_BAD_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _iri(value: str) -> str:
    if not value or _BAD_IRI.search(value):
        raise QueryError(f'cannot bind {value!r}: not a valid IRI (it has spaces or <>"{{}}|^`\\)')
    return f"<{value}>"


def sparql_term(term: Node) -> str:
    """``term`` as SPARQL syntax, on one line, escaped so that it can only ever be that term.

    Like rdflib's ``.n3()`` but strict: an IRI that would need escaping, or an invalid language
    tag, is refused rather than written (``.n3()`` warns and writes an IRI holding ``>``), and
    strings always use the short escaped form so a bound value never adds a line to the query.
    """
    if isinstance(term, URIRef):
        return _iri(str(term))
    if isinstance(term, Literal):
        text = "".join(_ECHAR.get(c, c) for c in str(term))
        if term.language:
            if not _LANG.match(term.language):
                raise QueryError(f"cannot bind {term!r}: invalid language tag {term.language!r}")
            return f'"{text}"@{term.language}'
        dt = term.datatype
        if dt is None or str(dt) in (_XSD_STRING, _RDF_LANGSTRING):
            return f'"{text}"'
        return f'"{text}"^^{_iri(str(dt))}'
    if isinstance(term, BNode):
        raise QueryError("cannot bind a blank node: SPARQL VALUES cannot name one; use an IRI")
    raise QueryError(f"cannot bind {term!r}: not an RDF term (use URIRef or Literal)")


# -- a SPARQL scanner: just enough to find where the outermost WHERE group starts ----------------

_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][^\s(){}\[\],;.|&!=<>+*/^"'\#]+)
    | (?P<name>(?:[^\W\d]|_)[\w\-.]*(?::(?:[\w\-.:%]|\\.)*)?|:(?:[\w\-.:%]|\\.)*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    def keyword(self) -> str | None:
        """The upper-cased word if this is a bare keyword (not a prefixed name or variable)."""
        if self.kind == "name" and ":" not in self.text:
            return self.text.upper()
        return None


def tokens(sparql: str) -> list[Token]:
    """Significant tokens of ``sparql`` (no whitespace or comments), with their offsets.

    Strings, IRIs and comments are single tokens, so a brace or ``WHERE`` inside them is never
    taken for syntax. An unterminated string makes the rest of the text one ``other`` token at a
    time: the server will report the syntax error, we only must not find a false WHERE.
    """
    out = []
    for m in _TOKEN.finditer(sparql):
        kind = m.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        out.append(Token(kind, m.group(), m.start(), m.end()))
    return out


QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")


def query_form(toks: list[Token]) -> str | None:
    """SELECT/ASK/CONSTRUCT/DESCRIBE, UPDATE, or None; skips the prologue (BASE, PREFIX)."""
    i = 0
    while i < len(toks):
        word = toks[i].keyword()
        if word == "BASE":
            i += 2
            continue
        if word == "PREFIX":
            i += 3
            continue
        if word in QUERY_FORMS:
            return word
        if word in UPDATE_WORDS:
            return "UPDATE"
        return None
    return None


def declared_prefixes(toks: list[Token]) -> set[str]:
    found = set()
    for i, tok in enumerate(toks[:-1]):
        if tok.keyword() == "PREFIX" and toks[i + 1].kind == "name" and toks[i + 1].text.endswith(":"):
            found.add(toks[i + 1].text[:-1])
    return found


def _matching_brace(toks: list[Token], open_index: int) -> int:
    depth = 0
    for j in range(open_index, len(toks)):
        if toks[j].text == "{":
            depth += 1
        elif toks[j].text == "}":
            depth -= 1
            if depth == 0:
                return j
    raise QueryError("unbalanced braces in the query: cannot bind parameters")


def _where_group(toks: list[Token], start: int) -> int | None:
    """Index of the ``{`` opening the WHERE group of the query form ending at ``start``.

    Select expressions sit in parentheses, so a brace inside them (``EXISTS { … }``) is skipped.
    """
    depth = 0
    for i in range(start, len(toks)):
        text = toks[i].text
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif text == "{" and depth == 0:
            return i
    return None


def bind_values(sparql: str, bindings: Mapping[str, Node]) -> str:
    """``sparql`` with ``VALUES (?a ?b) { (term term) }`` opening its WHERE group, and that of
    every sub-select.

    Binding must mean "this variable is this term" throughout the query, as Oxigraph's
    substitutions do on the embedded store; a sub-select has its own variable scope, so a VALUES
    in the outer group alone would leave the parameter unbound inside it. The block is written
    from validated terms (:func:`sparql_term`); the query text around it is untouched. A
    sub-select opening a group is wrapped in braces, since ``{ VALUES … SELECT … }`` is not
    SPARQL. The short form ``CONSTRUCT WHERE { … }`` only allows triples and is refused.
    """
    if not bindings:
        return sparql
    for name in bindings:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise QueryError(f"invalid parameter name {name!r}")
    names = list(bindings)
    values = " ".join(sparql_term(bindings[n]) for n in names)
    block = f"VALUES ({' '.join('?' + n for n in names)}) {{ ({values}) }}"

    toks = tokens(sparql)
    form = query_form(toks)
    if form is None or form == "UPDATE":
        raise QueryError("cannot bind parameters: not a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    first = next(i for i, t in enumerate(toks) if t.keyword() == form)
    start = first + 1
    if form == "CONSTRUCT":
        if start < len(toks) and toks[start].keyword() == "WHERE":
            raise QueryError(
                "cannot bind parameters in the short form CONSTRUCT WHERE { … }: "
                "write CONSTRUCT { template } WHERE { pattern }"
            )
        if start >= len(toks) or toks[start].text != "{":
            raise QueryError("CONSTRUCT without a template: cannot bind parameters")
        start = _matching_brace(toks, start) + 1
    outer = _where_group(toks, start)
    if outer is None:
        raise QueryError(f"cannot bind parameters: this {form} query has no WHERE group")
    groups = [outer]
    for i in range(outer + 1, len(toks)):
        if toks[i].keyword() == "SELECT":
            inner = _where_group(toks, i + 1)
            if inner is not None:
                groups.append(inner)
    # Text to insert at character offsets, applied from the end so earlier offsets stay valid.
    edits: list[tuple[int, str]] = []
    for i in groups:
        close = _matching_brace(toks, i)
        if i + 1 < close and toks[i + 1].keyword() == "SELECT":
            edits += [(toks[i].end, f" {block} {{"), (toks[close].start, "} ")]
        else:
            edits.append((toks[i].end, f" {block} "))
    text = sparql
    for pos, insert in sorted(edits, key=lambda e: e[0], reverse=True):
        text = text[:pos] + insert + text[pos:]
    return text


def with_prefixes(sparql: str) -> str:
    """Declare the project's prefixes the query uses without declaring, as the embedded store does.

    Only those it uses: the query stays short enough to be sent by GET, and readable in the
    server's logs. They go on the query's first line, so a server's "line N" in an error still
    points at line N of the analyst's text.
    """
    toks = tokens(sparql)
    mine = declared_prefixes(toks)
    used = {t.text.split(":", 1)[0] for t in toks if t.kind == "name" and ":" in t.text}
    decls = " ".join(f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items() if p in used and p not in mine)
    return f"{decls} {sparql}" if decls else sparql


# -- results -----------------------------------------------------------------------------------


def _malformed(endpoint: str, why: str) -> QueryError:
    return QueryError(f"malformed response from {endpoint}: {why}")


def json_term(value: Any, endpoint: str) -> Term:
    """One SPARQL JSON results term as an rdflib term (the 1.0 ``typed-literal`` form included)."""
    if not isinstance(value, dict) or not isinstance(value.get("value"), str):
        raise _malformed(endpoint, f"a binding is not a term: {value!r:.200}")
    kind, text = value.get("type"), value["value"]
    if kind == "uri":
        return URIRef(text)
    if kind == "bnode":
        return BNode(text)
    if kind in ("literal", "typed-literal"):
        lang = value.get("xml:lang")
        if lang:
            return Literal(text, lang=lang)
        dt = value.get("datatype")
        if dt is not None and not isinstance(dt, str):
            raise _malformed(endpoint, f"datatype is not a string: {dt!r:.200}")
        if dt is None or dt in (_XSD_STRING, _RDF_LANGSTRING):
            return Literal(text)
        if dt == _GEOMETRY:
            return Literal(unround_wkt(text), datatype=URIRef(str(GEO.wktLiteral)))
        return Literal(text, datatype=URIRef(dt))
    raise _malformed(endpoint, f"unknown term type {kind!r}")


def _shortest_float32(number: str) -> str:
    """The shortest decimal text that reads back as the same single-precision float."""
    try:
        target = struct.pack("<f", float(number))
    except (ValueError, OverflowError):
        return number
    for digits in range(1, 10):
        text = f"{struct.unpack('<f', target)[0]:.{digits}g}"
        if struct.pack("<f", float(text)) == target:
            if "e" in text:  # WKT wants plain decimals
                text = f"{float(text):f}".rstrip("0").rstrip(".")
            return text
    return number


def unround_wkt(text: str) -> str:
    """Undo Virtuoso's float32 rendering of WKT coordinates (``0.37000000476837`` → ``0.37``)."""
    return re.sub(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", lambda m: _shortest_float32(m.group()), text)


def parse_json_results(body: bytes, endpoint: str) -> QueryResult:
    """Validate and convert a SPARQL 1.1 JSON results document; raise rather than half-convert."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _malformed(endpoint, f"not JSON ({exc}): {body[:200]!r}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("head"), dict):
        raise _malformed(endpoint, "no 'head' object")
    if "boolean" in doc:
        if not isinstance(doc["boolean"], bool):
            raise _malformed(endpoint, "'boolean' is not true or false")
        return QueryResult("ask", boolean=doc["boolean"])
    variables = doc["head"].get("vars")
    results = doc.get("results")
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise _malformed(endpoint, "'head.vars' is not a list of names")
    if not isinstance(results, dict) or not isinstance(results.get("bindings"), list):
        raise _malformed(endpoint, "no 'results.bindings' list")
    known = set(variables)
    rows = []
    for solution in results["bindings"]:
        if not isinstance(solution, dict) or not known.issuperset(solution):
            raise _malformed(endpoint, f"a solution binds undeclared variables: {solution!r:.200}")
        rows.append(tuple(None if v not in solution else json_term(solution[v], endpoint) for v in variables))
    return QueryResult("select", variables=variables, rows=rows)


def parse_graph(body: bytes, content_type: str, endpoint: str) -> QueryResult:
    fmt = _GRAPH_TYPES.get(content_type)
    if fmt is None:
        raise _malformed(endpoint, f"unexpected content type {content_type!r} for a graph")
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    try:
        graph.parse(data=body, format=fmt)
    except Exception as exc:  # rdflib raises many types for bad input
        raise _malformed(endpoint, f"the {content_type} document does not parse: {exc}") from exc
    return QueryResult("graph", graph=graph)


# -- the store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """User and password for an endpoint; ``repr`` hides the password so logs cannot leak it."""

    user: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, password='***')"


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


# -- credentials -------------------------------------------------------------------------------


def read_credentials(
    path: Path | None, endpoint: str, env: dict[str, str] | None = None
) -> Credentials | None:
    """Credentials from ``path`` if given, else from ``CMQ_GRAPH_USER``/``CMQ_GRAPH_PASSWORD``.

    The file is either netrc-like (``machine HOST login USER password PASS``, or ``default …``)
    or ``KEY=VALUE`` lines (``CMQ_GRAPH_USER=…``, ``CMQ_GRAPH_PASSWORD=…``; ``user``/``password``
    also accepted). Error messages name the file and the key, never a value.
    """
    env = dict(os.environ) if env is None else env
    if path is None:
        user, password = env.get("CMQ_GRAPH_USER"), env.get("CMQ_GRAPH_PASSWORD")
        if user and password:
            return Credentials(user, password)
        if user or password:
            raise StoreError("set both CMQ_GRAPH_USER and CMQ_GRAPH_PASSWORD, or neither")
        return None
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise StoreError(f"cannot read the credentials file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"warning: {path} is readable by other users; chmod 600 it", file=sys.stderr)
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    if "=" in text:
        values: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise StoreError(f"{path}:{number}: expected KEY=VALUE")
            values[key.strip().removeprefix("export ").strip().lower()] = value.strip().strip("'\"")
        user = values.get("cmq_graph_user") or values.get("user") or values.get("login")
        password = values.get("cmq_graph_password") or values.get("password")
    else:
        user = password = None
        words = text.split()
        entries: list[tuple[str | None, dict[str, str]]] = []
        i = 0
        while i < len(words):
            if words[i] == "machine" and i + 1 < len(words):
                entries.append((words[i + 1], {}))
                i += 2
            elif words[i] == "default":
                entries.append((None, {}))
                i += 1
            elif entries and i + 1 < len(words):
                entries[-1][1][words[i]] = words[i + 1]
                i += 2
            else:
                raise StoreError(f"{path}: not a netrc or KEY=VALUE file")
        for machine, fields in entries:
            if machine in (host, None):
                user, password = fields.get("login"), fields.get("password")
                if machine == host:
                    break
    if not user or not password:
        raise StoreError(f"{path}: no user and password for {host or 'this endpoint'}")
    return Credentials(user, password)


def check_url(url: str, what: str = "endpoint") -> str:
    """Refuse URLs that are not http(s) or that carry credentials (they would end up in logs)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError(f"the {what} must be an http(s) URL, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise StoreError(
            f"the {what} URL must not contain credentials: set CMQ_GRAPH_USER/CMQ_GRAPH_PASSWORD "
            "or use a credentials file"
        )
    return url


def _server_message(body: bytes, limit: int = 800) -> str:
    """The useful part of an error body: Virtuoso echoes the whole query after the message."""
    text = body.decode("utf-8", errors="replace").strip()
    text = text.split("\n\nSPARQL query:", 1)[0].strip()
    if text.startswith("<"):  # an HTML or XML page: keep its words
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"\s+", " ", text).strip()
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(no message)"


class _Redirected(Exception):
    def __init__(self, code: int, location: str):
        super().__init__(f"HTTP {code} to {location}")
        self.code = code
        self.location = location


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Stops at the first 3xx: ``urllib`` would otherwise follow it, to any scheme and host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        with contextlib.suppress(Exception):
            fp.close()
        raise _Redirected(code, newurl)


def is_loopback(host: str | None) -> bool:
    """``localhost`` or an address of 127.0.0.0/8 or ::1: traffic that never leaves the machine."""
    if not host:
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_credentials_transport(urls: Sequence[str], allow_plain_http: bool) -> None:
    """Refuse to offer credentials to a plain-http URL that leaves the machine (see module doc)."""
    if allow_plain_http:
        return
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise StoreError(
                f"refusing to send credentials over plain http:// to {parts.hostname}: anyone on the "
                "network can read them; use https://, or --allow-plain-http if this network is trusted"
            )


def _read_body(raw: http.client.HTTPResponse, deadline: float) -> bytes:
    """The whole body, each socket wait bounded by what is left until ``deadline``."""
    sock = getattr(getattr(getattr(raw, "fp", None), "raw", None), "_sock", None)
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline reached while reading the answer")
        if not raw.isclosed():  # http.client closes once Content-Length bytes were read
            if sock is not None:
                with contextlib.suppress(OSError):  # closed under us: read() then returns b""
                    sock.settimeout(left)
            chunk = raw.read1(65536)  # what one recv gives: read(n) would wait for all n bytes
            if chunk:
                chunks.append(chunk)
                continue
        body = b"".join(chunks)
        if raw.length:  # read(n) returns b"" at a premature end, where read() would raise
            raise http.client.IncompleteRead(body, raw.length)
        return body
        chunks.append(chunk)


# http.client refuses a response of more than 100 header lines (a guard against a header flood).
# Virtuoso answers a query with one header per graph of its dataset (``X-SPARQL-default-graph``,
# ``X-SPARQL-named-graph``, echoing each ``default-graph-uri``/``named-graph-uri``), so a
# publication of a few hundred source graphs gets a few hundred headers. The guard is raised to
# that many plus this margin before each query (never lowered); Python 3.11 has no per-connection
# setting for it, only this module value, read at each response.
RESPONSE_HEADER_MARGIN = 100


def _allow_response_headers(graphs: int) -> None:
    """Let a response carry one header per graph sent plus the usual few (see above)."""
    needed = graphs + RESPONSE_HEADER_MARGIN
    if getattr(http.client, "_MAXHEADERS", needed) < needed:
        http.client._MAXHEADERS = needed  # type: ignore[attr-defined]


class _Transient(Exception):
    """A failure worth retrying; ``error`` is what to raise if the retries run out."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


class RemoteStore:
    """A SPARQL 1.1 endpoint (query, and optionally update and Graph Store Protocol).

    ``endpoint`` answers queries; ``update_endpoint`` (default: ``endpoint``) takes SPARQL Update;
    ``graph_store_endpoint`` takes Graph Store Protocol requests. Credentials, if given, are
    offered to whichever of them asks (HTTP digest or basic: Virtuoso's ``/sparql-auth`` uses
    digest), and refused over plain http to a host other than loopback unless
    ``allow_plain_http``. ``timeout`` is each call's deadline, all attempts included. ``retries``
    bounds the extra attempts on transient failures (never on a timeout), waiting ``backoff``,
    then twice that, and so on up to ``max_backoff`` seconds, as long as the deadline allows.

    Queries see the graphs listed by the publication manifest ``dataset`` when the endpoint has
    one (see the module docstring), or exactly ``graphs`` if given; ``dataset=None`` and no
    ``graphs`` means the endpoint's whole default dataset.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        update_endpoint: str | None = None,
        graph_store_endpoint: str | None = None,
        timeout: float = 30,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        credentials: Credentials | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        dataset: str | None = DEFAULT_DATASET,
        graphs: Sequence[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        allow_plain_http: bool = False,
    ):
        self.endpoint = check_url(endpoint)
        self.update_endpoint = check_url(update_endpoint or endpoint, "update endpoint")
        self.graph_store_endpoint = (
            check_url(graph_store_endpoint, "graph store endpoint") if graph_store_endpoint else None
        )
        if timeout <= 0:
            raise StoreError("the timeout must be positive")
        if retries < 0:
            raise StoreError("retries must be 0 or more")
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.user_agent = user_agent
        self._sleep = sleep
        self.server: str | None = None  # the Server header last seen, e.g. "Virtuoso/07.20.3229"
        self.attempts = 0  # attempts made by the last request, for callers that report them
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
        if credentials is not None:
            urls = [self.endpoint, self.update_endpoint, self.graph_store_endpoint]
            check_credentials_transport([u for u in urls if u], allow_plain_http)
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            for url in {self.endpoint, self.update_endpoint, self.graph_store_endpoint} - {None}:
                passwords.add_password(None, url, credentials.user, credentials.password)
            handlers += [
                urllib.request.HTTPDigestAuthHandler(passwords),
                urllib.request.HTTPBasicAuthHandler(passwords),
            ]
        self._opener = urllib.request.build_opener(*handlers)
        self._has_credentials = credentials is not None
        self.dataset = dataset
        self._graphs: list[str] | None = list(graphs) if graphs is not None else None
        self._default: list[str] | None = None
        self._looked_up = graphs is not None or dataset is None

    def dataset_graphs(self) -> list[str] | None:
        """The named graphs queries are restricted to (None: no restriction); looked up once."""
        if not self._looked_up:
            self._read_manifest()
            self._looked_up = True
        return self._graphs

    def default_graphs(self) -> list[str] | None:
        """The graphs whose merge is the queries' default graph: the publication's deduplicated
        union graph when it has one (set semantics, as on the embedded store), else the named
        graphs themselves (each triple then counted once per graph holding it)."""
        graphs = self.dataset_graphs()
        return self._default or graphs

    def _read_manifest(self) -> None:
        """Read the publication manifest and check it describes a complete publication.

        A manifest in state ``publishing`` (a publish running, or killed), or a graph holding
        other than the count the manifest records (a server that lost writes in a crash), is an
        error: answering from it would be answering from half a graph.
        """
        manifest = sparql_term(URIRef(self.dataset or ""))
        text = (
            f"SELECT ?g ?u ?state ?n WHERE {{ GRAPH {manifest} {{ "
            f"{{ ?m <{PUBLISHED_GRAPH}> ?g }} UNION {{ ?m <{UNION_GRAPH}> ?u }} "
            f"UNION {{ ?m <{PUBLICATION_STATE}> ?state }} "
            f"UNION {{ ?e <{ENTRY_GRAPH}> ?g ; <{ENTRY_TRIPLES}> ?n }} }} }}"
        )
        response = self._send(self._query_request(text, "SELECT", False, None), None, what="query")
        result = self._result(response, False)
        names = list(result.variables)
        graphs: set[str] = set()
        union: set[str] = set()
        states: set[str] = set()
        counts: dict[str, int] = {}
        for row in result.rows:
            values = dict(zip(names, row, strict=True))
            g, u, state, n = (values.get(k) for k in ("g", "u", "state", "n"))
            if n is not None and g is not None:
                try:
                    counts[str(g)] = int(str(n))
                except ValueError as exc:
                    raise _malformed(self.endpoint, f"the manifest's count {n!r} is not a number") from exc
            elif g is not None:
                graphs.add(str(g))
            if u is not None:
                union.add(str(u))
            if state is not None:
                states.add(str(state))
        where = f"the publication <{self.dataset}> at {self.endpoint}"
        if "publishing" in states:
            raise StoreError(
                f"{where} is being replaced, or its publish was interrupted: retry when it is done, "
                "or publish again"
            )
        if counts:
            found = self._counts(sorted(counts))
            for g, n in sorted(counts.items()):
                if found.get(g, 0) != n:
                    raise StoreError(
                        f"{where} is incomplete: <{g}> holds {found.get(g, 0)} triples where the "
                        f"publish wrote {n} (the server lost writes, or a publish was interrupted); "
                        "publish again"
                    )
        self._graphs = sorted(graphs) or None
        self._default = sorted(union) or None

    def _counts(self, graphs: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for start in range(0, len(graphs), 200):
            chunk = " ".join(sparql_term(URIRef(g)) for g in graphs[start : start + 200])
            text = (
                f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {chunk} }} GRAPH ?g {{ ?s ?p ?o }} }} "
                "GROUP BY ?g"
            )
            response = self._send(self._query_request(text, "SELECT", False, None), None, what="query")
            for g, n in self._result(response, False).rows:
                counts[str(g)] = int(str(n))
        return counts

    # -- GraphStore ----------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Node] | None = None,
        *,
        timeout: float | None = None,
    ) -> QueryResult:
        toks = tokens(sparql)
        form = query_form(toks)
        if form == "UPDATE":
            raise QueryError("this is a SPARQL Update, not a query: use RemoteStore.update()")
        text = with_prefixes(bind_values(sparql, bindings or {}))
        graph_form = form in ("CONSTRUCT", "DESCRIBE")
        own_dataset = any(t.keyword() == "FROM" for t in toks)
        graphs = None if own_dataset else self.dataset_graphs()
        default = None if own_dataset else self.default_graphs()
        request = self._query_request(text, form or "SELECT", graph_form, graphs, default)
        response = self._send(request, timeout, what="query")
        return self._result(response, graph_form)

    def close(self) -> None:
        self._opener = None  # type: ignore[assignment]

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing (used by publish) ---------------------------------------------------------------

    def update(self, sparql: str, *, timeout: float | None = None) -> str:
        """Run a SPARQL Update; return the server's (short) message. Raises on any failure."""
        wrapper = self._wrapper(self.update_endpoint)
        wrapper.setQuery(sparql)
        wrapper.queryType = "INSERT"  # any update keyword: SPARQLWrapper then posts `update=`
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(URLENCODED)
        response = self._send(wrapper._createRequest(), timeout, what="update")
        return _server_message(response.body, 300)

    def graph_store_post(
        self,
        graph: str,
        data: bytes,
        content_type: str,
        *,
        param: str = "graph",
        timeout: float | None = None,
    ) -> int:
        """POST ``data`` into ``graph`` by the Graph Store Protocol (``param``: ``graph`` or Virtuoso's
        ``graph-uri``); return the HTTP status."""
        if self.graph_store_endpoint is None:
            raise StoreError("no Graph Store Protocol endpoint configured")
        url = f"{self.graph_store_endpoint}?{urllib.parse.urlencode({param: graph})}"
        request = urllib.request.Request(url, data=data, method="POST")
        request.add_header("Content-Type", content_type)
        request.add_header("User-Agent", self.user_agent)
        return self._send(request, timeout, what="upload").status

    # -- internals ------------------------------------------------------------------------------

    def _wrapper(self, url: str) -> SPARQLWrapper:
        wrapper = SPARQLWrapper(url, updateEndpoint=self.update_endpoint, agent=self.user_agent)
        wrapper.setOnlyConneg(True)  # no format=/output= parameters: the Accept header says it
        return wrapper

    def _query_request(
        self,
        text: str,
        form: str,
        graph_form: bool,
        graphs: Sequence[str] | None,
        default: Sequence[str] | None = None,
    ) -> urllib.request.Request:
        wrapper = self._wrapper(self.endpoint)
        wrapper.setQuery(text)
        wrapper.queryType = form  # our scanner's answer, not SPARQLWrapper's regex
        wrapper.setReturnFormat(TURTLE if graph_form else JSON)
        size = len(urllib.parse.quote_plus(text))
        for graph in default or graphs or ():
            wrapper.addDefaultGraph(graph)
            size += len(urllib.parse.quote_plus(graph)) + 20
        for graph in graphs or ():
            wrapper.addNamedGraph(graph)
            size += len(urllib.parse.quote_plus(graph)) + 20
        _allow_response_headers(len(default or graphs or ()) + len(graphs or ()))
        long = size > GET_LIMIT
        wrapper.setMethod(POST if long else GET)
        wrapper.setRequestMethod(URLENCODED if long else POSTDIRECTLY)
        request = wrapper._createRequest()
        if graph_form:
            request.add_header("Accept", _GRAPH_ACCEPT)
        return request

    def _send(self, request: urllib.request.Request, timeout: float | None, *, what: str) -> Response:
        """Send with retries on transient failures, all within ``timeout`` seconds from now;
        return a 2xx response read in full."""
        timeout = self.timeout if timeout is None else timeout
        if not timeout > 0 or timeout == float("inf"):
            raise QueryError("the timeout must be a positive number of seconds")
        deadline = time.monotonic() + timeout
        url = request.full_url.split("?", 1)[0]
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            self.attempts = attempt
            try:
                return self._once(request, timeout, deadline, url, what)
            except _Transient as transient:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                if attempt == attempts or time.monotonic() + wait >= deadline:
                    error = transient.error
                    note = f" ({attempt} attempts)" if attempt > 1 else ""
                    if attempt < attempts:
                        note += f" (no time left for another within {timeout:g} s)"
                    raise type(error)(f"{error}{note}") from None
                self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(
        self, request: urllib.request.Request, timeout: float, deadline: float, url: str, what: str
    ) -> Response:
        timed_out = QueryError(
            f"{what} timed out after {timeout:g} s at {url} (a deadline for the whole call; not retried)"
        )
        left = deadline - time.monotonic()
        if left <= 0:
            raise timed_out
        try:
            with self._opener.open(request, timeout=left) as raw:
                body = _read_body(raw, deadline)
                self.server = raw.headers.get("Server", self.server)
                return Response(raw.status, raw.headers, body)
        except _Redirected as moved:
            raise StoreError(
                f"{url} answered with a redirect (HTTP {moved.code}) to {moved.location}: redirects are "
                "not followed; give the final URL of the endpoint"
            ) from None
        except urllib.error.HTTPError as exc:
            body = b""
            try:
                body = exc.read()
            except (OSError, http.client.HTTPException):
                pass
            finally:
                exc.close()
            self.server = exc.headers.get("Server", self.server) if exc.headers else self.server
            raise self._http_error(exc.code, body, url, what) from None
        except TimeoutError:
            raise timed_out from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                raise timed_out from None
            if isinstance(reason, ConnectionError | OSError):
                text = getattr(reason, "strerror", None) or str(reason)
                raise _Transient(StoreError(f"cannot reach the SPARQL endpoint {url}: {text}")) from exc
            raise StoreError(f"cannot reach the SPARQL endpoint {url}: {reason}") from exc
        except (ConnectionError, http.client.HTTPException) as exc:
            # Reset or closed mid-answer (RemoteDisconnected, IncompleteRead): nothing usable came.
            reason = type(exc).__name__ + (f": {exc}" if str(exc) else "")
            raise _Transient(StoreError(f"the connection to {url} broke: {reason}")) from exc

    def _http_error(self, code: int, body: bytes, url: str, what: str) -> Exception:
        message = _server_message(body)
        if code in TRANSIENT_STATUS:
            return _Transient(StoreError(f"the endpoint {url} is unavailable (HTTP {code}): {message}"))
        if code in (401, 403):
            hint = (
                "the credentials were refused"
                if self._has_credentials
                else "set CMQ_GRAPH_USER and CMQ_GRAPH_PASSWORD, or use --credentials-file"
            )
            return StoreError(f"not authorised by {url} (HTTP {code}): {hint}")
        if code == 404:
            return StoreError(f"no SPARQL service at {url} (HTTP 404): check the endpoint URL")
        if code == 500 and re.search(r"\bS1T00\b|SR171|timed out", message):
            return QueryError(f"the server stopped the {what} at its time limit (HTTP 500): {message}")
        if 400 <= code < 500:
            return QueryError(f"the endpoint rejected the {what} (HTTP {code}): {message}")
        return QueryError(f"the endpoint failed on the {what} (HTTP {code}): {message}")

    def _result(self, response: Response, graph_form: bool) -> QueryResult:
        url = self.endpoint
        state = response.headers.get("X-SQL-State")
        if state:
            raise QueryError(
                f"{url} returned incomplete results (X-SQL-State {state}: "
                f"{response.headers.get('X-SQL-Message', 'query interrupted')}); "
                "raise MaxQueryExecutionTime or narrow the query"
            )
        if graph_form:
            return parse_graph(response.body, response.content_type, url)
        if response.content_type not in _JSON_TYPES:
            raise _malformed(url, f"expected SPARQL JSON results, got content type {response.content_type!r}")
        result = parse_json_results(response.body, url)
        max_rows = response.headers.get("X-SPARQL-MaxRows")
        if max_rows is not None and result.kind == "select":
            try:
                limit = int(max_rows)
            except ValueError:
                limit = 0
            if len(result.rows) >= limit:
                raise QueryError(
                    f"{url} cut the result at {len(result.rows)} rows (its ResultSetMaxRows is "
                    f"{max_rows}): the answer would be incomplete; raise ResultSetMaxRows in the "
                    "server's [SPARQL] settings or page the query with LIMIT/OFFSET"
                )
        return result
