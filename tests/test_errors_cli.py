"""Every failure is one clear line and a documented exit code, never a traceback.

Shapes the compiler does not know, broken counts, a store that is a file, read-only, corrupt or
on a full disk, unreadable tables, an export to a bad path, a closed pipe: each is run through
the real CLI (in-process for the shapes, in real processes where the operating system is the
point: other users, mounts, pipes), and the live graph is compared before and after.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runs import DOCUMENTED_EXITS, NOBODY, ROOT, build_args, cli, live_digest, open_project
from conftest import IN_CI, require_program

from cmq_graph import cli as cli_module
from cmq_graph.build import build
from cmq_graph.cli import main

PREFIXES = """
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
"""
PROP = "t:Bad a sh:NodeShape ; sh:targetClass cmq:Campus ; sh:property [ sh:path rdfs:label ; {} ] ."
NODE = "t:Bad a sh:NodeShape ; sh:targetClass cmq:Campus ; {} ."
# SHACL Core constructs the compiler does not translate, and ill-formed uses of those it does.
SHAPES = {
    "xone": NODE.format("sh:xone ( [ sh:datatype xsd:string ] )"),
    "closed": NODE.format("sh:closed true ; sh:ignoredProperties ( rdf:type )"),
    "uniqueLang": PROP.format("sh:uniqueLang true"),
    "equals": PROP.format("sh:equals rdfs:comment"),
    "lessThan": PROP.format("sh:lessThan rdfs:comment"),
    "lessThanOrEquals": PROP.format("sh:lessThanOrEquals rdfs:comment"),
    "targetNode": "t:Bad a sh:NodeShape ; sh:targetNode t:x ; sh:nodeKind sh:IRI .",
    "targetSubjectsOf": "t:Bad a sh:NodeShape ; sh:targetSubjectsOf rdfs:label ; sh:nodeKind sh:IRI .",
    "targetObjectsOf": "t:Bad a sh:NodeShape ; sh:targetObjectsOf rdfs:label ; sh:nodeKind sh:IRI .",
    "implicit class target": "t:Bad a sh:NodeShape, rdfs:Class ; sh:targetClass cmq:Campus .",
    "sequencePath": NODE.format("sh:property [ sh:path ( rdfs:label rdfs:comment ) ; sh:minCount 1 ]"),
    "inversePath": NODE.format("sh:property [ sh:path [ sh:inversePath rdfs:label ] ; sh:minCount 1 ]"),
    "alternativePath": NODE.format(
        "sh:property [ sh:path [ sh:alternativePath ( rdfs:label rdfs:comment ) ] ; sh:minCount 1 ]"
    ),
    "zeroOrMorePath": NODE.format("sh:property [ sh:path [ sh:zeroOrMorePath rdfs:label ] ; sh:minCount 1 ]"),
    "qualifiedValueShapesDisjoint": PROP.format(
        "sh:qualifiedValueShape [ sh:datatype xsd:string ] ; sh:qualifiedMinCount 1 ; "
        "sh:qualifiedValueShapesDisjoint true"
    ),
    "sparql pre-bound $PATH": NODE.format('sh:sparql [ sh:select "SELECT $this WHERE { $this $PATH ?o }" ]'),
    "sparql syntax error": NODE.format('sh:sparql [ sh:select "SELECT $this WHERE { $this ?? }" ]'),
    "unknown nodeKind": NODE.format("sh:nodeKind sh:Nothing"),
    "non-numeric minCount": PROP.format('sh:minCount "deux"'),
    "Unicode-digit minCount": PROP.format('sh:minCount "\u0662"'),
    "negative maxCount": PROP.format("sh:maxCount -1"),
    "decimal minLength": PROP.format("sh:minLength 1.5"),
    "cyclic sh:in list": PROP.format("sh:in t:loop") + ' t:loop rdf:first "a" ; rdf:rest t:loop .',
    "recursive sh:node": "t:Bad a sh:NodeShape ; sh:targetClass cmq:Campus ; sh:or ( t:R ) . "
    "t:R sh:node t:R .",
}


@pytest.fixture
def project() -> Iterator[Path]:
    """The mini project and its built store, in a folder other users can traverse (not tmp_path)."""
    base = Path(tempfile.mkdtemp(prefix="cmq-errors-"))
    base.chmod(0o755)
    root = open_project(base / "p")
    build(root / "data", root / "ontology", root / "store", say=lambda _m: None)
    yield root
    shutil.rmtree(base, ignore_errors=True)


def _last_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_a_shape_the_compiler_cannot_run_is_one_line_exit_2(project: Path, case: str, capsys) -> None:
    before = live_digest(project / "store")
    with (project / "ontology/shapes.ttl").open("a", encoding="utf-8") as fh:
        fh.write(PREFIXES + SHAPES[case] + "\n")
    for args in (
        build_args(project),
        ["validate", "--data", str(project / "data"), "--ontology", str(project / "ontology")],
    ):
        assert main(args) == 2, case
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert _last_line(err).startswith("cmq-graph: shapes.ttl: "), err
    assert live_digest(project / "store") == before


@pytest.mark.parametrize("text", ["", "# nothing here\n", "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"])
def test_an_emptied_shapes_file_does_not_turn_validation_off(project: Path, text: str, capsys) -> None:
    before = live_digest(project / "store")
    (project / "ontology/shapes.ttl").write_text(text, encoding="utf-8")
    assert main(build_args(project)) == 2
    assert "validation would check nothing" in _last_line(capsys.readouterr().err)
    assert live_digest(project / "store") == before


def test_every_shape_deactivated_is_refused_too(project: Path, capsys) -> None:
    path = project / "ontology/shapes.ttl"
    text = path.read_text(encoding="utf-8").replace(
        'sh:name "campus" ;', 'sh:name "campus" ; sh:deactivated true ;'
    )
    text = text.replace('sh:name "adhésion" ;', 'sh:name "adhésion" ; sh:deactivated true ;')
    path.write_text(text, encoding="utf-8")
    assert main(build_args(project)) == 2
    assert "validation would check nothing" in capsys.readouterr().err


def test_store_path_that_is_a_file(project: Path) -> None:
    (project / "afile").write_text("x")
    run = cli(build_args(project, project / "afile"))
    assert run.code == 4 and "Traceback" not in run.err
    assert _last_line(run.err).startswith(f"cmq-graph: Not a directory: {project / 'afile'}")
    run = cli(["stats", "--store", str(project / "afile")])
    assert run.code == 4 and "run `cmq-graph build` first" in run.err


def test_read_only_store_and_unreadable_table_as_another_user(project: Path) -> None:
    require_program("setpriv")
    before = live_digest(project / "store")
    # The store belongs to root: nobody can read it but not write a generation into it.
    run = cli(build_args(project), user=NOBODY)
    assert run.code == 4, run.err
    assert "Traceback" not in run.err
    last = _last_line(run.err)
    assert last.startswith("cmq-graph: ") and f"{project / 'store'}" in last and "Permission denied" in last
    assert live_digest(project / "store") == before
    # A store nobody owns, and a table only root can read: an input error naming the file.
    own = project / "own-store"
    own.mkdir()
    os.chown(own, NOBODY, NOBODY)
    (project / "data/campuses.csv").chmod(0o600)
    run = cli(build_args(project, own), user=NOBODY)
    assert run.code == 2, run.err
    assert f"{project / 'data/campuses.csv'}: cannot read it: permission denied" in run.err
    assert "Traceback" not in run.err
    # Reading the root-owned store as nobody works (read-only open), so stats answers.
    assert cli(["stats", "--store", str(project / "store")], user=NOBODY).code == 0


def test_disk_full_leaves_the_graph_and_says_so(project: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0 or not shutil.which("mount"):
        if IN_CI:
            pytest.fail("the disk-full test mounts a tmpfs: run it as root")
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=True)
    try:
        store = mnt / "store"
        shutil.copytree(project / "store", store, symlinks=True)
        before = live_digest(store)
        # Fill the disk but 100 KiB: a generation of the mini graph takes about 500 KiB.
        fs = os.statvfs(mnt)
        (mnt / "filler").write_bytes(b"\0" * (fs.f_bavail * fs.f_frsize - 100 * 1024))
        run = cli(build_args(project, store))
        assert run.code == 4, run.err
        assert "No space left on device" in _last_line(run.err) and "Traceback" not in run.err
        assert live_digest(store) == before
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def _corrupt(gen: Path, how: str) -> None:
    if how == "garbage tables":
        for sst in gen.glob("*.sst"):
            sst.write_bytes(b"garbage")
    elif how == "truncated manifest":
        for manifest in gen.glob("MANIFEST-*"):
            manifest.write_bytes(manifest.read_bytes()[:10])
    elif how == "garbage CURRENT":
        (gen / "CURRENT").write_text("garbage\n")
    elif how == "emptied generation":
        for path in gen.iterdir():
            path.unlink()


@pytest.mark.parametrize(
    "how", ["garbage tables", "truncated manifest", "garbage CURRENT", "emptied generation"]
)
def test_corrupt_store_is_a_store_error(project: Path, how: str) -> None:
    gen = (project / "store/current").resolve()
    _corrupt(gen, how)
    for args in (["stats", "--store", str(project / "store")], ["export", "--store", str(project / "store")]):
        run = cli(args)
        assert run.code == 4, run.err
        assert "Traceback" not in run.err
        last = _last_line(run.err)
        assert last.startswith("cmq-graph: ") and str(project / "store") in last, last
        assert ("Corruption" in last) == (how != "emptied generation")


@pytest.mark.parametrize(
    ("target", "words"),
    [("missing/x.ttl", "No such file or directory"), (".", "Is a directory")],
)
def test_export_to_a_bad_path(project: Path, target: str, words: str) -> None:
    run = cli(["export", "--store", str(project / "store"), "-o", str(project / target)])
    assert run.code == 4 and "Traceback" not in run.err
    assert _last_line(run.err) == f"cmq-graph: {words}: {project / target}"


def test_build_into_a_closed_pipe_is_not_success(project: Path) -> None:
    """``cmq-graph build 2>&1 | head -1``: the build stops at its first message, so it says so."""
    before = live_digest(project / "store")
    (project / "data/campuses.csv").write_text(
        (project / "data/campuses.csv").read_text().replace("Campus Un", "Campus Uno")
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "cmq_graph.cli", *build_args(project)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does
    assert proc.wait(timeout=120) == 141
    assert live_digest(project / "store") == before


def test_readme_lists_the_exit_codes_the_cli_uses() -> None:
    codes = {v for k, v in vars(cli_module).items() if k.startswith("EXIT_")}
    assert codes == DOCUMENTED_EXITS
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("Exit codes") :].split("\n\n")[0]
    listed = {int(n) for n in re.findall(r"`(\d+)`", section)}
    assert listed == DOCUMENTED_EXITS, section
