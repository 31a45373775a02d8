"""The catalogue machinery on small graphs written here: headers, typed parameters, safe binding,
errors that say where and what exists, result formats, and the engine-neutral comparison form."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, Namespace, URIRef

from cmq_graph import catalog, results
from cmq_graph.errors import QueryError
from cmq_graph.store import EmbeddedStore, QueryResult

XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
ID = "https://w3id.org/cmq/id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

FIXTURE = """
@prefix cmq: <https://w3id.org/cmq/def#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

<https://w3id.org/cmq/id/source/a> {
  <https://w3id.org/cmq/id/campus/c1> a cmq:Campus ; rdfs:label "Campus Un"@fr, "Campus One"@en .
  <https://w3id.org/cmq/id/labelling/l1> cmq:labelledCampus <https://w3id.org/cmq/id/campus/c1> ;
    cmq:labellingDate "2015-03"^^xsd:gYearMonth .
  <https://w3id.org/cmq/id/organisation/o1> rdfs:label "Lycée \\"Quote\\" } ; DROP ALL"@fr .
}
<https://w3id.org/cmq/id/source/b> {
  <https://w3id.org/cmq/id/labelling/l1> cmq:labellingDate "2015-02-02"^^xsd:date .
  <https://w3id.org/cmq/id/campus/c2> a cmq:Campus ; rdfs:label "Campus Deux"@fr .
}
<https://w3id.org/cmq/graph/meta> {
  <https://w3id.org/cmq/id/source/a> dcterms:title "Source A" .
  <https://w3id.org/cmq/id/source/b> dcterms:title "Source B" .
}
<https://w3id.org/cmq/vocab> {
  <https://w3id.org/cmq/vocab/role/pilote> skos:prefLabel "pilote"@fr, "pilot"@en .
}
"""

HEADER = """\
# title@fr: Libellés d'une entité
# title@en: Labels of an entity
# description: Every label of one entity,
#   with its language.
# param: ?entity iri = id:campus/c1 — the entity
# param: ?name string = "Campus Un" — a name to look for
# param: ?since date = 2015-01 — a date
# param: ?n integer = 2 — a number
# returns: ?label the label
SELECT ?entity ?label ?name ?since ?n WHERE {
  ?entity rdfs:label ?label .
}
ORDER BY ?label
"""


@pytest.fixture(scope="module")
def fixture_store() -> EmbeddedStore:
    quads = ox.parse(FIXTURE.encode(), format=ox.RdfFormat.TRIG)
    return EmbeddedStore.from_quads(quads)


@pytest.fixture()
def qdir(tmp_path: Path) -> Path:
    (tmp_path / "labels-of.rq").write_text(HEADER, encoding="utf-8")
    (tmp_path / "broken.rq").write_text(
        "# title@fr: Cassée\n# title@en: Broken\n# description: a typo on line 5\n\n"
        "SELECT ?s WHERE { ?s ?p ?o . FILTER(?o = ) }\n",
        encoding="utf-8",
    )
    return tmp_path


# -- headers --------------------------------------------------------------------------------


def test_header_is_parsed(qdir: Path) -> None:
    q = catalog.catalogue(qdir)["labels-of"]
    assert q.title_fr == "Libellés d'une entité"
    assert q.title_en == "Labels of an entity"
    assert q.description == "Every label of one entity, with its language."
    assert q.returns == "?label the label"
    assert q.form == "select"
    assert [(p.name, p.type, p.default, p.doc) for p in q.params] == [
        ("entity", "iri", "id:campus/c1", "the entity"),
        ("name", "string", "Campus Un", "a name to look for"),
        ("since", "date", "2015-01", "a date"),
        ("n", "integer", "2", "a number"),
    ]


def test_untyped_param_keeps_its_words_as_documentation() -> None:
    q = catalog.parse("# title: Carte\n# param: ?campus IRI of the campus\nSELECT ?campus {}", "m")
    assert q.title_fr == "Carte"
    assert q.params == (catalog.Param("campus", "term", None, "IRI of the campus"),)
    assert q.params[0].required


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("# param: ?x colour = red — bad type", "unknown type 'colour'"),
        ("# param: ?limit integer = 3", "'limit' is reserved"),
        ("# param: ?d date = 2015-13", "not a valid date"),
        ("# param: ?i iri = nope:thing", "unknown prefix 'nope:'"),
    ],
)
def test_bad_header_lines_are_reported(line: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        catalog.parse(f"# title: T\n{line}\nSELECT * {{}}", "q")


def test_duplicate_param_is_reported() -> None:
    with pytest.raises(QueryError, match="'x' is declared twice"):
        catalog.parse("# param: ?x integer = 1\n# param: ?x integer = 2\nSELECT ?x {}", "q")


# -- typed parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typ", "value", "term"),
    [
        ("iri", "id:campus/propulsions", URIRef(ID + "campus/propulsions")),
        ("iri", "<https://example.org/x>", URIRef("https://example.org/x")),
        ("iri", "https://example.org/y", URIRef("https://example.org/y")),
        ("iri", "vocab:role/pilote", URIRef("https://w3id.org/cmq/vocab/role/pilote")),
        ("date", "2015", Literal("2015", datatype=XSD.gYear)),
        ("date", "2015-03", Literal("2015-03", datatype=XSD.gYearMonth)),
        ("date", "2015-02-02", Literal("2015-02-02", datatype=XSD.date)),
        ("integer", "12", Literal(12, datatype=XSD.integer)),
        ("integer", "-3", Literal(-3, datatype=XSD.integer)),
        ("boolean", "true", Literal(True)),
        ("string", 'a "b" } ; DROP ALL', Literal('a "b" } ; DROP ALL')),
        ("langstring", "Campus Un@fr", Literal("Campus Un", lang="fr")),
        ("term", '"x"@en', Literal("x", lang="en")),
        ("term", '"2015"^^xsd:gYear', Literal("2015", datatype=XSD.gYear)),
        ("term", "id:campus/c1", URIRef(ID + "campus/c1")),
        ("term", "42", Literal(42, datatype=XSD.integer)),
    ],
)
def test_typed_values(typ: str, value: str, term: object) -> None:
    got = catalog.to_term(catalog.Param("p", typ), value)
    assert got == term
    assert type(got) is type(term)
    assert getattr(got, "datatype", None) == getattr(term, "datatype", None)


@pytest.mark.parametrize(
    ("typ", "value", "message"),
    [
        ("iri", "not an iri", "is not an IRI"),
        ("iri", "<https://x.org/a b>", "is not an IRI"),
        ("iri", "https://x.org/a>{", "is not an IRI"),
        ("iri", "zz:thing", "unknown prefix 'zz:'"),
        ("date", "03/2015", "is not a date"),
        ("date", "2015-02-30", "not a valid date"),
        ("integer", "12.5", "is not an integer"),
        ("integer", "1; DROP ALL", "is not an integer"),
        ("boolean", "maybe", "is not a boolean"),
        ("langstring", "no tag", "has no language tag"),
        ("term", "} ; DROP ALL", "cannot read"),
    ],
)
def test_bad_values_say_what_was_expected(typ: str, value: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        catalog.to_term(catalog.Param("p", typ), value)


def test_python_values_become_terms() -> None:
    import datetime

    p = catalog.Param("p")
    assert catalog.to_term(p, 3) == Literal(3, datatype=XSD.integer)
    assert catalog.to_term(p, datetime.date(2020, 1, 2)) == Literal("2020-01-02", datatype=XSD.date)
    assert catalog.to_term(p, URIRef("https://x.org/")) == URIRef("https://x.org/")
    with pytest.raises(QueryError, match="expected an IRI"):
        catalog.to_term(catalog.Param("p", "iri"), Literal("x"))


def test_defaults_and_overrides(qdir: Path) -> None:
    q = catalog.catalogue(qdir)["labels-of"]
    bound = catalog.bind(q, {"n": "5"})
    assert bound == {
        "entity": URIRef(ID + "campus/c1"),
        "name": Literal("Campus Un"),
        "since": Literal("2015-01", datatype=XSD.gYearMonth),
        "n": Literal(5, datatype=XSD.integer),
    }


def test_unknown_parameter_lists_the_known_ones(qdir: Path) -> None:
    q = catalog.catalogue(qdir)["labels-of"]
    with pytest.raises(QueryError) as err:
        catalog.bind(q, {"campus": "id:campus/c1"})
    text = str(err.value)
    assert "unknown parameter 'campus'" in text
    for name in ("?entity iri", "?name string", "?since date", "?n integer"):
        assert name in text


def test_required_parameter_is_required() -> None:
    q = catalog.parse("# param: ?campus iri — the campus\nSELECT ?campus {}", "q")
    with pytest.raises(QueryError, match="parameter 'campus' is required"):
        catalog.bind(q, {})


def test_headerless_query_binds_only_its_variables() -> None:
    q = catalog.parse("SELECT ?x WHERE { ?x ?p ?o }", "<text>")
    assert catalog.bind(q, {"x": "id:campus/c1"}) == {"x": URIRef(ID + "campus/c1")}
    with pytest.raises(QueryError, match="the query has no \\?y"):
        catalog.bind(q, {"y": "1"})


# -- names and files ------------------------------------------------------------------------


def test_unknown_query_name_lists_the_catalogue(qdir: Path) -> None:
    with pytest.raises(QueryError) as err:
        catalog.resolve("label", qdir)
    text = str(err.value)
    assert "unknown query 'label'" in text
    assert "did you mean: labels-of?" in text
    assert "broken, labels-of" in text


def test_resolve_file_and_text(qdir: Path) -> None:
    assert catalog.resolve(str(qdir / "labels-of.rq")).name == "labels-of"
    assert catalog.resolve("ASK { ?s ?p ?o }").form == "ask"
    with pytest.raises(QueryError, match="no such query file"):
        catalog.resolve(str(qdir / "missing.rq"))


# -- running --------------------------------------------------------------------------------


def test_run_binds_defaults_and_overrides(qdir: Path, fixture_store: EmbeddedStore) -> None:
    q = catalog.catalogue(qdir)["labels-of"]
    result = catalog.run(fixture_store, q)
    assert [str(r[1]) for r in result.rows] == ["Campus One", "Campus Un"]
    assert result.rows[0][0] == URIRef(ID + "campus/c1")
    result = catalog.run(fixture_store, q, {"entity": "id:campus/c2"})
    assert [str(r[1]) for r in result.rows] == ["Campus Deux"]


INJECTIONS = [
    '"} ; DROP ALL',
    "x' } DROP ALL ; INSERT DATA { <a:b> <a:c> <a:d> } #",
    '" } } ; DROP ALL ; SELECT * WHERE { "',
    'Lycée "Quote" } ; DROP ALL',
    '\\" FILTER(true) #',
    "{}<>{}",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_parameter_values_stay_literals(value: str, fixture_store: EmbeddedStore) -> None:
    """A value full of SPARQL syntax matches only an identical literal, and changes nothing."""
    before = len(fixture_store)
    q = catalog.parse(
        "# param: ?name string = x — a label\n"
        "SELECT ?name ?entity WHERE { ?entity rdfs:label ?label FILTER(STR(?label) = ?name) }",
        "q",
    )
    result = catalog.run(fixture_store, q, {"name": value})
    expected = [ID + "organisation/o1"] if value == 'Lycée "Quote" } ; DROP ALL' else []
    assert [str(r[1]) for r in result.rows] == expected
    assert all(r[0] == Literal(value) for r in result.rows)
    assert len(fixture_store) == before


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_into_a_typed_parameter_is_refused(value: str) -> None:
    q = catalog.parse("# param: ?campus iri = id:campus/c1\nSELECT ?campus {}", "q")
    with pytest.raises(QueryError):
        catalog.bind(q, {"campus": value})


def test_syntax_error_points_at_line_and_column(qdir: Path, fixture_store: EmbeddedStore) -> None:
    q = catalog.catalogue(qdir)["broken"]
    with pytest.raises(QueryError) as err:
        catalog.run(fixture_store, q)
    text = str(err.value)
    assert str(qdir / "broken.rq") in text
    assert ", line 5, column " in text
    assert "SELECT ?s WHERE { ?s ?p ?o . FILTER(?o = ) }" in text  # the offending line is shown
    assert err.value.line == 5  # type: ignore[attr-defined]
    assert err.value.column == 30  # type: ignore[attr-defined]  # where FILTER starts
    assert "'FILTER'" in text


def test_unknown_prefix_is_explained() -> None:
    err = catalog.syntax_error("SELECT * WHERE {\n  ?s nope:p ?o }", "f.rq")
    assert err is not None
    assert "f.rq, line 2, column" in str(err)
    assert "unknown prefix" in str(err)


def test_parameter_outside_the_projection_is_explained(fixture_store: EmbeddedStore) -> None:
    q = catalog.parse("# param: ?e iri = id:campus/c1\nSELECT ?label WHERE { ?e rdfs:label ?label }", "q")
    with pytest.raises(QueryError, match=r"\?e must appear in the SELECT clause"):
        catalog.run(fixture_store, q)
    assert any("SELECT clause" in p for p in catalog.check(q))


def test_check_reports_missing_documentation() -> None:
    q = catalog.parse("SELECT * WHERE { ?s ?p ?o }", "q")
    assert catalog.check(q) == [
        "no French title (# title@fr: …)",
        "no English title (# title@en: …)",
        "no description (# description: …)",
    ]


def test_timeout_gives_a_clear_error() -> None:
    quads = [
        ox.Quad(ox.NamedNode(f"http://e/{i}"), ox.NamedNode("http://p"), ox.Literal(str(i % 300)))
        for i in range(3000)
    ]
    store = EmbeddedStore.from_quads(quads)
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a <http://p> ?x . ?b <http://p> ?x . ?c <http://p> ?x . ?d <http://p> ?x }"  # noqa: E501

    start = time.monotonic()
    with pytest.raises(QueryError, match=r"timed out after 0\.1 s"):
        store.query(heavy, timeout=0.1)
    assert time.monotonic() - start < 0.5


# -- results --------------------------------------------------------------------------------


def test_formats_of_a_select(fixture_store: EmbeddedStore) -> None:
    result = fixture_store.query("SELECT ?l ?d WHERE { GRAPH ?g { ?l cmq:labellingDate ?d } } ORDER BY ?d")
    assert results.to_csv(result) == "l,d\r\n" + (
        f"{ID}labelling/l1,2015-02-02\r\n{ID}labelling/l1,2015-03\r\n"
    )
    assert results.to_tsv(result).splitlines() == [
        "?l\t?d",
        f'<{ID}labelling/l1>\t"2015-02-02"^^<{XSD.date}>',
        f'<{ID}labelling/l1>\t"2015-03"^^<{XSD.gYearMonth}>',
    ]
    doc = json.loads(results.to_json(result))
    assert doc["head"] == {"vars": ["l", "d"]}
    assert doc["results"]["bindings"][0] == {
        "l": {"type": "uri", "value": f"{ID}labelling/l1"},
        "d": {"type": "literal", "value": "2015-02-02", "datatype": str(XSD.date)},
    }


def test_table_shows_french_labels_and_compact_iris(fixture_store: EmbeddedStore) -> None:
    result = fixture_store.query("SELECT ?c WHERE { ?c a cmq:Campus } ORDER BY ?c")
    assert results.render(result, "table", fixture_store).splitlines() == [
        "c",
        "─" * len("Campus Deux (id:campus/c2)"),
        "Campus Un (id:campus/c1)",
        "Campus Deux (id:campus/c2)",
        "(2 rows)",
    ]
    assert results.render(result, "md", fixture_store).splitlines() == [
        "| c |",
        "|---|",
        "| Campus Un (id:campus/c1) |",
        "| Campus Deux (id:campus/c2) |",
    ]
    # Without a store there are no labels, only compact IRIs.
    assert results.render(result, "table").splitlines()[2] == "id:campus/c1"


def test_labels_are_one_query_for_many_iris(fixture_store: EmbeddedStore) -> None:
    calls: list[str] = []

    class Spy:
        def query(self, sparql, bindings=None, *, timeout=None):
            calls.append(sparql)
            return fixture_store.query(sparql, bindings, timeout=timeout)

    iris = [ID + "campus/c1", ID + "campus/c2", "https://w3id.org/cmq/vocab/role/pilote", "bad iri>"]
    names = results.labels(Spy(), iris)  # type: ignore[arg-type]
    assert len(calls) == 1
    assert names == {
        ID + "campus/c1": "Campus Un",
        ID + "campus/c2": "Campus Deux",
        "https://w3id.org/cmq/vocab/role/pilote": "pilote",
    }


def test_formats_of_ask_and_construct(fixture_store: EmbeddedStore) -> None:
    ask = fixture_store.query("ASK { ?c a cmq:Campus }")
    assert results.render(ask, "table") == "yes"
    assert json.loads(results.render(ask, "json")) == {"head": {}, "boolean": True}
    graph = fixture_store.query("CONSTRUCT { ?c a cmq:Campus } WHERE { ?c a cmq:Campus }")
    nt = results.render(graph, "nt")
    assert sorted(line for line in nt.splitlines() if line) == [
        f"<{ID}campus/c{i}> <{RDF_TYPE}> <https://w3id.org/cmq/def#Campus> ." for i in (1, 2)
    ]
    with pytest.raises(QueryError, match="use --format ttl"):
        results.render(graph, "table")
    with pytest.raises(QueryError, match="use --format table"):
        results.render(ask, "ttl")


# -- comparing engines ----------------------------------------------------------------------


def test_comparable_ignores_engine_spelling() -> None:
    a = QueryResult(
        "select",
        ["n", "s"],
        [
            (Literal("3", datatype=XSD.int), Literal("x", datatype=XSD.string)),
            (None, Literal("y", lang="FR")),
        ],
    )
    b = QueryResult(
        "select",
        ["n", "s"],
        [(None, Literal("y", lang="fr")), (Literal(3, datatype=XSD.integer), Literal("x"))],
    )
    assert catalog.comparable(a) == catalog.comparable(b)
    c = QueryResult("select", ["n", "s"], [(Literal(4, datatype=XSD.integer), Literal("x"))])
    assert catalog.comparable(a) != catalog.comparable(c)


def test_run_catalogue_runs_every_query_with_defaults(qdir: Path, fixture_store: EmbeddedStore) -> None:
    (qdir / "broken.rq").unlink()
    (qdir / "needs-param.rq").write_text("# param: ?e iri\nSELECT ?e {}\n")
    got = catalog.run_catalogue(fixture_store, directory=qdir)
    assert set(got) == {"labels-of"}
    kind, variables, rows = got["labels-of"]
    assert (kind, variables) == ("select", ("entity", "label", "name", "since", "n"))
    assert [r[1] for r in rows] == ['"Campus One"@en', '"Campus Un"@fr']


# -- the Python API -------------------------------------------------------------------------


def test_api_runs_names_files_and_text(qdir: Path, fixture_store: EmbeddedStore) -> None:
    from cmq_graph import api

    path = str(qdir / "labels-of.rq")
    by_file = api.run(fixture_store, path, entity="id:campus/c2")
    by_mapping = api.run(fixture_store, path, {"entity": URIRef(ID + "campus/c2")})
    assert by_file.rows == by_mapping.rows
    assert by_file.dicts() == [
        {
            "entity": URIRef(ID + "campus/c2"),
            "label": Literal("Campus Deux", lang="fr"),
            "name": Literal("Campus Un"),
            "since": Literal("2015-01", datatype=XSD.gYearMonth),
            "n": Literal(2, datatype=XSD.integer),
        }
    ]
    text = api.run(fixture_store, "SELECT ?c WHERE { ?c a cmq:Campus } ORDER BY ?c")
    assert [str(r[0]) for r in text.rows] == [ID + "campus/c1", ID + "campus/c2"]
    with pytest.raises(QueryError, match="unknown parameter 'entiti'"):
        api.run(fixture_store, path, entiti="id:campus/c1")


def test_api_dataframe(fixture_store: EmbeddedStore) -> None:
    from cmq_graph import api

    result = api.run(
        fixture_store,
        "SELECT ?l ?d (COUNT(*) AS ?n) WHERE { ?l cmq:labellingDate ?d } GROUP BY ?l ?d ORDER BY ?d",
    )
    frame = api.to_dataframe(result)
    assert list(frame.columns) == ["l", "d", "n"]
    assert frame.to_dict("records") == [
        {"l": "id:labelling/l1", "d": "2015-02-02", "n": 1},
        {"l": "id:labelling/l1", "d": "2015-03", "n": 1},
    ]
    campuses = api.run(fixture_store, "SELECT ?c WHERE { ?c a cmq:Campus } ORDER BY ?c")
    labelled = api.to_dataframe(campuses, store=fixture_store)
    assert labelled.to_dict("records") == [
        {"c": "id:campus/c1", "c_label": "Campus Un"},
        {"c": "id:campus/c2", "c_label": "Campus Deux"},
    ]
    full = api.to_dataframe(campuses, compact_iris=False)
    assert full["c"].tolist() == [ID + "campus/c1", ID + "campus/c2"]
    empty = api.to_dataframe(
        api.run(fixture_store, "SELECT ?c WHERE { ?c a cmq:Nothing }"), store=fixture_store
    )
    assert list(empty.columns) == ["c", "c_label"] and len(empty) == 0


def test_api_construct_gives_an_rdflib_graph(fixture_store: EmbeddedStore) -> None:
    from rdflib import Graph

    from cmq_graph import api

    result = api.run(fixture_store, "CONSTRUCT { ?c a cmq:Campus } WHERE { ?c a cmq:Campus }")
    graph = api.graph(result)
    assert isinstance(graph, Graph) and len(graph) == 2
    assert len(api.to_dataframe(result)) == 2
    with pytest.raises(QueryError, match="has no graph"):
        api.graph(api.run(fixture_store, "ASK { ?s ?p ?o }"))


def test_api_open_store_and_catalogue(tmp_path: Path) -> None:
    from cmq_graph import api
    from cmq_graph.errors import StoreError

    names = [q.name for q in api.list_queries()]
    assert names == sorted(names) and "sources" in names
    assert api.describe("sources").startswith("sources (SELECT, ")
    with pytest.raises(StoreError, match="run `cmq-graph build` first"):
        api.open_store(tmp_path)


def test_wkt_coordinates_compare_as_numbers() -> None:
    """Virtuoso writes ``48.78360`` back as ``48.7836``: the same point, so the same answer."""
    wkt = URIRef("http://www.opengis.net/ont/geosparql#wktLiteral")

    def point(text: str) -> str:
        return catalog.canonical(Literal(text, datatype=wkt))

    assert point("POINT(-3.36811 48.78360)") == point("POINT(-3.36811 48.7836)")
    assert point("POINT(4.0 -0.000)") == point("POINT(4 0)")
    assert point("POINT(-3.36811 48.7836)") != point("POINT(-3.36811 48.7837)")


def test_bound_parameters_are_also_a_values_block(fixture_store: EmbeddedStore) -> None:
    """A bound parameter reaches Oxigraph's planner (VALUES) and keeps its meaning (substitution):
    same rows as the value written in the query, inside sub-selects too."""
    q = "SELECT ?s ?n WHERE { { SELECT ?s ?n WHERE { ?s rdfs:label ?l BIND(STRLEN(?l) AS ?n) } } }"
    rows = fixture_store.query("SELECT ?s ?l WHERE { ?s rdfs:label ?l }").rows
    subject = rows[0][0]
    bound = fixture_store.query(q, {"s": subject}).rows
    assert bound and all(r[0] == subject for r in bound)
    written = fixture_store.query(q.replace("?s rdfs:label", f"<{subject}> rdfs:label")).rows
    assert sorted(r[1] for r in bound) == sorted(r[1] for r in written)
