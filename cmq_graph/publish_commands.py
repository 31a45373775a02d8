"""``cmq-graph publish``: upload the built graph to a remote triple store (see :mod:`cmq_graph.publish`).

There is deliberately no ``--user``/``--password`` option: a password on the command line ends up
in ``ps`` output and shell history. Credentials come from ``CMQ_GRAPH_USER``/``CMQ_GRAPH_PASSWORD``
or ``--credentials-file``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .commands import add_store_option, store_root
from .errors import StoreError
from .namespaces import compact
from .publish import DEFAULT_GRAPH, clean_stale, connect, publish
from .remote import read_credentials
from .store import EmbeddedStore


def _publish(args: argparse.Namespace) -> int:
    credentials = read_credentials(args.credentials_file, args.endpoint)
    target = connect(
        args.endpoint,
        update_endpoint=args.update_endpoint,
        graph_store=args.graph_store,
        method=args.method,
        credentials=credentials,
        timeout=args.timeout,
        retries=args.retries,
        allow_plain_http=args.allow_plain_http,
        checkpoint=not args.no_checkpoint,
    )
    kind = "Virtuoso" if target.virtuoso else "SPARQL 1.1 store"
    print(
        f"{kind} at {args.endpoint}: writing by "
        + ("Graph Store Protocol" if target.method == "gsp" else "SPARQL Update"),
        flush=True,
    )
    with EmbeddedStore.open(store_root(args)) as store:
        report = publish(store, target, args.graph, layout=args.layout, batch_size=args.batch_size)
    print(f"Published {report.triples} triples in {len(report.graphs)} graph(s) in {report.seconds:.1f} s")
    for graph, n in sorted(report.graphs.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {n:7d}  {compact(graph)}")
    if report.union:
        print(
            f"  {report.union[1]:7d}  {compact(report.union[0])} "
            "(their union, each triple once: the default graph)"
        )
    for graph in report.removed:
        print(f"  dropped  {compact(graph)} (no longer in the build)")
    if args.layout == "graphs":
        print(f"Manifest: {args.graph}")
    return 0


def _clean(args: argparse.Namespace) -> int:
    if args.min_age < 0:
        raise StoreError("--min-age must be 0 or more")
    credentials = read_credentials(args.credentials_file, args.endpoint)
    target = connect(
        args.endpoint,
        update_endpoint=args.update_endpoint,
        credentials=credentials,
        timeout=args.timeout,
        retries=args.retries,
        allow_plain_http=args.allow_plain_http,
        checkpoint=not args.no_checkpoint,
    )
    dropped = clean_stale(
        target, args.graph, min_age=args.min_age * 60, force=args.force, dry_run=args.dry_run
    )
    verb = "would drop" if args.dry_run else "dropped"
    for graph in dropped:
        print(f"  {verb}  {graph}")
    print(f"{len(dropped)} stale staging/backup graph(s) of {args.graph} {verb}")
    return 0


def _connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--update-endpoint", metavar="URL", help="SPARQL Update endpoint (default: derived)")
    p.add_argument(
        "--credentials-file",
        type=Path,
        metavar="PATH",
        help="netrc-like or KEY=VALUE file with the user and password (chmod 600)",
    )
    p.add_argument(
        "--allow-plain-http",
        action="store_true",
        help="send the credentials over plain http:// to a host other than this machine (readable by "
        "anyone on the network: only on a network you trust; https:// is the safe way)",
    )
    p.add_argument(
        "--no-checkpoint",
        action="store_true",
        help="Virtuoso: do not checkpoint (for an account without the right; the graphs are then "
        "durable only at the server's next checkpoint)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=120,
        metavar="S",
        help="deadline of each request, its retries included",
    )
    p.add_argument("--retries", type=int, default=3, metavar="N", help="retries on transient failures")


def add_parser(subs: argparse._SubParsersAction) -> None:
    p = subs.add_parser(
        "publish",
        help="upload the built graph to a remote SPARQL store (Virtuoso, Fuseki, GraphDB…)",
        description=(
            "Upload the built graph to a remote triple store, into fresh staging graphs first, then "
            "swap them in: a failure leaves the remote graphs as they were. Credentials: "
            "CMQ_GRAPH_USER and CMQ_GRAPH_PASSWORD, or --credentials-file."
        ),
    )
    add_store_option(p)
    p.add_argument("--endpoint", required=True, metavar="URL", help="SPARQL query endpoint")
    p.add_argument(
        "--graph",
        default=DEFAULT_GRAPH,
        metavar="IRI",
        help="the publication's IRI: its manifest graph (layout graphs) or the one target graph "
        f"(layout union); default {DEFAULT_GRAPH}",
    )
    p.add_argument(
        "--layout",
        choices=["graphs", "union"],
        default="graphs",
        help="graphs: keep one graph per source, same IRIs as the embedded store (default); "
        "union: everything in the --graph graph",
    )
    p.add_argument(
        "--method",
        choices=["auto", "gsp", "update"],
        default="auto",
        help="gsp: Graph Store Protocol POSTs; update: SPARQL Update batches (default: gsp when a "
        "Graph Store endpoint is known, as on Virtuoso)",
    )
    p.add_argument("--graph-store", metavar="URL", help="Graph Store Protocol endpoint (default: derived)")
    p.add_argument("--batch-size", type=int, metavar="N", help="triples per request (update: at most 500)")
    _connection_options(p)
    p.set_defaults(func=_publish)

    p = subs.add_parser(
        "publish-clean",
        help="drop the staging and backup graphs that interrupted publishes left on a remote store",
        description=(
            "Drop the {--graph}/staging/… and {--graph}/backup/… graphs of publishes that were killed. "
            "Graphs of a run younger than --min-age are kept (a publish may be running), and "
            "nothing is dropped while the manifest says a swap was interrupted (publish again first)."
        ),
    )
    p.add_argument("--endpoint", required=True, metavar="URL", help="SPARQL query endpoint")
    p.add_argument(
        "--graph", default=DEFAULT_GRAPH, metavar="IRI", help=f"the publication (default {DEFAULT_GRAPH})"
    )
    p.add_argument("--min-age", type=float, default=60, metavar="MINUTES", help="only runs older than this")
    p.add_argument("--dry-run", action="store_true", help="list what would be dropped, drop nothing")
    p.add_argument("--force", action="store_true", help="drop even after an interrupted swap")
    _connection_options(p)
    p.set_defaults(func=_clean)
