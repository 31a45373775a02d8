"""Works once installed: the wheel, installed (not editable) into a fresh venv, runs from any folder.

The wheel is built from a copy of the source tree (so the checkout is left untouched), installed
with ``--no-deps`` into ``python -m venv``; its dependencies come from the running interpreter's
site-packages, appended after the fresh venv's own (a ``.pth`` line), so the code and the shipped
data are those of the wheel while no package is downloaded. Every command then runs from an empty
temporary folder with no ``PYTHONPATH``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from cmq_graph import paths

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "README.md", "cmq_graph", "data", "ontology", "queries")


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        origin = paths.PROJECT_ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(origin, src / name)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    wheels = base / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)], base, env, 600
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = wheels.glob("cmq_graph-*.whl")
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], base, env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base, env)
        .stdout.strip()
    )
    # The dependencies, after the venv's own site-packages: cmq_graph itself comes from the wheel.
    (site / "zz_shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], base, env)
    assert pip.returncode == 0, pip.stderr
    home = base / "home"
    home.mkdir()
    work = base / "elsewhere"
    work.mkdir()
    env |= {"HOME": str(home), "CMQ_GRAPH_STORE": str(base / "store"), "XDG_DATA_HOME": str(home)}
    for var in (paths.ENV_DATA, paths.ENV_ONTOLOGY, paths.ENV_QUERIES):
        env.pop(var, None)
    return {"wheel": wheel, "venv": venv, "site": site, "work": work, "env": env, "base": base}


def cli(installed: dict, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    exe = installed["venv"] / "bin" / "cmq-graph"
    return _run([str(exe), *args], installed["work"], env or installed["env"])


def test_the_wheel_ships_every_input_as_files_not_links(installed: dict) -> None:
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for folder, pattern in (("data", "*.csv"), ("ontology", "*.ttl"), ("queries", "*.rq")):
        for f in (paths.PROJECT_ROOT / folder).glob(pattern):
            assert f"cmq_graph/share/{folder}/{f.name}" in names
    vocabularies = sorted((paths.PROJECT_ROOT / "ontology" / "vocabularies").glob("*.ttl"))
    assert vocabularies
    for f in vocabularies:
        assert f"cmq_graph/share/ontology/vocabularies/{f.name}" in names
    shipped = installed["site"] / "cmq_graph" / "share"
    assert not any(p.is_symlink() for p in shipped.rglob("*"))
    assert (shipped / "data" / "campuses.csv").read_bytes() == (
        paths.PROJECT_ROOT / "data" / "campuses.csv"
    ).read_bytes()


def test_installed_code_is_the_wheel(installed: dict) -> None:
    python = installed["venv"] / "bin" / "python"
    out = _run(
        [str(python), "-c", "import cmq_graph.paths as p; print(p.__file__); print(p.DATA_DIR)"],
        installed["work"],
        installed["env"],
    )
    assert out.returncode == 0, out.stderr
    module, data = out.stdout.split()
    assert module.startswith(str(installed["site"]))
    assert data == str(installed["site"] / "cmq_graph" / "share" / "data")


def test_main_commands_from_another_folder(installed: dict) -> None:
    done = cli(installed, "validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: ")
    done = cli(installed, "build")
    assert done.returncode == 0, done.stderr
    assert "Built " in done.stdout
    assert (installed["base"] / "store").is_dir()

    listed = cli(installed, "queries")
    assert listed.returncode == 0, listed.stderr
    shipped = sorted(p.stem for p in (paths.PROJECT_ROOT / "queries").glob("*.rq"))
    assert [line for line in listed.stdout.splitlines() if not line.startswith(" ")] == shipped
    checked = cli(installed, "queries", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    ran = cli(installed, "query", "campuses", "--format", "json")
    assert ran.returncode == 0, ran.stderr
    campuses = json.loads(ran.stdout)["results"]["bindings"]
    with (paths.PROJECT_ROOT / "data" / "campuses.csv").open(encoding="utf-8") as f:
        ids = {line.split(",", 1)[0] for line in f.read().splitlines()[1:] if line.strip()}
    assert len({row["campus"]["value"] for row in campuses}) == len(ids)

    out = installed["work"] / "overview.html"
    drawn = cli(installed, "map", "overview", "-o", str(out))
    assert drawn.returncode == 0, drawn.stderr
    assert out.stat().st_size > 10_000
    assert "<html" in out.read_text(encoding="utf-8").lower()

    net = cli(installed, "network", "--format", "json")
    assert net.returncode == 0, net.stderr
    assert json.loads(net.stdout)

    ttl = installed["work"] / "graph.ttl"
    exported = cli(installed, "export", "--format", "ttl", "-o", str(ttl))
    assert exported.returncode == 0, exported.stderr
    assert "Campus" in ttl.read_text(encoding="utf-8")
    # Nothing was written beside the code: the store lives where $CMQ_GRAPH_STORE says.
    assert not any((installed["site"] / "cmq_graph").rglob("*.sst"))


def test_a_users_own_inputs_by_option_and_environment(installed: dict) -> None:
    # Self-contained: under xdist this test may run on a worker where no other test built the store.
    built = cli(installed, "build")
    assert built.returncode == 0, built.stderr
    mine = installed["base"] / "mine"
    (mine / "queries").mkdir(parents=True)
    (mine / "queries" / "count-campuses.rq").write_text(
        "# title: Nombre de campus\n"
        "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a cmq:Campus }\n",
        encoding="utf-8",
    )
    for args, env in (
        (["--queries", str(mine / "queries")], None),
        ([], installed["env"] | {paths.ENV_QUERIES: str(mine / "queries")}),
    ):
        listed = cli(installed, "queries", *args, env=env)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.splitlines()[0] == "count-campuses"
        assert "campuses" not in listed.stdout.split()
        ran = cli(installed, "query", "count-campuses", "--format", "csv", *args, env=env)
        assert ran.returncode == 0, ran.stderr
        assert int(ran.stdout.splitlines()[1]) > 0

    # A user's own tables: the shipped ones with the first campus renamed; the graph built from
    # them (option or variable) has the new name, the shipped graph does not.
    data = mine / "data"
    shutil.copytree(installed["site"] / "cmq_graph" / "share" / "data", data)
    with (data / "campuses.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    renamed = "Campus renommé par l'utilisatrice"
    for row in rows:
        if row["id"] == rows[0]["id"] and row["name_fr"]:
            row["name_fr"] = renamed
    with (data / "campuses.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for n, (args, env) in enumerate(
        (
            (["--data", str(data)], installed["env"]),
            ([], installed["env"] | {paths.ENV_DATA: str(data)}),
        )
    ):
        store = str(mine / f"store{n}")
        built = cli(installed, "build", *args, "--store", store, env=env)
        assert built.returncode == 0, built.stderr
        out = installed["work"] / f"mine{n}.nt"
        exported = cli(installed, "export", "--format", "nt", "--store", store, "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        assert renamed in out.read_text(encoding="utf-8")
    shipped = installed["work"] / "shipped.nt"
    assert cli(installed, "build").returncode == 0
    assert cli(installed, "export", "--format", "nt", "-o", str(shipped)).returncode == 0
    assert renamed not in shipped.read_text(encoding="utf-8")


@pytest.mark.parametrize("where", ["empty", "missing"])
def test_an_empty_or_missing_catalogue_is_an_error(installed: dict, where: str) -> None:
    folder = installed["base"] / f"catalogue-{where}"
    if where == "empty":
        folder.mkdir(exist_ok=True)
    for args, env in (
        (["--queries", str(folder)], None),
        ([], installed["env"] | {paths.ENV_QUERIES: str(folder)}),
    ):
        for command in (["queries"], ["queries", "--check"], ["query", "campuses"]):
            done = cli(installed, *command, *args, env=env)
            assert done.returncode != 0, (command, done.stdout)
            assert "OK" not in done.stdout
            assert str(folder) in done.stderr and "Traceback" not in done.stderr
            assert len(done.stderr.strip().splitlines()) == 1


def test_missing_data_folder_is_a_clear_error(installed: dict) -> None:
    missing = installed["base"] / "no-such-data"
    for args, env in (
        (["--data", str(missing)], None),
        ([], installed["env"] | {paths.ENV_DATA: str(missing)}),
    ):
        done = cli(installed, "validate", *args, env=env)
        assert done.returncode != 0
        assert "Traceback" not in done.stderr and str(missing) in done.stderr
