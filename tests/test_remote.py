"""RemoteStore without Virtuoso: binding, protocol, failures, credentials (fake servers on 127.0.0.1).

Each failure mode must give a clear error and no partial result, and retries must be bounded and
limited to transient failures. The fake endpoint counts the requests it receives, which is how the
retries are counted.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from fake_endpoint import FakeEndpoint, Reply, json_select
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from virtuoso import free_port

from cmq_graph.errors import QueryError, StoreError
from cmq_graph.publish import batches
from cmq_graph.remote import (
    DEFAULT_USER_AGENT,
    Credentials,
    RemoteStore,
    bind_values,
    query_form,
    read_credentials,
    sparql_term,
    tokens,
    with_prefixes,
)
from cmq_graph.store import EmbeddedStore

HOSTILE = [
    'a "quoted" value',
    "single ' quote",
    "} ; DROP ALL ; SELECT * WHERE {",
    '"} ; DROP ALL #',
    "line one\nline two\r\n\ttabbed",
    "# not a comment { }",
    'back\\slash \\" and \\n not a newline',
    "\"\"\"triple\"\"\" '''quotes'''",
    "<http://evil/> . ?s ?p ?o",
    "unicode é ü 𝄞 \u2028",
]

GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"
OK_JSON = json_select(["x"], [{"x": {"type": "literal", "value": "1"}}])


def _store(url: str, **kwargs: object) -> RemoteStore:
    sleeps: list[float] = []
    options = {
        "timeout": 5.0,
        "retries": 3,
        "backoff": 0.01,
        "sleep": sleeps.append,
        "dataset": None,
    } | kwargs
    store = RemoteStore(url, **options)  # type: ignore[arg-type]
    store.sleeps = sleeps  # type: ignore[attr-defined]
    return store


def _fails(
    replies: list[Reply],
    error: type[Exception],
    match: str,
    query: str = "SELECT ?x WHERE { }",
    **kwargs: object,
) -> list:
    """Run ``query`` against a fake endpoint scripted with ``replies``; expect ``error``; return
    the requests the endpoint received (to count retries)."""
    with FakeEndpoint(replies) as fake, pytest.raises(error, match=match):
        _store(fake.url, **kwargs).query(query)
    return fake.received


# -- binding -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> EmbeddedStore:
    g = ox.NamedNode("https://w3id.org/cmq/id/source/a")
    s = ox.NamedNode("https://w3id.org/cmq/id/campus/c1")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    return EmbeddedStore.from_quads(
        [
            ox.Quad(s, label, ox.Literal("Campus Un", language="fr"), g),
            ox.Quad(s, label, ox.Literal(HOSTILE[2], language="fr"), g),
        ]
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_literal_stays_one_literal(tiny: EmbeddedStore, value: str) -> None:
    """Run the bound text on Oxigraph: the value comes back intact and nothing else changes."""
    query = "SELECT ?v ?n WHERE { BIND(STRLEN(?v) AS ?n) }"
    text = bind_values(query, {"v": Literal(value)})
    assert "\n" not in text[len("SELECT ?v ?n WHERE {") :].split("BIND")[0]  # one line
    result = tiny.query(text)
    assert result.rows == [(Literal(value), Literal(len(value), datatype=XSD.integer))]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_value_matches_only_itself(tiny: EmbeddedStore, value: str) -> None:
    query = "SELECT ?s WHERE { ?s rdfs:label ?label }"
    text = with_prefixes(bind_values(query, {"label": Literal(value, lang="fr")}))
    expected = [(URIRef("https://w3id.org/cmq/id/campus/c1"),)] if value == HOSTILE[2] else []
    assert tiny.query(text).rows == expected


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?x WHERE { ?x ?p ?o }",
        "select ?x { ?x ?p ?o }",
        "PREFIX ex: <http://ex/#where> SELECT ?x WHERE { ?x ex:p ?o }",
        "# WHERE { in a comment\nSELECT ?x # {\nWHERE { ?x ?p ?o . FILTER(?o != '{') }",
        'SELECT ?x (EXISTS { ?x ?p "}" } AS ?e) WHERE { ?x ?p ?o }',
        "SELECT ?x ?where WHERE { ?x ?where ?o }",
        "SELECT * WHERE { SELECT ?x WHERE { ?x ?p ?o } LIMIT 5 }",
        "SELECT ?x WHERE { { ?x ?p ?o } UNION { ?o ?p ?x } } ORDER BY ?x",
        "ASK { ?x ?p ?o }",
        "ASK WHERE { ?x ?p ?o }",
        "CONSTRUCT { ?x <urn:q> '}' } WHERE { ?x ?p ?o }",
        "DESCRIBE ?x WHERE { ?x ?p ?o }",
        "BASE <http://b/> PREFIX : <http://ex/> SELECT ?x FROM <urn:g> WHERE { ?x :p ?o }",
    ],
)
def test_values_go_first_in_the_outer_where(query: str) -> None:
    """The bound query parses, and a VALUES block is the first thing of the WHERE group (and of
    each sub-select's), with the original text otherwise intact and in order."""
    from rdflib.plugins.sparql import prepareQuery

    text = bind_values(query, {"x": URIRef("urn:x:1")})
    prepareQuery(text)  # parses
    ox.Store().query(text)  # Oxigraph agrees it is SPARQL
    selects = sum(1 for t in tokens(query) if t.keyword() == "SELECT")
    subselects = max(0, selects - (query_form(tokens(query)) == "SELECT"))
    assert text.count("VALUES (?x) { (<urn:x:1>) }") == 1 + subselects
    stripped = text.replace(" VALUES (?x) { (<urn:x:1>) } ", "")
    if "{ SELECT" in query:  # the wrapping braces of a sub-select that opened a group
        stripped = stripped.replace("{{", "{").replace("} }", "}", 1)
    assert [t.text for t in tokens(stripped)] == [t.text for t in tokens(query)]


def test_subselect_is_wrapped() -> None:
    text = bind_values("SELECT * WHERE { SELECT ?x WHERE { ?x ?p ?o } }", {"x": URIRef("urn:x")})
    assert text.startswith("SELECT * WHERE { VALUES (?x) { (<urn:x>) } { SELECT ?x WHERE { VALUES (?x)")
    ox.Store().query(text)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?n ?o WHERE { { SELECT ?n ?o WHERE { ?s <urn:p> ?o FILTER(?o >= ?n) } } }",
        "SELECT ?n ?o WHERE { SELECT ?n ?o WHERE { ?s <urn:p> ?o FILTER(?o >= ?n) } }",
        "SELECT ?n ?m WHERE { { SELECT ?n (MAX(?o) AS ?m) WHERE { ?s <urn:p> ?o FILTER(?o < ?n) } "
        "GROUP BY ?n } }",
        "SELECT ?n ?o WHERE { ?s <urn:p> ?o FILTER(?o >= ?n) }",
    ],
)
def test_parameters_reach_sub_selects_as_on_the_embedded_store(query: str) -> None:
    """Oxigraph's substitutions bind a parameter inside sub-selects too; so must VALUES."""
    store = ox.Store()
    for i in range(4):
        store.add(ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal(i), ox.DefaultGraph()))
    substituted = store.query(query, substitutions={ox.Variable("n"): ox.Literal(2)})
    bound = store.query(bind_values(query, {"n": Literal(2)}))
    expected = sorted(str(row[1]) for row in substituted)
    assert expected
    assert sorted(str(row[1]) for row in bound) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("CONSTRUCT WHERE { ?x ?p ?o }", "short form"),
        ("DESCRIBE <urn:x>", "no WHERE"),
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "not a SELECT"),
        ("SELECT ?x WHERE { ?x ?p ?o", "unbalanced"),
    ],
)
def test_binding_refuses_what_it_cannot_place(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        bind_values(query, {"x": URIRef("urn:x")})


@pytest.mark.parametrize(
    ("term", "message"),
    [
        (URIRef("http://a/b> . <x"), "not a valid IRI"),
        (URIRef("http://a/ b"), "not a valid IRI"),
        (URIRef(""), "not a valid IRI"),
        (BNode("b1"), "blank node"),
        (Literal("x", datatype=URIRef("http://d/> <y")), "not a valid IRI"),
        ("plain python string", "not an RDF term"),
    ],
)
def test_terms_that_cannot_be_written_are_refused(term: object, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        sparql_term(term)  # type: ignore[arg-type]


def test_bad_parameter_name_refused() -> None:
    with pytest.raises(QueryError, match="invalid parameter name"):
        bind_values("SELECT ?x WHERE { }", {"x) } DROP ALL": Literal("v")})


def test_term_forms() -> None:
    assert sparql_term(Literal("x", lang="fr")) == '"x"@fr'
    assert sparql_term(Literal("2015-03-01", datatype=XSD.date)) == f'"2015-03-01"^^<{XSD.date}>'
    assert sparql_term(Literal("x", datatype=XSD.string)) == '"x"'
    assert sparql_term(Literal('a"\n\\')) == '"a\\"\\n\\\\"'


def test_prefixes_added_on_the_first_line_only_when_missing() -> None:
    text = with_prefixes(
        "PREFIX cmq: <urn:mine#>\nSELECT * WHERE { ?s a cmq:Campus ; rdfs:label ?l ; skos:x ?y }"
    )
    assert text.count("\n") == 1  # line numbers of the analyst's text are kept
    assert "PREFIX cmq: <urn:mine#>" in text and "<https://w3id.org/cmq/def#>" not in text
    assert "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in text
    assert "PREFIX skos:" in text and "PREFIX org:" not in text  # only those used
    assert with_prefixes("SELECT * WHERE { ?s ?p '#rdfs:label' }") == "SELECT * WHERE { ?s ?p '#rdfs:label' }"


def test_batches_keep_blank_node_groups_together() -> None:
    p = ox.NamedNode("urn:p")
    b1, b2 = ox.BlankNode("b1"), ox.BlankNode("b2")
    triples = [ox.Triple(ox.NamedNode(f"urn:s{i}"), p, ox.Literal(str(i))) for i in range(7)]
    chain = [
        ox.Triple(ox.NamedNode("urn:a"), p, b1),
        ox.Triple(b1, p, b2),
        ox.Triple(b2, p, ox.Literal("end")),
        ox.Triple(b1, p, ox.Literal("mid")),
    ]
    mixed = [*triples[:3], chain[0], *triples[3:5], chain[1], chain[2], *triples[5:], chain[3]]
    out = list(batches(mixed, 3))
    assert sorted(str(t) for b in out for t in b) == sorted(map(str, mixed))
    with_chain = [b for b in out if chain[0] in b]
    assert len(with_chain) == 1 and all(t in with_chain[0] for t in chain)
    assert all(len(b) <= 3 for b in out if b is not with_chain[0])


# -- protocol ------------------------------------------------------------------------------------


def test_select_get_short_post_long_user_agent() -> None:
    with FakeEndpoint([Reply(body=OK_JSON)]) as fake:
        store = _store(fake.url)
        assert store.query("SELECT ?x WHERE { ?x a cmq:Campus }").rows == [(Literal("1"),)]
        long_query = (
            "SELECT ?x WHERE { ?x ?p ?o "
            + " ".join(f"OPTIONAL {{ ?x <urn:p{i}> ?v{i} }}" for i in range(80))
            + " }"
        )
        store.query(long_query)
    first, second = fake.received
    assert first.method == "GET" and "PREFIX cmq:" in first.sparql()
    assert second.method == "POST" and "urn:p79" in second.sparql()
    for r in fake.received:
        assert r.headers["User-Agent"] == DEFAULT_USER_AGENT
        assert "cmq-graph/" in r.headers["User-Agent"]
        assert "application/sparql-results+json" in r.headers["Accept"]


def test_bindings_travel_as_values_not_text() -> None:
    with FakeEndpoint([Reply(body=OK_JSON)]) as fake:
        _store(fake.url).query("SELECT ?x WHERE { ?x ?p ?o }", {"o": Literal(HOSTILE[3])})
    sent = fake.received[0].sparql()
    assert 'VALUES (?o) { ("\\"} ; DROP ALL #") }' in sent


def test_terms_converted() -> None:
    body = json.dumps(
        {
            "head": {"vars": ["a", "b", "c", "d", "e", "f"]},
            "results": {
                "bindings": [
                    {
                        "a": {"type": "uri", "value": "urn:a"},
                        "b": {"type": "literal", "value": "x", "xml:lang": "fr"},
                        "c": {"type": "typed-literal", "datatype": str(XSD.date), "value": "2015-03-01"},
                        "d": {"type": "literal", "datatype": str(XSD.string), "value": "s"},
                        "e": {"type": "bnode", "value": "nodeID://b1"},
                    }
                ]
            },
        }
    ).encode()
    with FakeEndpoint([Reply(body=body)]) as fake:
        result = _store(fake.url).query("SELECT * WHERE { ?a ?b ?c }")
    assert result.variables == ["a", "b", "c", "d", "e", "f"]
    assert result.rows == [
        (
            URIRef("urn:a"),
            Literal("x", lang="fr"),
            Literal("2015-03-01", datatype=XSD.date),
            Literal("s"),
            BNode("nodeID://b1"),
            None,
        )
    ]


def test_ask_and_construct() -> None:
    turtle = b"<urn:a> <urn:b> 'c' ."
    with FakeEndpoint(
        [Reply(body=b'{"head": {}, "boolean": true}'), Reply(body=turtle, content_type="text/turtle")]
    ) as fake:
        store = _store(fake.url)
        assert store.query("ASK { ?s ?p ?o }").boolean is True
        graph = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }").graph
    assert graph is not None and len(graph) == 1
    assert "application/n-triples" in fake.received[1].headers["Accept"]


# -- failures ------------------------------------------------------------------------------------


def test_endpoint_down_is_retried_then_reported() -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"  # nothing listens there
    store = _store(url, retries=3)
    with pytest.raises(StoreError, match=r"cannot reach the SPARQL endpoint .*\(4 attempts\)"):
        store.query("ASK { }")
    assert store.attempts == 4
    assert store.sleeps == [0.01, 0.02, 0.04]  # exponential backoff, bounded in count


def test_timeout_is_not_retried() -> None:
    """The server may still be running a timed-out query: it is sent once, never again."""
    got = _fails(
        [Reply(body=OK_JSON, delay=3)],
        QueryError,
        r"timed out after 0.3 s .*not retried",
        timeout=0.3,
        retries=2,
    )
    assert len(got) == 1


def test_timeout_is_a_deadline_for_the_whole_call() -> None:
    """A live server sending its answer a byte every 0.1 s never idles past a per-read timeout;
    the call still ends at its deadline."""
    with FakeEndpoint([Reply(body=OK_JSON, trickle=0.1)]) as fake:
        store = _store(fake.url, timeout=1.0, retries=3)
        started = time.monotonic()
        with pytest.raises(QueryError, match=r"timed out after 1 s"):
            store.query("SELECT ?x WHERE { }")
        took = time.monotonic() - started
    assert len(OK_JSON) * 0.1 > 3  # the whole answer would take longer than the deadline
    assert 0.9 < took < 1.6
    assert len(fake.received) == 1


def test_retries_stop_at_the_deadline() -> None:
    """Transient failures are retried only while the deadline leaves time for the wait."""
    reply = Reply(status=503, body=b"busy", content_type="text/plain", delay=0.2)
    with FakeEndpoint([reply]) as fake:
        store = RemoteStore(fake.url, timeout=1.0, retries=50, backoff=0.1, max_backoff=0.1, dataset=None)
        started = time.monotonic()
        with pytest.raises(
            (StoreError, QueryError), match=r"unavailable \(HTTP 503\).*no time left|timed out after 1 s"
        ):
            store.query("ASK { }")
        took = time.monotonic() - started
    assert took < 1.5
    assert 2 <= len(fake.received) < 10


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf"])
def test_cli_refuses_a_timeout_that_is_no_deadline(timeout: str) -> None:
    with FakeEndpoint([Reply(body=OK_JSON)]) as fake:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cmq_graph.cli",
                "query",
                "ASK { }",
                "--endpoint",
                fake.url,
                "--timeout",
                timeout,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "timeout" in done.stderr
    assert fake.received == []


def test_cli_timeout_is_the_whole_call() -> None:
    with FakeEndpoint([Reply(body=OK_JSON, delay=30)]) as fake:
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cmq_graph.cli",
                "query",
                "ASK { }",
                "--endpoint",
                fake.url,
                "--timeout",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        took = time.monotonic() - started
    assert done.returncode != 0 and "timed out after 2 s" in done.stderr
    assert len(fake.received) == 1
    assert took < 8  # the interpreter's start-up included


def test_per_call_timeout_overrides() -> None:
    with (
        FakeEndpoint([Reply(body=OK_JSON, delay=3)]) as fake,
        pytest.raises(QueryError, match=r"after 0\.2 s"),
    ):
        _store(fake.url, timeout=30, retries=0).query("SELECT ?x WHERE { }", timeout=0.2)
    assert len(fake.received) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_transient_status_retried_then_succeeds(status: int) -> None:
    with FakeEndpoint(
        [Reply(status=status, body=b"busy", content_type="text/plain"), Reply(body=OK_JSON)]
    ) as fake:
        store = _store(fake.url)
        assert store.query("SELECT ?x WHERE { }").rows == [(Literal("1"),)]
    assert len(fake.received) == 2 and store.attempts == 2


def test_transient_status_gives_up() -> None:
    reply = Reply(status=503, body=b"Service Unavailable: maintenance", content_type="text/plain")
    got = _fails(
        [reply],
        StoreError,
        r"unavailable \(HTTP 503\): Service Unavailable: maintenance \(3 attempts\)",
        retries=2,
    )
    assert len(got) == 3


def test_500_reports_server_message_without_retry() -> None:
    body = b"Virtuoso 42000 Error SR186: No permission\n\nSPARQL query:\nSELECT ..."
    reply = Reply(status=500, body=body, content_type="text/plain")
    got = _fails(
        [reply], QueryError, r"failed on the query \(HTTP 500\): Virtuoso 42000 Error SR186: No permission$"
    )
    assert len(got) == 1


def test_400_reports_syntax_message() -> None:
    body = b"Virtuoso 37000 Error SP030: SPARQL compiler, line 3: syntax error at '}'"
    reply = Reply(status=400, body=body, content_type="text/plain")
    assert len(_fails([reply], QueryError, r"rejected the query \(HTTP 400\): .*line 3: syntax error")) == 1


def test_401_says_how_to_give_credentials() -> None:
    _fails([Reply(status=401, body=b"", content_type="text/plain")], StoreError, "CMQ_GRAPH_USER")


def test_404_names_the_url() -> None:
    reply = Reply(status=404, body=b"<html>Not found</html>", content_type="text/html")
    _fails([reply], StoreError, r"no SPARQL service at http://127\.0\.0\.1:\d+/sparql \(HTTP 404\)")


def _select(*solutions: dict) -> bytes:
    return json_select(["x"], [{"x": {"type": "uri", "value": "urn:1"}}, *solutions])


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(body=b'{"head": {"vars": ["x"]}, "results": {"bindings": [{"x": '), "not JSON"),
        (Reply(body=b"<html>Welcome</html>", content_type="text/html"), "content type 'text/html'"),
        (Reply(body=b'{"head": {"vars": ["x"]}, "results": {"bindings": {}}}'), "results.bindings"),
        (Reply(body=b'{"results": {"bindings": []}}'), "no 'head'"),
        (Reply(body=_select({"y": {"type": "uri", "value": "u"}})), "undeclared"),
        (Reply(body=_select({"x": {"type": "weird", "value": "u"}})), "unknown term type"),
        (Reply(body=_select({"x": "urn:2"})), "not a term"),
        (Reply(body=b'{"head": {}, "boolean": "yes"}'), "boolean"),
        (Reply(body=b"\xff\xfe garbage"), "not JSON"),
    ],
)
def test_malformed_response_is_an_error_not_a_partial_result(reply: Reply, message: str) -> None:
    assert len(_fails([reply], QueryError, message)) == 1  # a malformed answer is not transient


