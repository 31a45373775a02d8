"""The query catalogue: ``queries/*.rq``, their documented headers, typed parameters, and runs.

A catalogue query is a plain SPARQL file whose leading comment block documents it, so that the
same file is readable in an editor, runnable in any SPARQL tool, and listable by ``cmq-graph
queries``. The header format (every key optional except the titles)::

    # title@fr: Campus et statut du label à une date
    # title@en: Campuses and their label status as of a date
    # description: What the question answers, which choices the query makes.
    #   Continuation lines start with '#' and at least two spaces.
    # param: ?as_of date = 2025-09-01 — date at which the status is computed
    # param: ?campus iri = id:campus/propulsions — the campus
    # returns: ?campus the campus, ?status its label status

``title:`` alone is read as the French title. A parameter line is ``NAME [TYPE] [= DEFAULT]
[— doc]`` (``--`` also separates the doc). Types: ``iri`` (``<…>``, ``https://…`` or a compact
IRI such as ``id:campus/propulsions``), ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, typed as
the curated data types them), ``integer``, ``decimal``, ``boolean``, ``string``, ``langstring``
(``texte@fr``) and ``term`` (any of these, written as in Turtle; the default when the type is
left out). A parameter without default is required.

Parameters are RDF terms handed to :meth:`GraphStore.query` as bindings, never pasted into the
query text: a value full of quotes and braces is still one literal. The embedded store binds
them through Oxigraph's substitutions, which only accept variables of the SELECT projection, so a
SELECT query must project every parameter it declares (``queries`` check tests this).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from . import paths
from .errors import QueryError
from .namespaces import PREFIXES
from .store import EmbeddedStore, GraphStore, QueryResult

TYPES = ("iri", "date", "integer", "decimal", "boolean", "string", "langstring", "term")
HEADER_KEYS = (
    "title",
    "title@fr",
    "title@en",
    "description",
    "description@fr",
    "description@en",
    "param",
    "returns",
)
RESERVED = frozenset({"limit", "timeout", "store", "format", "endpoint", "params", "query"})

_KEY_LINE = re.compile(r"^#\s?(?P<key>[A-Za-z][A-Za-z@-]*)\s*:\s?(?P<value>.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(?P<value>\S.*)$")
_PARAM = re.compile(
    r"""^\s*[?$]?(?P<name>[A-Za-z_][A-Za-z0-9_]*)
        (?:\s+(?P<type>[a-z]+)(?![^\s=]))?
        (?:\s*=\s*(?P<default>"(?:[^"\\]|\\.)*"(?:@[A-Za-z-]+|\^\^\S+)?|\S+))?
        \s*(?:(?:—|--|–)\s*(?P<doc>.*)|(?P<rest>.*))$""",
    re.VERBOSE,
)
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_ERROR_AT = re.compile(r"error at (\d+):(\d+):?\s*")
_NOT_PROJECTED = re.compile(r"does not contains? variable \?(\w+) in its SELECT projection")
_IRI_CHARS = re.compile(r'^[^\s<>"{}|\\^`]+$')
_COMPACT = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z0-9_-]*)?:(?P<local>[^\s<>\"{}|\\^`]*)$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_LANG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_TYPED = re.compile(r'^"(?P<lex>(?:[^"\\]|\\.)*)"(?:@(?P<lang>[A-Za-z-]+)|\^\^(?P<dt>\S+))?$')


@dataclass(frozen=True)
class Param:
    """One declared parameter: a variable of the query bound to a typed RDF term."""

    name: str
    type: str = "term"
    default: str | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is None

    def signature(self) -> str:
        text = f"?{self.name} {self.type}"
        return text if self.default is None else f"{text} = {self.default}"


@dataclass(frozen=True)
class CatalogQuery:
    """A query with its documentation; ``name`` is the file stem (or ``-`` for stdin)."""

    name: str
    text: str
    path: Path | None = None
    title_fr: str = ""
    title_en: str = ""
    description: str = ""
    description_fr: str = ""
    params: tuple[Param, ...] = ()
    returns: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False)
    declared: bool = True  # False for a header-less query: any ?variable may be bound

    @property
    def title(self) -> str:
        return self.title_fr or self.title_en or self.name

    @property
    def form(self) -> str:
        """``select``, ``ask``, ``construct`` or ``describe``, from the first query keyword."""
        body = "\n".join(line.split("#", 1)[0] for line in _strip_header(self.text).splitlines())
        m = _FORM.search(body)
        return m.group(1).lower() if m else "select"

    @property
    def where(self) -> str:
        return str(self.path) if self.path else self.name

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise QueryError(f"{self.where}: unknown parameter '{name}'; {self._known()}")

    def _known(self) -> str:
        if not self.params:
            return "this query declares no parameter"
        return "its parameters are: " + ", ".join(p.signature() for p in self.params)

    def defaults(self) -> dict[str, str]:
        return {p.name: p.default for p in self.params if p.default is not None}


def _strip_header(text: str) -> str:
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        i += 1
    return "\n".join(lines[i:])


# -- parsing --------------------------------------------------------------------------------


def parse(text: str, name: str, path: Path | None = None) -> CatalogQuery:
    """Read the header of a query text; raise QueryError (with the line) on a malformed header."""
    where = str(path) if path else name
    fields: dict[str, str] = {}
    params: list[Param] = []
    extra: dict[str, str] = {}
    last: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            last = None
            continue
        if not stripped.startswith("#"):
            break
        if (cont := _CONTINUATION.match(stripped)) and last is not None:
            value = cont.group("value").strip()
            if last == "param":
                p = params[-1]
                params[-1] = Param(p.name, p.type, p.default, f"{p.doc} {value}".strip())
            elif last in fields:
                fields[last] = f"{fields[last]} {value}".strip()
            else:
                extra[last] = f"{extra[last]} {value}".strip()
            continue
        m = _KEY_LINE.match(stripped)
        if not m:
            last = None
            continue
        key, value = m.group("key").lower(), m.group("value").strip()
        if key == "param":
            params.append(_parse_param(value, where, lineno))
        elif key in HEADER_KEYS:
            fields[key] = value
        else:
            extra[key] = value
        last = key
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise QueryError(f"{where}: parameter '{dup}' is declared twice")
    query = CatalogQuery(
        name=name,
        text=text,
        path=path,
        title_fr=fields.get("title@fr") or fields.get("title", ""),
        title_en=fields.get("title@en", ""),
        description=fields.get("description") or fields.get("description@en", ""),
        description_fr=fields.get("description@fr", ""),
        params=tuple(params),
        returns=fields.get("returns", ""),
        extra=extra,
        declared=bool(fields or params),
    )
    for p in query.params:
        if p.default is not None:
            to_term(p, p.default, where)  # a bad default is the author's mistake: say so now
    return query


def _parse_param(value: str, where: str, lineno: int) -> Param:
    m = _PARAM.match(value)
    if not m:
        raise QueryError(f"{where}:{lineno}: cannot read the parameter line '{value}'")
    name, typ, default = m.group("name"), m.group("type"), m.group("default")
    doc = (m.group("doc") or m.group("rest") or "").strip()
    if typ is not None and typ not in TYPES:
        # No type given: the word belongs to the description (``# param: ?campus the campus``).
        doc = f"{typ} {doc}".strip() if default is None else doc
        if default is not None:
            raise QueryError(f"{where}:{lineno}: unknown type '{typ}'; types are: {', '.join(TYPES)}")
        typ = None
    if name in RESERVED:
        raise QueryError(f"{where}:{lineno}: '{name}' is reserved; call the parameter otherwise")
    quoted = default is not None and len(default) >= 2 and default[0] == default[-1] == '"'
    if quoted and (typ or "term") != "term":
        assert default is not None
        default = default[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return Param(name, typ or "term", default, doc)


def load(path: Path) -> CatalogQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryError(f"cannot read {path}: {exc}") from exc
    return parse(text, path.stem, path)


def catalogue(directory: Path | None = None) -> dict[str, CatalogQuery]:
    """Every ``*.rq`` of ``directory`` (default: :func:`paths.queries_dir`), by name.

    A missing folder or one without any ``.rq`` is an error: an empty catalogue is always a wrong
    path (a typo in ``--queries`` or ``$CMQ_GRAPH_QUERIES``), never a catalogue to report "OK" on.
    """
    folder = _folder(directory)
    found = sorted(folder.glob("*.rq"), key=lambda p: p.stem)
    if not found:
        raise QueryError(f"{folder}: no query (*.rq) in this folder; the catalogue is empty")
    return {p.stem: load(p) for p in found}


def _folder(directory: Path | None) -> Path:
    folder = paths.queries_dir(directory)
    if not folder.is_dir():
        what = "not a folder" if folder.exists() else "no such folder"
        raise QueryError(f"{folder}: {what} (the query catalogue, from --queries or ${paths.ENV_QUERIES})")
    return folder


def resolve(spec: str, directory: Path | None = None) -> CatalogQuery:
    """A catalogue name, a path to a ``.rq`` file, or a query text (which contains a keyword)."""
    looks_like_text = "\n" in spec or "{" in spec or _FORM.match(spec.lstrip()) is not None
    if not looks_like_text and (spec.endswith(".rq") or "/" in spec or spec.startswith(".")):
        candidate = Path(spec)
        if not candidate.is_file():
            raise QueryError(f"no such query file: {spec}")
        return load(candidate)
    if re.fullmatch(r"[A-Za-z0-9_.-]+", spec):
        folder = _folder(directory)
        path = folder / f"{spec}.rq"
        if path.exists():
            return load(path)
        names = sorted(p.stem for p in folder.glob("*.rq"))
        close = [n for n in names if spec.lower() in n.lower()]
        hint = f"did you mean: {', '.join(close)}? " if close else ""
        if not names:
            raise QueryError(f"unknown query '{spec}': {folder} has no query (*.rq); the catalogue is empty")
        raise QueryError(
            f"unknown query '{spec}'; {hint}the catalogue has: {', '.join(names)}"
            " (`cmq-graph queries` lists them)"
        )
    return parse(spec, "<text>")


# -- parameters -----------------------------------------------------------------------------


def expand_iri(value: str, where: str = "", name: str = "") -> URIRef:
    """``<…>``, an absolute IRI, or a compact IRI with one of the project's prefixes."""
    what = f"{where}: parameter '{name}'" if name else (where or "value")
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    elif (m := _COMPACT.match(text)) and (m.group("prefix") or "") in PREFIXES:
        text = PREFIXES[m.group("prefix") or ""] + m.group("local")
    elif (m := _COMPACT.match(text)) and not text.startswith(("http:", "https:", "urn:")):
        raise QueryError(
            f"{what}: unknown prefix '{m.group('prefix')}:' in '{value}'; "
            f"known prefixes: {', '.join(sorted(PREFIXES))}"
        )
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) or not _IRI_CHARS.match(text):
        raise QueryError(
            f"{what}: '{value}' is not an IRI (expected <https://…>, https://… or a compact IRI "
            "such as id:campus/propulsions)"
        )
    return URIRef(text)


