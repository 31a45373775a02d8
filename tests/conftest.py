"""Shared fixtures: the curated graph built once per test session, and service helpers."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cmq_graph import paths
from cmq_graph.build import build
from cmq_graph.store import EmbeddedStore

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_program(name: str) -> str:
    """Path of ``name``; skip the test if missing, but fail under CI=true (no silent skip)."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (scripts/system-deps.sh installs it)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built from the project's own data/ and ontology/ (read-only for tests)."""
    root = tmp_path_factory.mktemp("store")
    build(paths.DATA_DIR, paths.ONTOLOGY_DIR, root, say=lambda _m: None)
    return root


@pytest.fixture(scope="session")
def store(store_root: Path) -> EmbeddedStore:
    return EmbeddedStore.open(store_root, in_memory=True)


# The curated data as it stood before the national campuses joined (on official territory codes):
# the slice whose answers the catalogue and map tests work out by hand.
NORMANDY_DATA = Path(__file__).parent / "fixtures" / "normandie"


@pytest.fixture(scope="session")
def normandy_store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("normandie")
    build(NORMANDY_DATA, paths.ONTOLOGY_DIR, root, say=lambda _m: None)
    return root


@pytest.fixture(scope="session")
def normandy_store(normandy_store_root: Path) -> EmbeddedStore:
    return EmbeddedStore.open(normandy_store_root, in_memory=True)