def test_truncated_body_is_retried_and_reported() -> None:
    got = _fails(
        [Reply(body=OK_JSON, short=True)], StoreError, r"broke: IncompleteRead.*\(2 attempts\)", retries=1
    )
    assert len(got) == 2


def test_dropped_connection_is_retried() -> None:
    with FakeEndpoint([Reply(drop=True), Reply(body=OK_JSON)]) as fake:
        assert _store(fake.url).query("SELECT ?x WHERE { }").rows == [(Literal("1"),)]
    assert len(fake.received) == 2


def test_virtuoso_max_rows_truncation_is_an_error() -> None:
    rows = [{"s": {"type": "uri", "value": f"urn:s{i}"}} for i in range(5)]
    reply = Reply(body=json_select(["s"], rows), headers={"X-SPARQL-MaxRows": "5"})
    _fails([reply], QueryError, r"cut the result at 5 rows .*ResultSetMaxRows")
    fewer = Reply(body=json_select(["s"], rows[:4]), headers={"X-SPARQL-MaxRows": "5"})
    with FakeEndpoint([fewer]) as fake:
        assert len(_store(fake.url).query("SELECT ?s WHERE { ?s ?p ?o }").rows) == 4


def test_virtuoso_anytime_partial_result_is_an_error() -> None:
    headers = {"X-SQL-State": "S1TAT", "X-SQL-Message": "RC...: Returning incomplete results"}
    _fails([Reply(body=OK_JSON, headers=headers)], QueryError, "incomplete results")