def date_literal(value: str, what: str = "value") -> Literal:
    """``YYYY``/``YYYY-MM``/``YYYY-MM-DD`` → xsd:gYear/gYearMonth/date, as the data types dates."""
    m = _DATE.match(value.strip())
    if not m:
        raise QueryError(f"{what}: '{value}' is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = m.groups()
    try:
        if day:
            datetime.date(int(year), int(month), int(day))
            return Literal(value.strip(), datatype=XSD.date)
        if month:
            if not 1 <= int(month) <= 12:
                raise ValueError(month)
            return Literal(value.strip(), datatype=XSD.gYearMonth)
    except ValueError as exc:
        raise QueryError(f"{what}: '{value}' is not a valid date") from exc
    return Literal(value.strip(), datatype=XSD.gYear)


def to_term(param: Param, value: object, where: str = "") -> Node:
    """Turn a user's value (text from the command line, or a Python value) into an RDF term."""
    what = f"{where}: parameter '{param.name}' ({param.type})" if where else f"parameter '{param.name}'"
    if isinstance(value, URIRef | Literal | BNode):
        if param.type == "iri" and not isinstance(value, URIRef):
            raise QueryError(f"{what}: expected an IRI, got {value!r}")
        return value
    if not isinstance(value, str):
        return _python_term(param, value, what)
    typ = param.type
    if typ == "iri":
        return expand_iri(value, where, param.name)
    if typ == "date":
        return date_literal(value, what)
    if typ == "integer":
        if not re.fullmatch(r"[+-]?[0-9]+", value.strip()):
            raise QueryError(f"{what}: '{value}' is not an integer")
        return Literal(int(value), datatype=XSD.integer)
    if typ == "decimal":
        try:
            return Literal(Decimal(value.strip()), datatype=XSD.decimal)
        except InvalidOperation as exc:
            raise QueryError(f"{what}: '{value}' is not a decimal number") from exc
    if typ == "boolean":
        low = value.strip().lower()
        if low not in {"true", "false", "1", "0", "yes", "no", "oui", "non"}:
            raise QueryError(f"{what}: '{value}' is not a boolean (true or false)")
        return Literal(low in {"true", "1", "yes", "oui"})
    if typ == "string":
        return Literal(value)
    if typ == "langstring":
        text, sep, lang = value.rpartition("@")
        if not sep or not _LANG.match(lang):
            raise QueryError(f"{what}: '{value}' has no language tag (expected text@fr)")
        return Literal(text, lang=lang)
    return _term(value, what)


# Python values each type takes as they are (text is read by the type, see to_term).
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "decimal": (int, float, Decimal),
    "boolean": (bool,),
    "date": (datetime.date,),
    "term": (bool, int, float, Decimal, datetime.date),
}
_EXPECTED = {
    "iri": "text such as 'id:campus/propulsions' or an rdflib URIRef",
    "date": "a datetime.date or text such as '2024-09-01'",
    "integer": "an int or text",
    "decimal": "a number or text",
    "boolean": "a bool or text",
    "string": "text",
    "langstring": "text such as 'texte@fr' or an rdflib Literal with a language",
}


