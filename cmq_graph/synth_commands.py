"""``cmq-graph synth``: write a synthetic national-scale ecosystem for scaling tests and benchmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

from .synth import SynthConfig, campuses_for_triples, write


def _synth(args: argparse.Namespace) -> int:
    campuses = args.campuses
    if args.triples is not None:
        campuses = campuses_for_triples(args.triples)
    cfg = SynthConfig(
        campuses=campuses,
        schools_per_campus=args.schools_per_campus,
        partners_per_campus=args.partners_per_campus,
        higher_per_campus=args.higher_per_campus,
        shared_share=args.shared_share,
        zipf_exponent=args.zipf,
        seed=args.seed,
    )
    summary = write(args.out, cfg)
    print(
        f"Wrote {summary.total_rows} synthetic rows ({cfg.campuses} campuses) into {summary.out}; "
        f"build them with: cmq-graph build --data {summary.out} --store <a scratch store>"
    )
    for table, n in sorted(summary.rows.items()):
        print(f"  {n:8d}  {table}.csv")
    return 0


def add_parser(subs: argparse._SubParsersAction) -> None:
    defaults = SynthConfig()
    p = subs.add_parser(
        "synth",
        help="write synthetic curated tables (never into data/) for scaling tests and benchmarks",
        description="Write a seeded, reproducible, fictitious CMQ ecosystem as curated CSV tables. "
        "Every row cites the source 'synthetic'; the project's data/ folder is refused.",
    )
    p.add_argument("--out", type=Path, required=True, help="folder to write (not data/)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--campuses", type=int, default=defaults.campuses, help="number of campuses")
    size.add_argument(
        "--triples", type=int, help="aim at about this many triples (sets --campuses: ~575 per campus)"
    )
    p.add_argument("--schools-per-campus", type=int, default=defaults.schools_per_campus)
    p.add_argument("--partners-per-campus", type=int, default=defaults.partners_per_campus)
    p.add_argument("--higher-per-campus", type=int, default=defaults.higher_per_campus)
    p.add_argument(
        "--shared-share",
        type=float,
        default=defaults.shared_share,
        help="share of a campus's partners drawn from the national pool (Zipf-like popularity)",
    )
    p.add_argument("--zipf", type=float, default=defaults.zipf_exponent, help="popularity exponent")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.set_defaults(func=_synth)