def test_update_is_not_a_query() -> None:
    with pytest.raises(QueryError, match="SPARQL Update"):
        _store("http://127.0.0.1:9/sparql").query("DROP ALL")


# -- redirects -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("where", ["ftp://127.0.0.1/x", "other"])
def test_redirects_are_never_followed(status: int, where: str) -> None:
    with FakeEndpoint([Reply(body=OK_JSON)]) as other:
        location = other.url if where == "other" else where
        moved = Reply(status=status, body=b"moved", content_type="text/plain", headers={"Location": location})
        with FakeEndpoint([moved]) as fake:
            with pytest.raises(
                StoreError, match=rf"redirect \(HTTP {status}\) to {location}: .*not followed"
            ):
                _store(fake.url, retries=3).query("ASK { }")
            assert len(fake.received) == 1
        assert other.received == []


def test_redirect_is_not_followed_with_credentials_either() -> None:
    with FakeEndpoint([Reply(body=OK_JSON)]) as other:
        challenge = Reply(
            status=401, body=b"", content_type="text/plain", headers={"WWW-Authenticate": 'Basic realm="x"'}
        )
        moved = Reply(status=307, body=b"", content_type="text/plain", headers={"Location": other.url})
        with FakeEndpoint([challenge, moved]) as fake, pytest.raises(StoreError, match="not followed"):
            _store(fake.url, credentials=Credentials("u", "p")).update("INSERT DATA { <urn:a> <urn:b> 1 }")
        assert other.received == []


