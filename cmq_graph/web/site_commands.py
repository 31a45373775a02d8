"""The ``site`` command: write the whole publication as static files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..commands import add_store_option, store_root
from ..namespaces import BASE
from ..store import EmbeddedStore
from .pages import safe_url
from .site import build_site, site_summary


def _http_url(value: str) -> str:
    """An http(s) URL with a host, for the options that end up in links and redirect rules."""
    if safe_url(value) is None:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {value!r}")
    return value


def _site(args: argparse.Namespace) -> int:
    with EmbeddedStore.open(store_root(args), in_memory=True) as store:
        report = build_site(
            store,
            args.out,
            host_url=args.host_url,
            endpoint=args.endpoint,
            publisher=args.publisher,
            version=args.version,
            say=lambda m: print(m, file=sys.stderr, flush=True),
        )
    print(site_summary(report))
    return 0


def add_parser(subs: argparse._SubParsersAction) -> None:
    p = subs.add_parser(
        "site",
        help="write the publication (pages, RDF, dumps, VoID, DCAT, ontology docs) as static files",
        description=(
            "Write the whole publication into OUT/ for any static host: a page (fr, en) and RDF "
            "documents per resource, the ontology documentation, gzipped dumps with SHA-256 "
            "checksums, VoID and DCAT-AP, a query page, the w3id.org redirect rules "
            "(w3id/.htaccess) and a content-negotiation example (conneg/nginx.conf). OUT/ is "
            "replaced only when the new site is complete."
        ),
    )
    p.add_argument("out", type=Path, help="output folder")
    add_store_option(p)
    p.add_argument(
        "--host-url",
        default=None,
        type=_http_url,
        help=f"where OUT/ will be served: the target of the w3id.org rules for {BASE}",
    )
    p.add_argument(
        "--endpoint", default=None, type=_http_url, help="SPARQL endpoint URL the query page sends to"
    )
    p.add_argument("--publisher", default="Projet cmq-graph", help="publisher named in DCAT")
    p.add_argument("--version", default=None, help="dataset version (default: the store generation)")
    p.set_defaults(func=_site)