def _python_term(param: Param, value: object, what: str) -> Node:
    """A Python value (not text) as a term, only where the parameter's type takes it: an int
    given for an IRI parameter (``campus=5``) is refused rather than matching nothing."""
    allowed = _PYTHON_TYPES.get(param.type, ())
    if isinstance(value, bool) and bool not in allowed:
        allowed = ()
    if not isinstance(value, allowed):
        expected = _EXPECTED.get(param.type, "an RDF term")
        raise QueryError(f"{what}: got the {type(value).__name__} {value!r}; expected {expected}")
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    if isinstance(value, float | Decimal):
        return Literal(Decimal(str(value)), datatype=XSD.decimal)
    assert isinstance(value, datetime.date)
    return Literal(value.isoformat(), datatype=XSD.date)


def _term(value: str, what: str) -> Node:
    """A term written as in Turtle: IRI, compact IRI, "literal"@lang, "lex"^^type, number, date."""
    text = value.strip()
    if m := _TYPED.match(text):
        lex = m.group("lex").replace('\\"', '"').replace("\\\\", "\\")
        if m.group("lang"):
            return Literal(lex, lang=m.group("lang"))
        if m.group("dt"):
            return Literal(lex, datatype=expand_iri(m.group("dt"), what))
        return Literal(lex)
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return Literal(int(text), datatype=XSD.integer)
    if _DATE.match(text):
        return date_literal(text, what)
    if text.startswith("<") or _COMPACT.match(text) or re.match(r"^https?://", text):
        return expand_iri(text, what)
    raise QueryError(
        f"{what}: cannot read '{value}' as an RDF term (write an IRI, a compact IRI, "
        'a number, a date, or a quoted "literal")'
    )


