"""Queries that can be stopped: a child process holds the store and answers; to stop a query,
the parent kills it (and starts another at the next query).

pyoxigraph cannot cancel a running query from Python, nor does it see Ctrl-C: a query in a
thread keeps its core busy after its caller gave up. A process can be killed, and the kernel
frees its core at once. The worker is persistent (started at the first query, kept for the
next ones), so a small query pays a round trip through a pipe, not a process start; answers
travel as SPARQL TSV (SELECT) or N-Triples (CONSTRUCT, DESCRIBE), written and read by Oxigraph's
own Rust code on both sides.

This module is also the worker's program (``python -m cmq_graph.query_worker``); it imports
nothing of the project at its top, so the worker starts quickly.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

DEFAULT_TIMEOUT = 60.0  # seconds an embedded query may run when the caller gives no timeout
STARTUP_TIMEOUT = 300.0  # seconds the worker may take to open (and copy) the store


# The worker runs this very interpreter. On Linux exec it through /proc/self/exe (argv[0] stays
# sys.executable, so a venv is still found): the path sys.executable names may be unreachable for
# the current user, e.g. a venv linking into /root run as nobody by setpriv.
_SELF_EXE: str | None = "/proc/self/exe" if os.path.exists("/proc/self/exe") else None


class WorkerError(Exception):
    """The worker could not start or died; ``message`` says why."""


class QueryWorker:
    """The parent's handle on one worker process reading ``generation``.

    :meth:`run` sends a query and waits for the answer at most ``timeout`` seconds; at the
    deadline, or on any exception while waiting (Ctrl-C's ``KeyboardInterrupt``, a notebook's
    interrupt), the worker is killed with SIGKILL, so the query stops using CPU at once. One
    query at a time per worker: concurrent callers wait their turn (a lock).
    """

    def __init__(self, generation: Path, *, in_memory: bool, union: bool, prefixes: dict[str, str]):
        self.generation = generation
        self.in_memory = in_memory
        self.union = union
        self.prefixes = prefixes
        self._proc: subprocess.Popen[bytes] | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._lock = threading.Lock()
        self._ready = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self) -> None:
        """Start the worker without waiting for it to open the store (the first query waits):
        the caller's own work overlaps the worker's start."""
        with self._lock:
            if self.pid is None:
                self._spawn()

    def _spawn(self) -> None:
        package_parent = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "cmq_graph.query_worker", str(self.generation)],
            executable=_SELF_EXE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        self._send = Connection(os.dup(proc.stdin.fileno()), readable=False)
        self._recv = Connection(os.dup(proc.stdout.fileno()), writable=False)
        proc.stdin.close()
        proc.stdout.close()
        self._proc = proc
        self._ready = False
        self._send.send((self.in_memory, self.prefixes))

    def _started(self) -> None:
        """A worker that has opened the store (spawned if need be, else waited for)."""
        if self.pid is None:
            self._spawn()
        if not self._ready:
            kind, payload = self._wait(STARTUP_TIMEOUT, "opening the store")
            if kind != "ready":
                self.stop()
                raise WorkerError(f"cannot open the store at {self.generation}: {payload}")
            self._ready = True

    def _wait(self, timeout: float, what: str) -> tuple[str, Any]:
        assert self._recv is not None and self._proc is not None
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(what)
                # Short polls: a dead worker is noticed, and a signal handler runs, within 0.1 s.
                if self._recv.poll(min(left, 0.1)):
                    return self._recv.recv()
                if self._proc.poll() is not None:
                    raise WorkerError(f"the query worker died ({_death(self._proc.returncode)}) while {what}")
        except EOFError:
            code = self._proc.wait()
            raise WorkerError(f"the query worker died ({_death(code)}) while {what}") from None
        except BaseException:
            self.stop()
            raise

    def run(self, request: tuple, timeout: float) -> tuple[str, Any]:
        """Send ``request`` (sparql, substitutions) and return the worker's reply.

        Raises TimeoutError at the deadline (the worker is killed), WorkerError if it dies.
        """
        with self._lock:
            self._started()
            assert self._send is not None
            try:
                self._send.send((*request, self.union))
            except (BrokenPipeError, OSError):
                self.stop()
                raise WorkerError("the query worker is gone") from None
            return self._wait(timeout, "running the query")

    def stop(self) -> None:
        """Kill the worker (SIGKILL: its query stops at once) and reap it."""
        proc, self._proc = self._proc, None
        for conn in (self._send, self._recv):
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.close()
        self._send = self._recv = None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit {code}"


# -- the worker's side ----------------------------------------------------------------------


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


def _lease(generation: Path) -> int | None:
    """A shared lock on the generation's lease file, held for the worker's life (see store.py)."""
    path = generation.parent / f"{generation.name}.lease"
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        try:
            fd = os.open(path, flags | os.O_CLOEXEC, 0o666)
        except OSError:
            continue
        fcntl.flock(fd, fcntl.LOCK_SH)
        return fd
    return None


def _answer(store: ox.Store, request: tuple, prefixes: dict[str, str]) -> tuple[str, Any]:
    sparql, substitutions, union = request
    try:
        answer = store.query(
            sparql,
            use_default_graph_as_union=union,
            substitutions=substitutions or None,
            prefixes=prefixes,
        )
        if isinstance(answer, ox.QueryBoolean):
            return "ask", bool(answer)
        if isinstance(answer, ox.QuerySolutions):
            return "select", answer.serialize(format=ox.QueryResultsFormat.TSV)
        return "graph", answer.serialize(format=ox.RdfFormat.N_TRIPLES)
    except SyntaxError as exc:
        return "syntax", str(exc)
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        return "failed", str(exc)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides: it kills us
    _die_with_parent()
    requests = Connection(os.dup(0), writable=False)
    replies = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # nothing printed by accident may corrupt the replies
    generation = Path(sys.argv[1])
    try:
        in_memory, prefixes = requests.recv()
    except EOFError:
        return
    _lease(generation)
    try:
        if not generation.is_dir():
            raise OSError(f"{generation} is gone")
        store = ox.Store.read_only(str(generation))
        if in_memory:
            memory = ox.Store()
            memory.bulk_extend(store.quads_for_pattern(None, None, None, None))
            store = memory
    except (OSError, RuntimeError) as exc:
        replies.send(("error", str(exc)))
        return
    replies.send(("ready", None))
    while True:
        try:
            request = requests.recv()
        except EOFError:
            return
        replies.send(_answer(store, request, prefixes))


if __name__ == "__main__":
    main()
