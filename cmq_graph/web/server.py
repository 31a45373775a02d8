"""``cmq-graph serve``: a read-only SPARQL 1.1 Protocol service over the store, with a query page.

An ASGI application (Starlette, served by Granian) that reads the protocol, chooses the format
and hands the query to a pool of killable worker processes (:mod:`.pool`), which serialise the
answer with Oxigraph. Paths that are not the endpoint, the query page or its assets are the
linked-data resources of :mod:`.resources`, answered through one hook.

Why this design (numbers in ``benchmarks/README.md``, "The SPARQL endpoint"): ``oxigraph
serve-read-only`` spends less CPU per small query, but starts a thread per connection and fails
under sustained connection-per-request load, and follows no ``current`` link to a new build; a
proxy in front of it would add the same process hop as our workers (HTTP process -> engine ->
HTTP process) and a restart of it at each build. Our workers give a real stop (SIGKILL) and
pick up a build per query. The hot path (GET/POST with a query) skips Starlette's layers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import json
import os
import re
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib.term import Node
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from ..errors import QueryError
from ..namespaces import PREFIXES
from ..remote import query_form, tokens
from ..store import QueryResult, _with_values, to_oxigraph, to_rdflib
from . import protocol, query_page
from .pool import QueryPool
from .protocol import ProtocolError
from .worker import Answer, Job

STATIC = Path(__file__).parent / "static"
TRUNCATED_HEADER = "X-CMQ-Truncated"


@dataclass
class Settings:
    """The service's limits; the defaults suit a laptop and a small public host."""

    root: Path
    timeout: float = 30.0  # seconds of running per query, then its worker is killed
    max_rows: int = 100_000  # rows (SELECT) or triples (CONSTRUCT/DESCRIBE) per answer
    max_bytes: int = 64 * 1024 * 1024  # bytes per answer before serialisation to the asked format
    max_request: int = 1024 * 1024  # bytes of a request body or query string
    workers: int = 2  # query worker processes (one per core), per HTTP process
    http_processes: int = 1  # processes reading HTTP (Granian workers sharing the port)
    queue_timeout: float = 30.0  # seconds a query may wait for a free worker


def _problem(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """A 4xx/5xx answer: one plain-text line saying what is wrong."""
    return Response(message + "\n", status, headers=dict(headers or {}), media_type="text/plain")


def _problem_parts(status: int, message: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    headers["content-type"] = "text/plain; charset=utf-8"
    return status, headers, (message + "\n").encode()


class _NoQuery(Exception):
    """The request asks no query: the endpoint describes itself."""

    def __init__(self, fmt: str | None):
        super().__init__()
        self.format = fmt


class PoolStore:
    """A ``GraphStore`` over the service's workers, for the resources hook (run in a thread).

    Its queries have the service's time limit and see the live build, as the endpoint's do.
    """

    def __init__(self, pool: QueryPool, loop: asyncio.AbstractEventLoop, settings: Settings):
        self._pool, self._loop, self._settings = pool, loop, settings

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None, *,
              timeout: float | None = None) -> QueryResult:
        limit = min(timeout or self._settings.timeout, self._settings.timeout)
        subs = {k: to_oxigraph(v) for k, v in (bindings or {}).items()}
        if subs:  # as the embedded store: a VALUES block too, so the plan knows the values
            sparql = _with_values(sparql, bindings)  # type: ignore[arg-type]
        job = Job(sparql, substitutions=subs, lines_only=True, max_rows=self._settings.max_rows,
                  max_bytes=self._settings.max_bytes, union=not _has_from(sparql))
        answer = asyncio.run_coroutine_threadsafe(self._pool.run(job, limit), self._loop).result()
        if answer.status != 200:
            raise QueryError(answer.error)
        return lines_to_result(answer)

    def close(self) -> None:
        pass


def lines_to_result(answer: Answer) -> QueryResult:
    """A worker's TSV / N-Triples answer as a ``QueryResult`` of rdflib terms."""
    if answer.kind == "ask":
        return QueryResult("ask", boolean=answer.body.strip() == b"true")
    if answer.kind == "select":
        parsed = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.TSV)
        variables = [v.value for v in parsed.variables]
        rows = [tuple(to_rdflib(s[v]) for v in variables) for s in parsed]
        return QueryResult("select", variables=variables, rows=rows)
    from rdflib import Graph

    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    for t in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES):
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))  # type: ignore[arg-type]
    return QueryResult("graph", graph=graph)


# Cheap tests first: the tokenizer runs only on a query that holds one of these words at all.
_MAYBE_FROM = re.compile(r"\bFROM\b", re.IGNORECASE)
_MAYBE_UPDATE = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY)\b", re.IGNORECASE)