def bind(query: CatalogQuery, values: Mapping[str, object] | None = None) -> dict[str, Node]:
    """Declared defaults overridden by ``values``, each turned into an RDF term of its type."""
    values = dict(values or {})
    bound: dict[str, Node] = {}
    for name, value in values.items():
        name = name.lstrip("?$")
        if query.declared:
            param = query.param(name)
        else:
            if not re.search(rf"[?$]{re.escape(name)}\b", query.text):
                raise QueryError(f"{query.where}: unknown parameter '{name}': the query has no ?{name}")
            param = Param(name)
        bound[name] = to_term(param, value, query.where)
    for p in query.params:
        if p.name in bound:
            continue
        if p.default is None:
            raise QueryError(f"{query.where}: parameter '{p.name}' is required ({p.signature()}: {p.doc})")
        bound[p.name] = to_term(p, p.default, query.where)
    return bound


# -- running --------------------------------------------------------------------------------


def _has_service(text: str) -> bool:
    from .remote import tokens  # remote imports the store, which imports us

    return any(t.keyword() == "SERVICE" for t in tokens(text))


def syntax_error(text: str, where: str = "<text>") -> QueryError | None:
    """Parse ``text`` with Oxigraph (on an empty store); a clear error with line and column.

    A query with ``SERVICE`` is read by rdflib's parser only: Oxigraph would call the service.
    """
    if _has_service(text):
        if (near := _rdflib_position(text)) is not None:
            return QueryError(
                f"{where}, line {near[0]}, column {near[1]}: SPARQL syntax error near {near[2]!r}"
            )
        return None
    try:
        ox.Store().query(text, prefixes=PREFIXES)
    except SyntaxError as exc:
        return _located(str(exc), text, where)
    return None


