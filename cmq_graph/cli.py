"""``cmq-graph``: the command line.

Each command lives in the module that does the work and registers itself through an
``add_parser(subparsers)`` function; this module only assembles them and turns the project's
errors into clear messages and exit codes (no traceback for a user's mistake).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .errors import CmqError, InputError, ValidationError

# Modules providing commands; each has add_parser(subparsers) that sets a ``func`` default.
COMMAND_MODULES = [
    "cmq_graph.commands",
    "cmq_graph.synth_commands",
    "cmq_graph.query_commands",
    "cmq_graph.map_commands",
    "cmq_graph.publish_commands",
    "cmq_graph.web.site_commands",
]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="cmq-graph",
        description="Knowledge graph of the Campus des Métiers et des Qualifications.",
    )
    subs = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.add_parser(subs)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, ValidationError) as exc:
        print(exc.report(), file=sys.stderr)
        return exc.exit_code
    except CmqError as exc:
        print(f"cmq-graph: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