def _has_from(sparql: str) -> bool:
    """Whether the query names its dataset (FROM / FROM NAMED outside strings, IRIs and comments)."""
    return bool(_MAYBE_FROM.search(sparql)) and any(t.keyword() == "FROM" for t in tokens(sparql))


def _is_update(sparql: str) -> bool:
    return bool(_MAYBE_UPDATE.search(sparql)) and query_form(tokens(sparql)) == "UPDATE"


class Service:
    """The endpoint's handlers, holding the settings and the worker pool."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.pool = QueryPool(settings.root, PREFIXES, size=settings.workers,
                              queue_timeout=settings.queue_timeout)
        self.store: PoolStore | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        await self.pool.start()
        self.store = PoolStore(self.pool, asyncio.get_running_loop(), self.settings)
        try:
            yield
        finally:
            await self.pool.close()

    async def sparql(self, request: Request) -> Response:
        """/sparql through Starlette: the service description, and methods other than GET/POST."""
        try:
            body = await self._body(request)
            status, headers, payload = await self.answer(
                request.method, request.url.query, request.headers.get("content-type"),
                request.headers.get("accept"), body)
        except _NoQuery as none:
            return self._description(request, request.headers.get("accept"), none.format)
        except ProtocolError as exc:
            return _problem(exc.status, str(exc))
        return Response(payload, status, headers=headers)

    async def answer(self, method: str, query_string: str, content_type: str | None,
                     accept: str | None, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of a protocol request; raises _NoQuery when it asks no query."""
        try:
            if len(query_string) > self.settings.max_request:
                raise ProtocolError(413, f"the query string is over {self.settings.max_request} bytes")
            req = protocol.read(method, query_string, content_type, body)
            if req.query is None:
                raise _NoQuery(req.format)
            results, graph = protocol.negotiate(accept, req.format)
            if results is None and graph is None:
                raise ProtocolError(406, f"none of the accepted media types ({accept}) is served; "
                                    "see the service description for the formats")
            if _is_update(req.query):
                raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is refused")
        except ProtocolError as exc:
            headers = {"Allow": "GET, POST, OPTIONS"} if exc.status == 405 else {}
            return _problem_parts(exc.status, str(exc), headers)
        s = self.settings
        job = Job(req.query, results, graph, req.default_graphs, req.named_graphs, s.max_rows,
                  s.max_bytes, union=not _has_from(req.query))
        answer = await self.pool.run(job, s.timeout)
        if answer.status != 200:
            return _problem_parts(answer.status, answer.error, {})
        headers = {"content-type": answer.media_type, "vary": "Accept"}
        if answer.truncated:
            headers[TRUNCATED_HEADER] = str(s.max_rows)
        return 200, headers, answer.body

    async def fast(self, scope: dict, receive: Callable, send: Callable) -> bool:
        """GET/POST /sparql with a query, answered without Starlette's layers (the hot path:
        they cost more CPU per request than the query on small lookups). False: not handled."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        query_string = scope["query_string"].decode("latin-1")
        if method == "GET" and "query=" not in query_string:
            return False
        try:
            body = await self._raw_body(method, headers, receive)
            status, out, payload = await self.answer(method, query_string, headers.get("content-type"),
                                                     headers.get("accept"), body)
        except ProtocolError as exc:
            status, out, payload = _problem_parts(exc.status, str(exc), {})
        except _NoQuery:
            status, out, payload = _problem_parts(400, "the request has no 'query'", {})
        if "origin" in headers:
            out["access-control-allow-origin"] = "*"
            out["access-control-expose-headers"] = TRUNCATED_HEADER
        out["content-length"] = str(len(payload))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out.items()]})
        await send({"type": "http.response.body", "body": payload})
        return True

    async def _raw_body(self, method: str, headers: Mapping[str, str], receive: Callable) -> bytes:
        if method != "POST":
            return b""
        limit = self.settings.max_request
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ProtocolError(400, "the client left before sending its request")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > 16 * limit:
                break  # answer now; a client still sending sees the connection close
            more = message.get("more_body", False)
        if size > limit:
            # Read (up to 16x the limit) before answering, so that a client that sends its whole
            # body before reading gets the 413 rather than a broken pipe.
            raise ProtocolError(413, f"the request body is over {limit} bytes")
        return b"".join(chunks)

    async def _body(self, request: Request) -> bytes:
        if request.method != "POST":
            return b""
        limit = self.settings.max_request
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > 16 * limit:
                break
        if size > limit:  # read first, as in _raw_body
            raise ProtocolError(413, f"the request body is over {limit} bytes")
        return b"".join(chunks)

    def _description(self, request: Request, accept: str | None, fmt: str | None) -> Response:
        if fmt is None and protocol.wants_html(accept):
            return HTMLResponse(query_page.render(endpoint="sparql", static="static/"))
        _results, graph = protocol.negotiate(accept, fmt)
        if graph is None:
            graph = "TURTLE"
        endpoint = str(request.url.replace(query="", fragment=""))
        turtle = protocol.service_description(endpoint, PREFIXES, max_rows=self.settings.max_rows,
                                              timeout=self.settings.timeout)
        rdf = getattr(ox.RdfFormat, graph)
        body = ox.serialize(ox.parse(turtle, format=ox.RdfFormat.TURTLE), format=rdf,
                            prefixes={"sd": "http://www.w3.org/ns/sparql-service-description#"})
        return Response(body, 200, headers={"Vary": "Accept"}, media_type=rdf.media_type)

    async def query_page(self, request: Request) -> Response:
        return HTMLResponse(query_page.render(endpoint="sparql", static="static/"))

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return _problem(404, f"no such file: /static/{name}")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    async def resource(self, request: Request) -> Response:
        """Any other GET path: a linked-data resource (``cmq_graph.web.resources``), else 404."""
        if request.method not in ("GET", "HEAD"):
            return _problem(405, f"method {request.method} is not allowed here: use GET",
                            {"Allow": "GET, HEAD"})
        hook = _resource_hook()
        if hook is None:
            return _problem(404, f"no resource at {request.url.path}")
        status, headers, body = await run_in_threadpool(
            hook, self.store, request.url.path, request.headers.get("accept", ""),
            dict(request.query_params),
        )
        return Response(body, status, headers=headers)


def _resource_hook() -> Callable[..., tuple[int, dict[str, str], bytes]] | None:
    try:
        module = importlib.import_module("cmq_graph.web.resources")
    except ModuleNotFoundError as exc:
        if exc.name == "cmq_graph.web.resources":
            return None
        raise
    return getattr(module, "resource_response", None)


def app(settings: Settings) -> Callable:
    """The ASGI application for ``settings``."""
    service = Service(settings)
    routes = [
        Route("/sparql", service.sparql, methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
              name="sparql"),
        Route("/query", service.query_page, methods=["GET"], name="query"),
        Route("/static/{name}", service.static, methods=["GET"]),
        Route("/{path:path}", service.resource, methods=["GET", "HEAD", "POST", "PUT", "DELETE"]),
    ]
    middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                             allow_headers=["*"], expose_headers=[TRUNCATED_HEADER], max_age=86400)]
    application = Starlette(routes=routes, middleware=middleware, lifespan=service.lifespan)
    application.state.service = service

    async def endpoint(scope: dict, receive: Callable, send: Callable) -> None:
        if (scope["type"] == "http" and scope["path"] == "/sparql" and scope["method"] in ("GET", "POST")
                and await service.fast(scope, receive, send)):
            return
        await application(scope, receive, send)

    return endpoint  # type: ignore[return-value]


_SETTINGS_ENV = "CMQ_GRAPH_SERVE_SETTINGS"


def app_from_env() -> Callable:
    """The application of one HTTP process (Granian imports it; the settings are in the env)."""
    raw = json.loads(os.environ[_SETTINGS_ENV])
    raw["root"] = Path(raw["root"])
    return app(Settings(**raw))


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000,
          say: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted; says the endpoint's and the page's address first.

    Granian (a Rust HTTP server running the ASGI application) reads HTTP: under load it spends
    less CPU per request than uvicorn, and its I/O threads keep their share of a busy machine
    (benchmarks/README.md). Each of its ``http_processes`` processes has its own query workers.
    """
    from granian.server import Server as Granian

    sock = listen(host, port)  # the address is checked, and port 0 becomes a free port
    bound = sock.getsockname()[1]
    sock.close()  # Granian binds it again in each of its processes (SO_REUSEPORT)
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{bound}"
    os.environ[_SETTINGS_ENV] = json.dumps({**dataclasses.asdict(settings), "root": str(settings.root)})
    (say or (lambda m: print(m, flush=True, file=sys.stdout)))(
        f"cmq-graph serve: SPARQL endpoint {base}/sparql — query page {base}/query"
    )
    Granian("cmq_graph.web.server:app_from_env", address=host, port=bound, interface="asgi",
            workers=max(1, settings.http_processes), loop="uvloop", log_level="warning",
            log_access=False, backlog=2048, factory=True, websockets=False).serve()