def _located(message: str, text: str, where: str) -> QueryError:
    """Oxigraph's error, placed where a person looks for it.

    Oxigraph's PEG parser reports the furthest point it reached, which can be past the mistake
    (the end of the query, for an incomplete FILTER); rdflib's parser reports the start of the
    clause it could not read. The earlier of the two positions is shown, with the offending line.
    """
    m = _ERROR_AT.search(message)
    if not m:
        return QueryError(f"{where}: SPARQL syntax error: {message}")
    line, col = int(m.group(1)), int(m.group(2))
    detail = re.sub(r"\s+", " ", message[m.end() :].strip())
    if "Prefix not found" in detail:
        detail = "unknown prefix (declare it with PREFIX, or use one of: " + ", ".join(PREFIXES) + ")"
    elif len(detail) > 200:
        detail = detail[:200] + "…"
    near = _rdflib_position(text)
    if near is not None and (near[0], near[1]) < (line, col):
        line, col = near[0], near[1]
        detail = f"cannot read from {near[2]!r} on ({detail})"
    lines = text.splitlines()
    shown = ""
    if 1 <= line <= len(lines):
        shown = f"\n  {line} | {lines[line - 1]}\n  {' ' * len(str(line))} | {' ' * max(col - 1, 0)}^"
    err = QueryError(f"{where}, line {line}, column {col}: SPARQL syntax error: {detail}{shown}")
    err.line, err.column = line, col  # type: ignore[attr-defined]
    return err


def _rdflib_position(text: str) -> tuple[int, int, str] | None:
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parseQuery(text)
    except ParseException as exc:
        found = re.search(r"found '([^']*)'", str(exc))
        return exc.lineno, exc.col, found.group(1) if found else ""
    except Exception:
        return None
    return None


