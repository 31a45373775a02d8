"""Nothing lost: concurrent builds, readers during swaps, ``kill -9`` of builds and exports.

Every test runs real ``cmq-graph`` processes on a store of its own, built from the curated data.
"""

from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmq_graph import paths
from cmq_graph.store import EmbeddedStore

CLI = [sys.executable, "-m", "cmq_graph.cli"]
ROOT = Path(__file__).resolve().parent.parent
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def env(store: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "CMQ_GRAPH_STORE": str(store)}


def cli(store: Path, *args: str, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args], env=env(store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


def build_cmd(store: Path, *extra: str) -> list[str]:
    return [*CLI, "build", "--data", str(paths.DATA_DIR), "--ontology", str(paths.ONTOLOGY_DIR), *extra]


def quads(store: Path) -> int:
    with EmbeddedStore.open(store) as s:
        return int(s.query(COUNT).rows[0][0])


def generations(store: Path) -> list[str]:
    return sorted(p.name for p in (store / "generations").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A store with one good generation, and its number of quads."""
    store = tmp_path_factory.mktemp("concurrency") / "store"
    subprocess.run(build_cmd(store), env=env(store), check=True, capture_output=True)
    return store, quads(store)


def test_concurrent_builds_leave_one_readable_graph(tmp_path: Path) -> None:
    """3 trials of 3 builds started together: all succeed one after the other, one graph stays."""
    store = tmp_path / "store"
    expected = None
    for _trial in range(3):
        procs = [
            subprocess.Popen(
                build_cmd(store), env=env(store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(3)
        ]
        outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
        assert any("another build" in err and "waiting" in err for _, err in outcomes)
        n = quads(store)
        expected = expected or n
        assert n == expected
        assert generations(store) == [os.readlink(store / "current").split("/")[-1]]


def test_a_build_that_cannot_wait_fails_with_exit_4(built: tuple[Path, int]) -> None:
    store, n = built
    fd = os.open(store / ".build.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        start = time.monotonic()
        done = subprocess.run(build_cmd(store, "--wait", "1"), env=env(store), capture_output=True, text=True)
        assert time.monotonic() - start < 60
    finally:
        os.close(fd)
    assert done.returncode == 4, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("cmq-graph: another build") and "after 1 s" in last
    assert quads(store) == n


API_LOOP = """
import sys, time
from pathlib import Path
from cmq_graph.api import open_store
from cmq_graph.store import EmbeddedStore
root, stop, in_memory = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
n = bad = 0
while not stop.exists():
    n += 1
    try:
        s = open_store(root) if in_memory and n % 2 else EmbeddedStore.open(root)
        assert s.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0].toPython() > 0
        s.close()
    except Exception as exc:
        bad += 1
        print(repr(exc)[:200], file=sys.stderr)
print(n, bad)
"""

BUILD_LOOP = """
import sys
from pathlib import Path
from cmq_graph.build import build
for _ in range(int(sys.argv[4])):
    build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), say=lambda _m: None)
"""


def test_readers_never_fail_during_repeated_builds(tmp_path: Path) -> None:
    """API opens (on disk, in memory) and CLI ``query``/``stats`` in loops while 12 builds swap.

    Before the leases, about 1 open in 700 failed (``Corruption … .sst: No such file``).
    """
    store = tmp_path / "store"
    stop = tmp_path / "stop"
    subprocess.run(build_cmd(store), env=env(store), check=True, capture_output=True)
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", API_LOOP, str(store), str(stop), flag],
            env=env(store),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ("0", "0", "1")
    ]
    builder = subprocess.Popen(
        [sys.executable, "-c", BUILD_LOOP, str(paths.DATA_DIR), str(paths.ONTOLOGY_DIR), str(store), "12"],
        env=env(store),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    failures: list[str] = []
    calls = 0
    try:
        while builder.poll() is None:
            args = ("stats",) if calls % 2 else ("query", "campuses", "--format", "csv")
            done = subprocess.run([*CLI, *args], env=env(store), capture_output=True, text=True)
            calls += 1
            if done.returncode != 0:
                failures.append(done.stderr)
    finally:
        stop.touch()
        builder.wait(timeout=300)
    assert builder.returncode == 0, builder.stderr.read()  # type: ignore[union-attr]
    counts = []
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        opens, bad = (int(x) for x in out.split())
        counts.append(opens)
        assert bad == 0, err
    assert failures == []
    assert calls >= 4 and min(counts) >= 20, (calls, counts)
    assert (
        generations(store) == [os.readlink(store / "current").split("/")[-1]] or len(generations(store)) <= 4
    )


def test_kill_9_of_a_build_leaves_the_previous_graph(built: tuple[Path, int]) -> None:
    """Kill a build at seeded random moments after each stage starts; the old graph stays live."""
    store, n = built
    rng = random.Random(11)
    stages = ["· read ontology", "· map tables and load", "· validate", "· count"]
    for trial, stage in enumerate(stages * 2):
        proc = subprocess.Popen(
            build_cmd(store), env=env(store), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith(stage):
                break
        time.sleep(rng.uniform(0, 0.3) if trial < 4 else rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        # the previous generation, or the new one if the kill came after the swap: whole either way
        assert quads(store) == n
    done = subprocess.run(build_cmd(store), env=env(store), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert quads(store) == n
    leftovers = [p.name for p in (store / "generations").iterdir()]
    live = os.readlink(store / "current").split("/")[-1]
    assert sorted(leftovers) == sorted([live, f"{live}.lease"])


def test_kill_9_of_an_export_leaves_the_old_file_whole(built: tuple[Path, int], tmp_path: Path) -> None:
    store, _ = built
    target = tmp_path / "graph.nt"
    old = b"<urn:x> <urn:y> <urn:z> .\n"
    target.write_bytes(old)
    reference = tmp_path / "reference.nt"
    subprocess.run([*CLI, "export", "--format", "nt", "-o", str(reference)], env=env(store), check=True)
    new = reference.read_bytes()
    assert len(new) > 100_000
    rng = random.Random(5)
    for _ in range(6):
        target.write_bytes(old)
        proc = subprocess.Popen([*CLI, "export", "--format", "nt", "-o", str(target)], env=env(store))
        time.sleep(rng.uniform(0.2, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        content = target.read_bytes()
        assert content in (old, new)
    done = subprocess.run([*CLI, "export", "--format", "nt", "-o", str(target)], env=env(store))
    assert done.returncode == 0 and target.read_bytes() == new


def test_export_to_a_bad_folder_is_one_clear_line(built: tuple[Path, int], tmp_path: Path) -> None:
    store, _ = built
    done = subprocess.run(
        [*CLI, "export", "-o", str(tmp_path / "missing" / "graph.ttl")],
        env=env(store),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 4
    # The OS's reason and the user's own path (tests/test_errors_cli.py), on one line.
    assert done.stderr.startswith("cmq-graph: ") and "missing/graph.ttl" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_open_store_keeps_its_generation_and_knows_it_is_stale(tmp_path: Path) -> None:
    """A reader holding a store across a build still reads its graph; the build left it on disk."""
    store = tmp_path / "store"
    subprocess.run(build_cmd(store), env=env(store), check=True, capture_output=True)
    with EmbeddedStore.open(store) as old:
        assert not old.stale(store)
        subprocess.run(build_cmd(store), env=env(store), check=True, capture_output=True)
        assert old.stale(store)
        assert old.location is not None and old.location.is_dir()
        assert int(old.query(COUNT).rows[0][0]) > 0
    subprocess.run(build_cmd(store), env=env(store), check=True, capture_output=True)
    assert len(generations(store)) == 1
