"""The graph commands: build, validate, export, stats."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import paths
from .build import build, prepare
from .errors import StoreError
from .export import FORMATS, export, export_file
from .stats import format_stats, stats
from .store import BUILD_WAIT, EmbeddedStore


def add_store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        type=Path,
        default=None,
        help="store folder (default: $CMQ_GRAPH_STORE or ~/.local/share/cmq-graph/store)",
    )


def store_root(args: argparse.Namespace) -> Path:
    return args.store or paths.default_store_path()


def _inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        type=Path,
        default=paths.data_dir(),  # read when the parser is made, once per run
        help="curated tables folder (default: $CMQ_GRAPH_DATA or the shipped data)",
    )
    p.add_argument(
        "--ontology",
        type=Path,
        default=paths.ontology_dir(),
        help="ontology folder (default: $CMQ_GRAPH_ONTOLOGY or the shipped ontology)",
    )


def _build(args: argparse.Namespace) -> int:
    if args.wait < 0:
        raise StoreError("--wait must be ≥ 0 seconds")
    report = build(args.data, args.ontology, store_root(args), validate=not args.no_validate, wait=args.wait)
    print(
        f"Built {report.triples} triples ({report.quads} quads) from {report.sources} sources "
        f"into {report.store}"
    )
    with EmbeddedStore.open(store_root(args)) as store:
        print(format_stats(stats(store)))
    return 0


def _validate(args: argparse.Namespace) -> int:
    _, mapped, _ = prepare(args.data, args.ontology)
    print(f"OK: {sum(mapped.rows.values())} rows from {len(mapped.sources)} sources conform to the shapes")
    return 0


def _export(args: argparse.Namespace) -> int:
    with EmbeddedStore.open(store_root(args)) as store:
        if args.output:
            export_file(store, args.format, args.output)
        else:
            export(store, args.format, sys.stdout.buffer)
    return 0


def _stats(args: argparse.Namespace) -> int:
    with EmbeddedStore.open(store_root(args)) as store:
        print(format_stats(stats(store)))
    return 0


def add_parser(subs: argparse._SubParsersAction) -> None:
    p = subs.add_parser("build", help="map data/ to RDF, validate, load into the embedded store")
    _inputs(p)
    add_store_option(p)
    p.add_argument("--no-validate", action="store_true", help="skip SHACL validation")
    p.add_argument(
        "--wait",
        type=float,
        default=BUILD_WAIT,
        metavar="SECONDS",
        help="while another build writes the store, wait this long for it, then fail with exit 4 "
        f"(default {BUILD_WAIT:g})",
    )
    p.set_defaults(func=_build)

    p = subs.add_parser("validate", help="check the tables and the shapes without writing the store")
    _inputs(p)
    p.set_defaults(func=_validate)

    p = subs.add_parser("export", help="write the graph (all graphs merged, or a dataset for trig/nq)")
    add_store_option(p)
    p.add_argument("--format", choices=sorted(FORMATS), default="ttl")
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    p.set_defaults(func=_export)

    p = subs.add_parser("stats", help="summarise what the store holds")
    add_store_option(p)
    p.set_defaults(func=_stats)
