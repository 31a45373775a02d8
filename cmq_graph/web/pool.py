"""The service's own pool of killable query workers.

Each worker is a process (``worker.main``) holding the store open read-only; the server hands
it one job at a time over a pipe and waits on the event loop, not on a thread. A query still
running at its time limit has its process killed (SIGKILL: the CPU is free at once) and a new
worker takes its place; Oxigraph offers no other way to stop a query.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import pickle
import signal
import struct
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path

from . import worker
from .worker import Answer, Job


def _context() -> mp.context.BaseContext:
    # forkserver: a fresh worker is a fork of a small server that has imported pyoxigraph, ready
    # in milliseconds, and never a fork of the threaded web server.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["cmq_graph.web.worker"])
    return ctx


class _Slot:
    """One worker process and its pipe."""

    def __init__(self, ctx: mp.context.BaseContext, root: Path, prefixes: Mapping[str, str]):
        self._ctx, self._root, self._prefixes = ctx, root, dict(prefixes)
        self.proc: mp.process.BaseProcess
        self.conn: Connection
        self.start()

    def start(self) -> None:
        parent, child = self._ctx.Pipe()
        self.proc = self._ctx.Process(
            target=worker.main, args=(child, str(self._root), self._prefixes),
            name="cmq-graph-query", daemon=True,
        )
        self.proc.start()
        child.close()
        self.conn = parent

    def kill(self) -> None:
        if self.proc.pid is not None and self.proc.is_alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.conn.close()
        self.proc.join(timeout=5)

    def restart(self) -> None:
        self.kill()
        self.start()


class _Message:
    """One answer read from a worker's pipe as it arrives, without blocking the event loop.

    ``Connection.recv`` reads a whole message and fails with BlockingIOError on a descriptor the
    event loop has made non-blocking as soon as the answer is larger than what the pipe holds;
    this reads the same framing (``multiprocessing.connection``: a signed 32-bit big-endian
    length, or -1 and a 64-bit length, then the pickle) in as many pieces as it comes in.
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.size: int | None = None
        self.start = 0

    def read(self, fd: int) -> Answer | None:
        """Read what the pipe holds; the Answer once the message is whole, else None."""
        try:
            chunk = os.read(fd, max(65536, (self.size or 0) + self.start - len(self.buf)))
        except BlockingIOError:
            return None
        if not chunk:
            raise EOFError("the worker closed its pipe")
        self.buf += chunk
        if self.size is None:
            if len(self.buf) < 4:
                return None
            (size,) = struct.unpack("!i", self.buf[:4])
            if size == -1:
                if len(self.buf) < 12:
                    return None
                (size,) = struct.unpack("!Q", self.buf[4:12])
                self.start = 12
            else:
                self.start = 4
            self.size = size
        if len(self.buf) < self.start + self.size:
            return None
        return pickle.loads(memoryview(self.buf)[self.start:self.start + self.size])


class QueryPool:
    """``size`` workers over the store at ``root``; ``run`` is awaited on the server's loop."""

    def __init__(self, root: Path, prefixes: Mapping[str, str], *, size: int = 2,
                 queue_timeout: float = 30.0):
        self.root, self.prefixes, self.size = root, prefixes, size
        self.queue_timeout = queue_timeout
        self._slots: list[_Slot] = []
        self._free: asyncio.Queue[_Slot] | None = None
        self.restarts = 0

    async def start(self) -> None:
        ctx = _context()
        self._slots = [_Slot(ctx, self.root, self.prefixes) for _ in range(self.size)]
        self._free = asyncio.Queue()
        for slot in self._slots:
            self._free.put_nowait(slot)

    async def close(self) -> None:
        for slot in self._slots:
            slot.kill()
        self._slots = []

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self._slots if s.proc.pid is not None]

    async def run(self, job: Job, timeout: float) -> Answer:
        """Run ``job`` on the first free worker; stop it at ``timeout`` seconds of running."""
        assert self._free is not None, "QueryPool.start() first"
        try:
            slot = await asyncio.wait_for(self._free.get(), self.queue_timeout)
        except TimeoutError:
            return Answer(503, error=f"the service is busy: no worker free within {self.queue_timeout} s")
        try:
            return await self._on(slot, job, timeout)
        finally:
            self._free.put_nowait(slot)

    async def _on(self, slot: _Slot, job: Job, timeout: float) -> Answer:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Answer] = loop.create_future()
        fd = slot.conn.fileno()
        message = _Message()

        def ready() -> None:
            if done.done():
                loop.remove_reader(fd)
                return
            try:
                answer = message.read(fd)
            except (EOFError, OSError) as exc:
                loop.remove_reader(fd)
                done.set_exception(exc)
                return
            if answer is not None:
                loop.remove_reader(fd)
                done.set_result(answer)

        try:
            # The event loop may have left the descriptor non-blocking (Granian's loop does, in
            # add_reader): the job is sent whole to the idle worker, which is waiting for it.
            os.set_blocking(fd, True)
            slot.conn.send(job)
        except OSError:
            self._restart(slot)
            return Answer(503, error="the query worker was restarting; try again")
        loop.add_reader(fd, ready)
        try:
            return await asyncio.wait_for(done, timeout)
        except TimeoutError:
            loop.remove_reader(fd)
            self._restart(slot)
            return Answer(503, error=f"query stopped at its time limit ({timeout:g} s)")
        except (EOFError, OSError):
            self._restart(slot)
            return Answer(500, error="the query worker died during the query")
        except asyncio.CancelledError:
            loop.remove_reader(fd)
            self._restart(slot)
            raise

    def _restart(self, slot: _Slot) -> None:
        started = time.monotonic()
        slot.restart()
        self.restarts += 1
        self.last_restart_s = time.monotonic() - started