def with_limit(sparql: str, limit: int) -> str:
    """``sparql`` with ``LIMIT limit`` as its own solution modifier (an existing LIMIT is kept
    if smaller), so that the engine stops after ``limit`` rows, on any backend.

    The LIMIT goes after the outermost group (and its GROUP BY, ORDER BY…), before a trailing
    ``VALUES`` block; an ASK query, or a text whose shape is not recognised, is left as is.
    """
    from .remote import query_form, tokens  # remote imports the store, which imports us

    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise QueryError(f"the limit must be an integer ≥ 0, not {limit!r}")
    toks = tokens(sparql)
    if query_form(toks) not in ("SELECT", "CONSTRUCT", "DESCRIBE"):
        return sparql
    depth = 0
    last_close = None
    values_at = None
    for i, t in enumerate(toks):
        if t.text == "{":
            if depth == 0 and i > 0 and values_at is None:
                # a top-level VALUES after the outermost group opens a trailing data block
                j = i - 1
                while (j >= 0 and toks[j].kind == "var") or (j >= 0 and toks[j].text in "()"):
                    j -= 1
                if j >= 0 and toks[j].keyword() == "VALUES" and last_close is not None:
                    values_at = j
            depth += 1
        elif t.text == "}":
            depth -= 1
            if depth == 0 and values_at is None:
                last_close = i
    if depth != 0:
        return sparql  # unbalanced: the engine will say why
    tail = toks[(last_close or -1) + 1 : values_at]
    for t in tail:
        if t.keyword() == "LIMIT" and (number := re.compile(r"\s*(\d+)").match(sparql, t.end)):
            if int(number.group(1)) <= limit:
                return sparql
            return sparql[: number.start(1)] + str(limit) + sparql[number.end(1) :]
    at = toks[values_at].start if values_at is not None else len(sparql)
    return f"{sparql[:at].rstrip()}\nLIMIT {limit}\n{sparql[at:]}"


def check_projection(q: CatalogQuery, bindings: Mapping[str, Node]) -> None:
    """Refuse a SELECT whose parameters are not all projected, on every backend alike (the
    embedded store binds on the projection; an endpoint would bind them silently otherwise)."""
    if not bindings or q.form != "select":
        return
    if _has_service(q.text):
        return  # never planned here: even an empty store would call the service
    subs = {ox.Variable(k): ox.NamedNode("urn:cmq:placeholder") for k in bindings}
    try:
        ox.Store().query(q.text, substitutions=subs, prefixes=PREFIXES)
    except SyntaxError:
        return  # the run reports it, with its line and column
    except RuntimeError as exc:
        if m := _NOT_PROJECTED.search(str(exc)):
            raise QueryError(
                f"{q.where}: parameter ?{m.group(1)} must appear in the SELECT clause "
                "(parameters are bound on the projected variables)"
            ) from None


def run(
    store: GraphStore,
    query: CatalogQuery | str,
    params: Mapping[str, object] | None = None,
    *,
    timeout: float | None = None,
    limit: int | None = None,
) -> QueryResult:
    """Run a catalogue query (or a name, path or text) with its parameters bound as terms.

    ``limit`` is written into the query (:func:`with_limit`): the engine stops after that many
    rows. Every backend gets the same checks first (:func:`check_projection`).
    """
    q = resolve(query) if isinstance(query, str) else query
    bindings = bind(q, params)
    check_projection(q, bindings)
    text = q.text if limit is None else with_limit(q.text, limit)
    try:
        return store.query(text, bindings or None, timeout=timeout)
    except QueryError as exc:
        if located := syntax_error(q.text, q.where):
            raise located from exc
        if m := _NOT_PROJECTED.search(str(exc)):
            raise QueryError(
                f"{q.where}: parameter ?{m.group(1)} must appear in the SELECT clause "
                "(parameters are bound on the projected variables)"
            ) from exc
        raise


