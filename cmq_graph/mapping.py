"""Curated tables -> quads, each in the named graph of the source that states it.

Reads every table declared in :mod:`cmq_graph.tables`, checks each cell against its column's
kind, resolves references and vocabulary codes, and emits Oxigraph quads. Every problem of the
run is collected (file, line, column, what was expected) before anything is raised.
"""

from __future__ import annotations

import datetime
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError, Problem
from .namespaces import FOAF, GEO, META_GRAPH, SLUG, entity_iri, source_iri
from .reading import iri_node, read_rows, table_files
from .tables import MULTI_SEPARATOR, SOURCES, TABLES, Column, Table
from .vocabulary import Ontology

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD = "http://www.w3.org/2001/XMLSchema#"
DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")
IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
INTEGER = re.compile(r"^[0-9]+$")
DECIMAL = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")
HAS_GEOMETRY = ox.NamedNode(str(GEO.hasGeometry))
AS_WKT = ox.NamedNode(str(GEO.asWKT))
GEOMETRY = ox.NamedNode(str(GEO.Geometry))
WKT = ox.NamedNode(str(GEO.wktLiteral))
XSD_DATE = ox.NamedNode(XSD + "date")
XSD_GYEARMONTH = ox.NamedNode(XSD + "gYearMonth")
XSD_GYEAR = ox.NamedNode(XSD + "gYear")
XSD_INTEGER = ox.NamedNode(XSD + "integer")
XSD_DECIMAL = ox.NamedNode(XSD + "decimal")
FOAF_AGENT = ox.NamedNode(str(FOAF.Agent))
FOAF_NAME = ox.NamedNode(str(FOAF.name))


