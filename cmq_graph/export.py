"""Export the graph in the usual RDF syntaxes.

Graph formats (Turtle, N-Triples, JSON-LD, RDF/XML) write the union of the named graphs (each
triple once); TriG and N-Quads write the named graphs, hence the provenance of each statement,
and not the union the store also holds in its default graph.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from .errors import StoreError
from .namespaces import PREFIXES
from .store import EmbeddedStore

FORMATS: dict[str, tuple[ox.RdfFormat, bool]] = {
    "ttl": (ox.RdfFormat.TURTLE, False),
    "nt": (ox.RdfFormat.N_TRIPLES, False),
    "jsonld": (ox.RdfFormat.JSON_LD, False),
    "xml": (ox.RdfFormat.RDF_XML, False),
    "trig": (ox.RdfFormat.TRIG, True),
    "nq": (ox.RdfFormat.N_QUADS, True),
}


def export(store: EmbeddedStore, fmt: str, out: BinaryIO) -> None:
    """Write the graph to ``out``, streaming: memory stays flat as the graph grows."""
    rdf_format, keeps_graphs = FORMATS[fmt]
    data: Iterable[ox.Quad | ox.Triple]
    # The store's triples once each (its materialised union), or each source's graph.
    data = store.quads() if keeps_graphs else store.triples()
    prefixes = (
        PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML) else None
    )
    ox.serialize(data, out, format=rdf_format, prefixes=prefixes)


def export_file(store: EmbeddedStore, fmt: str, path: Path) -> None:
    """Write the graph to ``path`` atomically: a temporary file in the same folder, synced, then
    renamed over ``path``. A killed or failed export leaves the previous file whole (and at
    worst a ``.NAME.*.tmp`` file beside it)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():  # refused before the export, not by the final rename after it
        raise StoreError(f"{os.strerror(errno.EISDIR)}: {path}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        # The user's path is named, not the temporary file's.
        raise StoreError(f"{exc.strerror or exc}: {path}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            export(store, fmt, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
