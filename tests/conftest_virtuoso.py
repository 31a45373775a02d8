"""Fixtures for the tests that need a real Virtuoso (import them into a test module).

One server per test session (the Virtuoso tests share the xdist group ``virtuoso``, so they run
in one worker); each test writes graphs with IRIs of its own, or republishes what it reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import require_program
from virtuoso import DBA, Virtuoso, start

from cmq_graph.remote import Credentials, RemoteStore


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    require_program("virtuoso-t")
    require_program("isql-vt")
    server = start(tmp_path_factory.mktemp("virtuoso"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dba() -> Credentials:
    return Credentials(*DBA)


@pytest.fixture
def remote(virtuoso_server: Virtuoso) -> Iterator[RemoteStore]:
    """The anonymous, read-only endpoint, as an analyst would open it."""
    with RemoteStore(virtuoso_server.sparql, timeout=60, retries=1, backoff=0.1) as store:
        yield store


@pytest.fixture
def writer(virtuoso_server: Virtuoso, dba: Credentials) -> Iterator[RemoteStore]:
    """The authenticated endpoint, for set-up and inspection of what publish wrote (every graph,
    not only a publication's)."""
    with RemoteStore(
        virtuoso_server.sparql_auth, credentials=dba, timeout=60, retries=1, backoff=0.1, dataset=None
    ) as store:
        yield store


PUBLISHER = Credentials("publisher", "pw-Xq7-never-logged")


@pytest.fixture(scope="session")
def publisher(virtuoso_server: Virtuoso) -> Credentials:
    """A Virtuoso account allowed SPARQL Update and nothing else, as a site would give a publisher.

    Its password is distinctive so a test can check it appears in no output.
    """
    virtuoso_server.isql(
        f"DB.DBA.USER_CREATE ('{PUBLISHER.user}', '{PUBLISHER.password}'); "
        f'GRANT SPARQL_UPDATE TO "{PUBLISHER.user}";'
    )
    return PUBLISHER
