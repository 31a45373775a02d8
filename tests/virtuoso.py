"""A throwaway Virtuoso server for the tests: own config, own database, loopback ports.

The tests must not depend on (or disturb) a Virtuoso the machine may already run, so each session
starts ``virtuoso-t`` in the foreground from an ini of its own in a temporary directory: database,
logs and ``DirsAllowed`` in that directory, the SQL and HTTP ports on 127.0.0.1 (free ports chosen
here), ``ResultSetMaxRows`` raised (its default of 10,000 silently truncates results) and a bounded
``MaxQueryExecutionTime``. It is stopped with ``isql-vt ... shutdown`` and killed if that fails.

Usable from the tests (``tests/conftest_virtuoso.py``) and by hand::

    python tests/virtuoso.py        # starts one, prints its endpoint, stops on Enter
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SYSTEM_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
VAD_DIR = "/usr/share/virtuoso-opensource-7/vad"
VSP_DIR = "/var/lib/virtuoso-opensource-7/vsp"
DBA = ("dba", "dba")

# What the tests need to differ from the packaged ini; anything else is left as Debian ships it.
_INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {dir}/virtuoso-temp.db
TransactionFile    = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:{sql_port}
LiteMode                 = 0
DisableUnixSocket        = 1
DisableTcpSocket         = 0
MaxClientConnections     = 10
CheckpointInterval       = 60
O_DIRECT                 = 0
CaseMode                 = 2
MaxStaticCursorRows      = 5000
CheckpointAuditTrail     = 0
AllowOSCalls             = 0
SchedulerInterval        = 10
DirsAllowed              = ., {dir}, {vad}
ThreadCleanupInterval    = 0
ThreadThreshold          = 10
ResourcesCleanupInterval = 0
FreeTextBatchSize        = 100000
SingleCPU                = 0
VADInstallDir            = {vad}/
PrefixResultNames        = 0
RdfFreeTextRulesSize     = 100
IndexTreeMaps            = 64
MaxQueryMem              = 256M
VectorSize               = 1000
MaxVectorSize            = 1000000
AdjustVectorSize         = 0
ThreadsPerQuery          = 2
AsyncQueueMaxThreads     = 10
NumberOfBuffers          = 10000
MaxDirtyBuffers          = 6000

[HTTPServer]
ServerPort                  = 127.0.0.1:{http_port}
ServerRoot                  = {vsp}
MaxClientConnections        = 10
DavRoot                     = DAV
EnabledDavVSP               = 0
HTTPProxyEnabled            = 0
TempASPXDir                 = 0
ServerThreads               = 10
MaxKeepAlives               = 10
KeepAliveTimeout            = 10
HTTPThreadSize              = 280000
HttpPrintWarningsInOutput   = 0
Charset                     = UTF-8
EnabledGzipContent          = 0

[AutoRepair]
BadParentLinks = 0

[Client]
SQL_PREFETCH_ROWS  = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT  = 0
SQL_TXN_TIMEOUT    = 0

[SPARQL]
ResultSetMaxRows           = {max_rows}
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime      = {max_seconds}
DefaultQuery               = ASK {{ ?s ?p ?o }}
DeferInferenceRulesInit    = 0
"""


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM the server if the test process dies.

    A test run killed outright (timeout, Ctrl-C twice, OOM) runs no fixture finaliser; without
    this its Virtuoso would outlive it, holding ports and memory.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the OS picks it; a race is possible, hence retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Virtuoso:
    """A running test server: where to reach it and how to stop it."""

    directory: Path
    sql_port: int
    http_port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql(self) -> str:
        """Anonymous, read-only query endpoint."""
        return f"{self.base}/sparql"

    @property
    def sparql_auth(self) -> str:
        """Query + update endpoint behind HTTP digest authentication (dba/dba)."""
        return f"{self.base}/sparql-auth"

    @property
    def graph_crud_auth(self) -> str:
        return f"{self.base}/sparql-graph-crud-auth"

    def log_tail(self, lines: int = 30) -> str:
        log = self.directory / "virtuoso.log"
        if not log.exists():
            return "(no log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def isql(self, sql: str, *, timeout: float = 60) -> str:
        """Run SQL through ``isql-vt`` (for test set-up only: never with untrusted text)."""
        done = subprocess.run(
            ["isql-vt", f"127.0.0.1:{self.sql_port}", *DBA, f"exec={sql}"],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        out = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
        if done.returncode != 0 or "*** Error" in out:
            raise RuntimeError(f"isql failed on {sql!r}: {out}")
        return out

    def kill(self) -> None:
        """``kill -9`` the server (no checkpoint, no clean exit): what a power cut does."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Shut down cleanly (checkpoint and exit), else terminate, else kill; bounded in time."""
        if self.process.poll() is None:
            with contextlib.suppress(Exception):
                self.isql("shutdown;", timeout=30)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=10)


