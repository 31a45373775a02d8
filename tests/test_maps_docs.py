"""Every command in docs/maps.md runs, on the curated data, as written (exit 0, files written)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cmq_graph import cli

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "maps.md"
PREFIX = ".venv/bin/cmq-graph "


def guide_commands() -> list[str]:
    """The commands of the guide: lines of its code blocks that start with the CLI."""
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"```\n(.*?)```", text, re.S)
    return [
        line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith(PREFIX)
    ]


def test_the_guide_has_commands_for_every_map_kind() -> None:
    commands = guide_commands()
    for kind in ("atlas", "territory", "campus", "shared-partners", "overview", "governance"):
        assert any(c.startswith(f"{PREFIX}map {kind}") for c in commands), kind


@pytest.mark.parametrize("command", guide_commands())
def test_guide_command_runs(
    command: str, store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = shlex.split(command)[1:]
    # `build` makes its own store here, the others read the curated graph built for the tests.
    store = tmp_path / "store" if args[0] == "build" else store_root
    before = set(tmp_path.iterdir())
    assert cli.main([*args, "--store", str(store)]) == 0, command
    if args[0] == "map":
        written = {p.suffix for p in set(tmp_path.iterdir()) - before}
        assert ".html" in written
        if "--png" in args:
            assert ".png" in written
    if "-o" in args:
        assert (tmp_path / args[args.index("-o") + 1]).stat().st_size > 0
