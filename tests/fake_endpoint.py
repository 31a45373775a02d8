"""HTTP servers on 127.0.0.1 for the remote-failure tests: a scripted fake endpoint and a proxy.

A real server cannot be made to fail on cue; these can. ``FakeEndpoint`` answers each request
with the next scripted :class:`Reply` (a status, a body, a delay, or a dropped connection) and
records what it received. ``FailingProxy`` forwards to a real server (Virtuoso) and fails the
requests a rule picks, to interrupt a publish at a chosen point.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/sparql-results+json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering
    short: bool = False  # announce more bytes than sent, then close
    trickle: float = 0.0  # seconds between each byte of the body (a slow, live server)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def params(self) -> dict[str, list[str]]:
        """Protocol parameters, from the URL and, for a form POST, the body."""
        found = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            for k, v in urllib.parse.parse_qs(self.body.decode()).items():
                found.setdefault(k, []).extend(v)
        return found

    def sparql(self) -> str:
        """The query or update text, whether sent by GET or by (form or direct) POST."""
        if self.method == "GET":
            return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("query", [""])[0]
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            form = urllib.parse.parse_qs(self.body.decode())
            return (form.get("query") or form.get("update") or [""])[0]
        return self.body.decode()


def json_select(variables: list[str], rows: list[dict[str, dict[str, str]]]) -> bytes:
    import json

    return json.dumps({"head": {"vars": variables}, "results": {"bindings": rows}}).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeEndpoint:
    """Answers with ``replies`` in turn (the last one repeats); ``received`` lists the requests."""

    def __init__(self, replies: list[Reply] | None = None):
        self.replies = list(replies or [Reply()])
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with outer._lock:
                    outer.received.append(Received(self.command, self.path, dict(self.headers), body))
                    index = min(len(outer.received), len(outer.replies)) - 1
                    reply = outer.replies[index]
                if reply.delay:
                    outer._stop.wait(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body) + (100 if reply.short else 0)))
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    if reply.trickle:
                        for i in range(len(reply.body)):
                            if outer._stop.wait(reply.trickle):
                                break
                            self.wfile.write(reply.body[i : i + 1])
                            self.wfile.flush()
                    else:
                        self.wfile.write(reply.body)
                        self.wfile.flush()
                except OSError:
                    pass
                self.close_connection = True

            do_GET = _handle
            do_POST = _handle

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # wake replies that sleep, so shutdown is prompt
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


# A rule sees each request (method, path, headers, body) with its 1-based number among the
# requests that carry credentials (the real writes, not digest challenges) and returns None to
# forward it, an HTTP status to answer instead, or 0 to drop the connection.
Rule = Callable[[int, Received], int | None]


class FailingProxy:
    """Forwards to ``upstream`` (``http://127.0.0.1:PORT``) unless ``rule`` says to fail."""

    def __init__(self, upstream: str, rule: Rule):
        parts = urllib.parse.urlsplit(upstream)
        self.rule = rule
        self.authorised = 0
        self.failed: list[Received] = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Received(self.command, self.path, dict(self.headers), body)
                verdict = None
                if "Authorization" in self.headers:
                    with lock:
                        outer.authorised += 1
                        verdict = outer.rule(outer.authorised, seen)
                        if verdict is not None:
                            outer.failed.append(seen)
                if verdict == 0:
                    self.close_connection = True
                    self.connection.close()
                    return
                if verdict is not None:
                    message = b"proxy: failing on purpose"
                    self.send_response(verdict)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(message)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(message)
                    self.close_connection = True
                    return
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                finally:
                    conn.close()
                self.send_response_only(answer.status, answer.reason)  # keep upstream Server header
                for k, v in answer.getheaders():
                    if k.lower() not in ("connection", "content-length", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

            do_GET = _handle
            do_POST = _handle

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FailingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


def wait_until(predicate: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