def _ready(url: str) -> bool:
    query = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    try:
        with urllib.request.urlopen(f"{url}?{query}", timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def start(
    directory: Path,
    *,
    program: str = "virtuoso-t",
    max_rows: int = 1_000_000,
    max_seconds: int = 120,
    ready_timeout: float = 120,
    attempts: int = 3,
) -> Virtuoso:
    """Start a server with its database in ``directory`` and wait until its endpoint answers.

    Ports are chosen free just before the start; if another process takes one in between the
    server exits early and the start is retried with new ports (``attempts`` times at most).
    """
    last_error = ""
    for attempt in range(attempts):
        run_dir = directory / f"run{attempt}"
        run_dir.mkdir(parents=True, exist_ok=True)
        sql_port, http_port = free_port(), free_port()
        while http_port == sql_port:
            http_port = free_port()
        ini = run_dir / "virtuoso.ini"
        ini.write_text(
            _INI.format(
                dir=run_dir,
                sql_port=sql_port,
                http_port=http_port,
                vad=VAD_DIR,
                vsp=VSP_DIR,
                max_rows=max_rows,
                max_seconds=max_seconds,
            )
        )
        out = open(run_dir / "stdout.log", "wb")  # noqa: SIM115 - lives as long as the server
        process = subprocess.Popen(
            [program, "-f", "-c", str(ini)],
            cwd=run_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        server = Virtuoso(run_dir, sql_port, http_port, process)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline and process.poll() is None:
            if _ready(server.sparql):
                return server
            time.sleep(0.5)
        last_error = f"exit code {process.poll()}; log:\n{server.log_tail()}"
        server.stop()
        out.close()
    raise RuntimeError(f"Virtuoso did not start after {attempts} attempts: {last_error}")


def restart(server: Virtuoso, *, ready_timeout: float = 180) -> Virtuoso:
    """Start again on the same database, ini and ports (after :meth:`Virtuoso.kill` or stop).

    After a crash the server replays its transaction log before it answers: what it then holds is
    what survived.
    """
    if server.process.poll() is None:
        raise RuntimeError("the server is still running")
    out = open(server.directory / "stdout.log", "ab")  # noqa: SIM115 - lives as long as the server
    deadline = time.monotonic() + ready_timeout
    while True:  # the ports may linger a moment after a kill
        process = subprocess.Popen(
            [server.process.args[0], "-f", "-c", str(server.directory / "virtuoso.ini")],
            cwd=server.directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        again = Virtuoso(server.directory, server.sql_port, server.http_port, process)
        while time.monotonic() < deadline and process.poll() is None:
            if _ready(again.sparql):
                return again
            time.sleep(0.5)
        if time.monotonic() >= deadline:
            again.stop()
            raise RuntimeError(f"Virtuoso did not restart; log:\n{again.log_tail()}")
        time.sleep(1)


@contextlib.contextmanager
def running(directory: Path, **kwargs: object) -> Iterator[Virtuoso]:
    server = start(directory, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, running(Path(tmp)) as v:
        print(f"Virtuoso at {v.sparql} (SQL port {v.sql_port}); press Enter to stop")
        input()