def check(query: CatalogQuery) -> list[str]:
    """Problems of a catalogue query's file: header, syntax, parameters (empty list if none)."""
    problems = []
    if not query.title_fr:
        problems.append("no French title (# title@fr: …)")
    if not query.title_en:
        problems.append("no English title (# title@en: …)")
    if not query.description:
        problems.append("no description (# description: …)")
    if err := syntax_error(query.text, query.where):
        return [*problems, str(err)]
    if query.params:
        placeholders = {p.name: _PLACEHOLDERS[p.type] for p in query.params if p.required}
        try:
            run(EmbeddedStore.from_quads([]), query, placeholders)
        except QueryError as exc:
            problems.append(str(exc))
    return problems


_PLACEHOLDERS: dict[str, Node] = {
    "iri": URIRef("urn:cmq:placeholder"),
    "term": URIRef("urn:cmq:placeholder"),
    "date": Literal("2000-01-01", datatype=XSD.date),
    "integer": Literal(0, datatype=XSD.integer),
    "decimal": Literal(Decimal(0), datatype=XSD.decimal),
    "boolean": Literal(False),
    "string": Literal(""),
    "langstring": Literal("", lang="fr"),
}


# -- comparing engines ----------------------------------------------------------------------

_NUMERIC = {
    str(XSD[t])
    for t in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "decimal",
        "nonNegativeInteger",
        "positiveInteger",
        "unsignedInt",
        "unsignedLong",
    )
}


_WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
_WKT_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _wkt_number(match: re.Match[str]) -> str:
    text = format(Decimal(match.group()).normalize(), "f")
    return "0" if text in ("-0", "") else text


def canonical(term: Node | None) -> str:
    """An engine-neutral N-Triples form: plain = xsd:string, integers and decimals by value.

    WKT coordinates are compared as numbers (``48.78360`` = ``48.7836``): Virtuoso stores
    geometries as numbers and writes them back without trailing zeros.
    """
    if term is None:
        return ""
    if isinstance(term, BNode):
        return "_:b"
    if isinstance(term, Literal):
        dt = str(term.datatype) if term.datatype else None
        if dt == str(XSD.string):
            return Literal(str(term)).n3()
        if dt in _NUMERIC:
            try:
                number = Decimal(str(term))
            except InvalidOperation:
                return term.n3()
            if number == number.to_integral_value():
                return f'"{int(number)}"^^<{XSD.integer}>'
            return f'"{number.normalize()}"^^<{XSD.decimal}>'
        if term.language:
            return Literal(str(term), lang=term.language.lower()).n3()
        if dt == _WKT:
            return Literal(_WKT_NUMBER.sub(_wkt_number, str(term)), datatype=term.datatype).n3()
    return term.n3()


def comparable(result: QueryResult) -> tuple:
    """A result as sorted canonical rows, so two engines' answers compare with ``==``."""
    if result.kind == "ask":
        return ("ask", result.boolean)
    if result.kind == "graph":
        assert result.graph is not None
        return ("graph", sorted(" ".join(canonical(t) for t in triple) for triple in result.graph))
    return ("select", tuple(result.variables), sorted(tuple(canonical(t) for t in r) for r in result.rows))


def run_catalogue(
    store: GraphStore,
    names: Iterable[str] | None = None,
    *,
    directory: Path | None = None,
    timeout: float | None = None,
) -> dict[str, tuple]:
    """Every catalogue query that can run on its defaults, as :func:`comparable` results.

    The remote backend's tests compare this between Virtuoso and the embedded store; queries
    with a required parameter are left out (they have no answer without one).
    """
    queries = catalogue(directory)
    wanted = list(names) if names is not None else sorted(queries)
    out = {}
    for name in wanted:
        q = queries.get(name) or resolve(name, directory)
        if any(p.required for p in q.params):
            continue
        out[name] = comparable(run(store, q, timeout=timeout))
    return out