def agent_slug(name: str) -> str:
    """The key of a publisher's agent IRI: its name without accents, lower case, dashed."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


@dataclass
class Row:
    table: Table
    file: str
    line: int
    values: dict[str, str]

    @property
    def id(self) -> str:
        return self.values.get("id", "")


@dataclass
class Mapped:
    """What the mapping produced: quads, and where each entity was first stated (for reports)."""

    quads: list[ox.Quad] = field(default_factory=list)
    origins: dict[str, tuple[str, int]] = field(default_factory=dict)
    rows: Counter[str] = field(default_factory=Counter)
    sources: set[str] = field(default_factory=set)


def _date_literal(value: str) -> ox.Literal | None:
    m = DATE.match(value)
    if not m:
        return None
    year, month, day = m.groups()
    try:
        if day:
            datetime.date(int(year), int(month), int(day))
            return ox.Literal(value, datatype=XSD_DATE)
        if month:
            if not 1 <= int(month) <= 12:
                return None
            return ox.Literal(value, datatype=XSD_GYEARMONTH)
    except ValueError:
        return None
    return ox.Literal(value, datatype=XSD_GYEAR)


def iter_table(path: Path, table: Table, problems: list[Problem]) -> Iterator[Row]:
    """Stream the rows of one CSV file (read strictly by :mod:`cmq_graph.reading`)."""
    name = str(path)
    for line, values in read_rows(path, table.header, table.required_header, problems):
        yield Row(table, name, line, values)


def read_table(path: Path, table: Table, problems: list[Problem]) -> list[Row]:
    """Read one CSV file; check its header. Returns no rows if the header is unusable."""
    return list(iter_table(path, table, problems))


class TableMapper:
    """Two passes over the tables, so that no table is held in memory.

    The first (at construction) checks every header and collects the ids of each table (and the
    duplicate rows); :meth:`quads` then reads the rows again and yields their quads, one row at
    a time, recording every problem in ``problems``: the caller raises once the stream is spent.
    """

    def __init__(self, data_dir: Path, ontology: Ontology, problems: list[Problem]):
        self.ontology = ontology
        self.problems = problems
        self.files: list[tuple[Table, Path]] = []
        self.ids: dict[str, set[str]] = {}
        self.duplicates: dict[str, set[int]] = {}
        self.out = Mapped()
        self.seconds = 0.0  # spent in :meth:`quads` (reading and mapping), not in its consumer
        self._nodes: dict[str, ox.NamedNode] = {}
        self.territory_kinds: dict[str, str] = {}  # territory id -> kind code (first pass)
        if not data_dir.is_dir():
            problems.append(Problem(str(data_dir), None, None, "data folder not found"))
        else:
            for table, path in table_files(data_dir, TABLES, problems):
                self.files.append((table, path))
                self.ids[table.name], self.duplicates[str(path)] = self._first_pass(path, table)
        self.source_ids = self.ids.get(SOURCES.name, set())

    def _first_pass(self, path: Path, table: Table) -> tuple[set[str], set[int]]:
        ids: set[str] = set()
        seen: dict[tuple[str, str], int] = {}
        duplicates: set[int] = set()
        for row in iter_table(path, table, self.problems):
            if SLUG.match(row.id):  # an invalid id is reported by map_row, and never referenced
                ids.add(row.id)
            if table.name == "territories" and row.values.get("kind"):
                self.territory_kinds.setdefault(row.id, row.values["kind"])
            key = (row.id, row.values.get("source", ""))
            if key in seen:
                what = f"id '{row.id}'" + (f" with source '{key[1]}'" if table.sourced else "")
                self.problem(
                    row,
                    "id",
                    f"duplicate {what}, first on line {seen[key]}",
                    "one row per (id, source); a competing claim cites another source",
                )
                duplicates.add(row.line)
                continue
            seen[key] = row.line
        return ids, duplicates

    def node(self, iri: str) -> ox.NamedNode:
        """One NamedNode per predicate, class, graph or concept IRI, however many quads use it."""
        found = self._nodes.get(iri)
        if found is None:
            found = self._nodes[iri] = ox.NamedNode(iri)
        return found

    def problem(self, row: Row, column: str | None, message: str, expected: str | None = None) -> None:
        self.problems.append(Problem(row.file, row.line, column, message, expected))

    def quads(self) -> Iterator[ox.Quad]:
        """The quads of every row, table after table (header problems were reported already)."""
        clock = time.perf_counter
        for table, path in self.files:
            duplicates = self.duplicates[str(path)]
            rows = iter_table(path, table, [])
            while True:
                start = clock()
                row = next(rows, None)
                if row is None:
                    self.seconds += clock() - start
                    break
                quads = [] if row.line in duplicates else self.map_row(row)
                self.seconds += clock() - start
                yield from quads

    def map_row(self, row: Row) -> list[ox.Quad]:
        table = row.table
        ident = row.id
        quads: list[ox.Quad] = []
        if not SLUG.match(ident):
            self.problem(row, "id", f"invalid id '{ident}'", "lowercase letters, digits and '-'")
            return quads
        if table.sourced:
            src = row.values.get("source", "")
            if not src:
                self.problem(row, "source", "no source given", "a source id from sources.csv")
                return quads
            if src not in self.source_ids:
                self.problem(row, "source", f"unknown source '{src}'", "an id declared in sources.csv")
                return quads
            graph = self.node(source_iri(src))
            self.out.sources.add(src)
        else:
            graph = self.node(META_GRAPH)
        subject = ox.NamedNode(entity_iri(table.path, ident))
        self.out.origins.setdefault(subject.value, (row.file, row.line))
        self.out.rows[table.name] += 1
        if table.rdf_type is not None:
            quads.append(ox.Quad(subject, RDF_TYPE, self.node(str(table.rdf_type)), graph))
        quads.extend(ox.Quad(subject, RDF_TYPE, self.node(str(t)), graph) for t in table.extra_types)
        row_types = {c.row_type for c in table.columns if c.row_type is not None and row.values.get(c.name)}
        quads.extend(ox.Quad(subject, RDF_TYPE, self.node(str(t)), graph) for t in sorted(row_types))
        for const_p, const_o in table.constants:
            quads.append(ox.Quad(subject, self.node(str(const_p)), self.node(str(const_o)), graph))
        for col in table.columns:
            raw = row.values.get(col.name, "")
            if not raw:
                if col.required:
                    self.problem(row, col.name, "required value is empty", col.doc or col.kind)
                continue
            values = [v.strip() for v in raw.split(MULTI_SEPARATOR)] if col.multi else [raw]
            predicate = self.node(str(col.predicate)) if col.predicate is not None else None
            also = [self.node(str(p)) for p in col.also]
            for value in values:
                if col.kind == "agent":
                    quads += self.map_agent(row, col, subject, value, graph)
                    continue
                for obj, extra_type in self.convert(row, col, value):
                    if predicate is not None:
                        quads.append(ox.Quad(subject, predicate, obj, graph))
                    quads.extend(ox.Quad(subject, p, obj, graph) for p in also)
                    if extra_type is not None:
                        quads.append(ox.Quad(subject, RDF_TYPE, extra_type, graph))
        if table.geometry:
            quads += self.map_geometry(row, subject, graph)
        if table.name == "campuses":
            self.check_one_region(row)
        return quads

    def check_one_region(self, row: Row) -> None:
        """One source places a campus in one région: two in one row is a contradiction to fix."""
        cells = [row.values.get(c, "") for c in ("territories", "sites")]
        named = [v.strip() for cell in cells if cell for v in cell.split(MULTI_SEPARATOR)]
        regions = sorted({v for v in named if self.territory_kinds.get(v) == "region"})
        if len(regions) > 1:
            self.problem(
                row,
                "territories",
                f"campus '{row.id}' placed in two régions by one source: {', '.join(regions)}",
                "one région per source; a competing claim is a row citing another source",
            )

    def map_agent(
        self, row: Row, col: Column, subject: ox.NamedNode, name: str, graph: ox.NamedNode
    ) -> list[ox.Quad]:
        """A named agent (a source's publisher): its IRI, type and name, then the link to it."""
        slug = agent_slug(name)
        if not slug:
            self.problem(row, col.name, f"no letter or digit in '{name}'", "the name of a person or body")
            return []
        agent = self.node(entity_iri("agent", slug))
        assert col.predicate is not None
        return [
            ox.Quad(subject, self.node(str(col.predicate)), agent, graph),
            ox.Quad(agent, RDF_TYPE, FOAF_AGENT, graph),
            ox.Quad(agent, FOAF_NAME, ox.Literal(name), graph),
        ]

    def map_geometry(self, row: Row, subject: ox.NamedNode, graph: ox.NamedNode) -> list[ox.Quad]:
        lat, lon = row.values.get("latitude", ""), row.values.get("longitude", "")
        if not lat and not lon:
            return []
        for name, value, bound in (("latitude", lat, 90), ("longitude", lon, 180)):
            if not DECIMAL.match(value) or abs(float(value)) > bound:
                self.problem(row, name, f"invalid {name} '{value}'", f"decimal degrees within ±{bound}")
                return []
        geom = ox.NamedNode(subject.value + "#geometry")
        return [
            ox.Quad(subject, HAS_GEOMETRY, geom, graph),
            ox.Quad(geom, RDF_TYPE, GEOMETRY, graph),
            ox.Quad(geom, AS_WKT, ox.Literal(f"POINT({lon} {lat})", datatype=WKT), graph),
        ]

    def convert(
        self, row: Row, col: Column, value: str
    ) -> Iterator[tuple[ox.NamedNode | ox.Literal, ox.NamedNode | None]]:
        kind = col.kind
        if kind == "text":
            yield (ox.Literal(value, language=col.lang) if col.lang else ox.Literal(value)), None
        elif kind == "date":
            lit = _date_literal(value)
            if lit is None:
                self.problem(row, col.name, f"invalid date '{value}'", "YYYY, YYYY-MM or YYYY-MM-DD")
                return
            yield lit, None
        elif kind == "int":
            if not INTEGER.match(value):
                self.problem(row, col.name, f"invalid number '{value}'", "a whole number ≥ 0")
                return
            yield ox.Literal(str(int(value)), datatype=XSD_INTEGER), None
        elif kind == "decimal":
            if not DECIMAL.match(value):
                self.problem(row, col.name, f"invalid decimal '{value}'", "a decimal number")
                return
            yield ox.Literal(value, datatype=XSD_DECIMAL), None
        elif kind == "iri":
            node = iri_node(value) if IRI.match(value) else None
            if node is None:
                self.problem(row, col.name, f"invalid IRI '{value}'", "an absolute http(s) IRI")
                return
            yield node, None
        elif kind == "code":
            assert col.pattern is not None
            if not col.pattern.match(value):
                self.problem(row, col.name, f"invalid {col.name} '{value}'", f"pattern {col.pattern.pattern}")
                return
            node = iri_node(value) if value.startswith("http") else ox.Literal(value)
            if node is None:
                self.problem(row, col.name, f"invalid IRI '{value}'", "an IRI Oxigraph accepts")
                return
            yield node, None
        elif kind == "enum":
            if value not in col.values:
                self.problem(row, col.name, f"invalid value '{value}'", "one of " + ", ".join(col.values))
                return
            yield ox.Literal(value), None
        elif kind == "ref":
            for target in col.targets:
                if value in self.ids.get(target, ()):
                    yield ox.NamedNode(entity_iri(_path(target), value)), None
                    return
            where = " or ".join(f"{t}.csv" for t in col.targets)
            self.problem(row, col.name, f"'{value}' does not exist", f"the id of a record in {where}")
        elif kind == "concept":
            for scheme in col.targets:
                concept = self.ontology.schemes.get(scheme, {}).get(value)
                if concept is not None:
                    # Only the row's own kind types the row (never a kind of other entities).
                    yield concept.iri, concept.entity_class if col.entity_type else None
                    return
            codes = sorted(c for s in col.targets for c in self.ontology.schemes.get(s, {}))
            self.problem(
                row,
                col.name,
                f"unknown code '{value}'",
                f"a code of vocabulary {'/'.join(col.targets)}: " + ", ".join(codes),
            )
        else:  # pragma: no cover - guarded by the tables' definitions
            raise ValueError(f"unknown column kind {kind}")


def _path(table_name: str) -> str:
    return next(t.path for t in TABLES if t.name == table_name)


def map_tables(data_dir: Path, ontology: Ontology, problems: list[Problem] | None = None) -> Mapped:
    """Map every table of ``data_dir`` into a list; raise :class:`InputError` listing every problem.

    For small inputs and tests: a build streams :meth:`TableMapper.quads` into the store instead.
    """
    problems = [] if problems is None else problems
    mapper = TableMapper(data_dir, ontology, problems)
    mapper.out.quads = list(mapper.quads())
    if problems:
        raise InputError(problems, "the curated data has errors")
    return mapper.out