# -- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://store.example/sparql", "http://192.0.2.7:8890/sparql", "http://[2001:db8::1]/sparql"],
)
def test_credentials_over_plain_http_refused_unless_loopback_or_allowed(url: str) -> None:
    with pytest.raises(StoreError, match="plain http://") as info:
        RemoteStore(url, credentials=Credentials("u", "pw-secret"))
    assert "pw-secret" not in str(info.value)
    RemoteStore(url, credentials=Credentials("u", "pw-secret"), allow_plain_http=True)
    RemoteStore(url.replace("http://", "https://"), credentials=Credentials("u", "pw-secret"))
    RemoteStore(url)  # no credentials: nothing to protect
    with pytest.raises(StoreError, match="plain http://"):
        RemoteStore(
            url.replace("http://", "https://"),
            update_endpoint=url,
            credentials=Credentials("u", "pw-secret"),
        )


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.0.1", "localhost", "[::1]"])
def test_credentials_over_loopback_http_allowed(host: str) -> None:
    RemoteStore(f"http://{host}:8890/sparql", credentials=Credentials("u", "p"))


def test_publish_refuses_plain_http_credentials_before_any_request(tmp_path: Path) -> None:
    env = dict(os.environ, CMQ_GRAPH_USER="ana", CMQ_GRAPH_PASSWORD="pw-never-shown-42")
    argv = [sys.executable, "-m", "cmq_graph.cli", "publish", "--endpoint", "http://192.0.2.7/sparql"]
    done = subprocess.run(
        [*argv, "--store", str(tmp_path)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "plain http://" in done.stderr and "--allow-plain-http" in done.stderr
    assert "pw-never-shown-42" not in done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_credentials_in_url_refused_without_echo() -> None:
    with pytest.raises(StoreError) as info:
        RemoteStore("http://admin:s3cret-pw@127.0.0.1:8890/sparql")
    assert "s3cret-pw" not in str(info.value)


def test_credentials_repr_hides_password() -> None:
    assert "s3cret" not in repr(Credentials("dba", "s3cret"))


def test_basic_credentials_sent_on_challenge() -> None:
    challenge = Reply(
        status=401, body=b"", content_type="text/plain", headers={"WWW-Authenticate": 'Basic realm="x"'}
    )
    with FakeEndpoint([challenge, Reply(body=OK_JSON)]) as fake:
        _store(fake.url, credentials=Credentials("u", "p")).query("SELECT ?x WHERE { }")
    assert "Authorization" not in fake.received[0].headers
    assert fake.received[1].headers["Authorization"].startswith("Basic ")


def test_wrong_credentials_reported() -> None:
    challenge = Reply(
        status=401, body=b"", content_type="text/plain", headers={"WWW-Authenticate": 'Basic realm="x"'}
    )
    _fails([challenge], StoreError, "credentials were refused", credentials=Credentials("u", "p"))


def test_credentials_from_environment() -> None:
    env = {"CMQ_GRAPH_USER": "ana", "CMQ_GRAPH_PASSWORD": "pw"}
    assert read_credentials(None, "http://h/sparql", env) == Credentials("ana", "pw")
    assert read_credentials(None, "http://h/sparql", {}) is None
    with pytest.raises(StoreError, match="both"):
        read_credentials(None, "http://h/sparql", {"CMQ_GRAPH_USER": "ana"})


def test_credentials_files(tmp_path: Path) -> None:
    kv = tmp_path / "kv"
    kv.write_text("# mine\nexport CMQ_GRAPH_USER=ana\nCMQ_GRAPH_PASSWORD='p w=1'\n")
    kv.chmod(0o600)
    assert read_credentials(kv, "http://h/sparql", {}) == Credentials("ana", "p w=1")
    netrc = tmp_path / "netrc"
    netrc.write_text(
        "machine other login x password y\n"
        "machine store.example login ana password pw\n"
        "default login d password dp\n"
    )
    netrc.chmod(0o600)
    assert read_credentials(netrc, "https://store.example/sparql", {}) == Credentials("ana", "pw")
    assert read_credentials(netrc, "https://elsewhere/sparql", {}) == Credentials("d", "dp")
    empty = tmp_path / "empty"
    empty.write_text("machine other login x password y\n")
    with pytest.raises(StoreError, match="no user and password") as info:
        read_credentials(empty, "https://store.example/sparql", {})
    assert "y" not in str(info.value).split(":")[-1]


def test_credentials_file_readable_by_others_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kv = tmp_path / "kv"
    kv.write_text("user=ana\npassword=pw\n")
    kv.chmod(0o644)
    read_credentials(kv, "http://h/sparql", {})
    assert "chmod 600" in capsys.readouterr().err
    assert not kv.stat().st_mode & stat.S_IWOTH


def test_publish_has_no_password_option_and_never_prints_it(tmp_path: Path) -> None:
    """The password goes in through the environment only, and comes out nowhere."""
    env = dict(os.environ, CMQ_GRAPH_USER="ana", CMQ_GRAPH_PASSWORD="pw-never-shown-42")
    url = f"http://127.0.0.1:{free_port()}/sparql"
    argv = [
        sys.executable,
        "-m",
        "cmq_graph.cli",
        "publish",
        "--endpoint",
        url,
        "--retries",
        "0",
        "--store",
        str(tmp_path),
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "cannot reach the SPARQL endpoint" in done.stderr
    assert "pw-never-shown-42" not in done.stdout + done.stderr
    assert "pw-never-shown-42" not in " ".join(argv)
    helptext = subprocess.run(
        [*argv[:4], "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "--password" not in helptext and "--user" not in helptext


# -- dataset and Virtuoso's geometry -------------------------------------------------------------


def test_queries_see_the_published_graphs_only() -> None:
    """With a publication manifest on the endpoint, each query names the published graphs as its
    dataset (default graph = their union, named graphs = them), unless it has its own FROM."""
    graphs = ["https://w3id.org/cmq/id/source/a", "https://w3id.org/cmq/graph/meta"]
    manifest = json_select(["g"], [{"g": {"type": "literal", "value": g}} for g in graphs])
    with FakeEndpoint([Reply(body=manifest), Reply(body=OK_JSON)]) as fake:
        store = _store(fake.url, dataset="https://w3id.org/cmq/graph/published")
        store.query("SELECT ?x WHERE { GRAPH ?x { ?s ?p ?o } }")
        store.query("SELECT ?x FROM <urn:mine> WHERE { ?x ?p ?o }")
        store.query("SELECT ?x WHERE { ?x ?p ?o }")
    lookup, first, own, second = fake.received
    assert "https://w3id.org/cmq/graph/published" in lookup.sparql()
    for request in (first, second):  # looked up once, used for every query
        params = request.params()
        assert sorted(params["default-graph-uri"]) == sorted(graphs)
        assert sorted(params["named-graph-uri"]) == sorted(graphs)
    assert "default-graph-uri" not in own.params()


def test_no_manifest_means_no_restriction() -> None:
    with FakeEndpoint([Reply(body=json_select(["g"], [])), Reply(body=OK_JSON)]) as fake:
        store = _store(fake.url, dataset="https://w3id.org/cmq/graph/published")
        store.query("SELECT ?x WHERE { ?x ?p ?o }")
        store.query("SELECT ?x WHERE { ?x ?p ?o }")
    assert len(fake.received) == 3
    assert all("default-graph-uri" not in r.params() for r in fake.received)


@pytest.mark.parametrize(
    ("virtuoso", "loaded"),
    [
        ("POINT(0.37000000476837 49.180000305176)", "POINT(0.37 49.18)"),
        ("POINT(-1.0993000268936 49.443199157715)", "POINT(-1.0993 49.4432)"),
        ("POINT(2.3522219657898 48.856613159180)", "POINT(2.352222 48.856613)"),
        ("POLYGON((0 0,1 0,1 1,0 0))", "POLYGON((0 0,1 0,1 1,0 0))"),
    ],
)
def test_virtuoso_geometry_comes_back_as_wkt(virtuoso: str, loaded: str) -> None:
    body = json_select(["w"], [{"w": {"type": "typed-literal", "datatype": GEOMETRY, "value": virtuoso}}])
    with FakeEndpoint([Reply(body=body)]) as fake:
        (row,) = _store(fake.url, dataset=None).query("SELECT ?w WHERE { ?s geo:asWKT ?w }").rows
    assert row == (Literal(loaded, datatype=URIRef("http://www.opengis.net/ont/geosparql#wktLiteral")),)
