"""``cmq-graph``: the command line.

Each command lives in the module that does the work and registers itself through an
``add_parser(subparsers)`` function; this module only assembles them and turns the project's
errors into clear messages and exit codes (no traceback for a user's mistake).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from . import paths
from .errors import CmqError, InputError, ValidationError

# Modules providing commands; each has add_parser(subparsers) that sets a ``func`` default.
COMMAND_MODULES = [
    "cmq_graph.commands",
    "cmq_graph.synth_commands",
    "cmq_graph.query_commands",
    "cmq_graph.map_commands",
    "cmq_graph.publish_commands",
    "cmq_graph.web.commands",
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


# The exit codes, one list (the README's command-line section says the same).
EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug of cmq-graph: the message says how to get the details to report it
EXIT_INPUT = 2  # bad data/ or ontology/ (including shapes.ttl), or bad command-line arguments
EXIT_SHACL = 3  # the graph breaks the SHACL shapes
EXIT_STORE = 4  # the store or a file cannot be read or written: missing, locked, corrupt, disk full…
EXIT_QUERY = 5  # a query could not be parsed, bound or run (or timed out)
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_PIPE = 141  # the output was closed early (`| head`): what it was doing was not finished
DEBUG = "CMQ_GRAPH_DEBUG"


def _os_error(exc: OSError) -> str:
    """One line for a failed file or store operation: what failed, on which path."""
    if exc.strerror and exc.filename is not None:
        path = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
        return f"{exc.strerror}: {path}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text


def _store_failure(exc: BaseException) -> bool:
    """Oxigraph reports a damaged or unusable store as a RuntimeError (RocksDB's "Corruption: …")."""
    text = str(exc)
    return text.startswith(("Corruption", "IO error", "Invalid argument", "Not implemented"))


def _quiet_stdout() -> None:
    """After a broken pipe, send what is left to /dev/null, so that exiting prints nothing more."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every error becomes one clear message and a documented exit code."""
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, ValidationError) as exc:
        _say(exc.report())
        return exc.exit_code
    except CmqError as exc:
        _say(f"cmq-graph: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _say("cmq-graph: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_PIPE
    except OSError as exc:
        _say(f"cmq-graph: {_os_error(exc)}")
        return EXIT_STORE
    except RuntimeError as exc:
        if not _store_failure(exc):
            return _internal(exc)
        _say(f"cmq-graph: the store{_store_of(args)} cannot be used: {str(exc).splitlines()[0]}")
        return EXIT_STORE
    except Exception as exc:
        return _internal(exc)


def _store_of(args: argparse.Namespace) -> str:
    """The store's path, for a command that has one: Oxigraph's corruption messages may not say it."""
    if not hasattr(args, "store"):
        return ""
    return f" at {args.store or paths.default_store_path()}"


def _say(text: str) -> None:
    with contextlib.suppress(BrokenPipeError, ValueError):  # stderr closed: the exit code says it
        print(text, file=sys.stderr, flush=True)


def _internal(exc: Exception) -> int:
    """A bug: one line by default; the traceback with CMQ_GRAPH_DEBUG=1, to report it."""
    if os.environ.get(DEBUG):
        raise exc
    first = str(exc).splitlines()[0] if str(exc) else ""
    _say(
        f"cmq-graph: internal error ({type(exc).__name__}: {first}); "
        f"run again with {DEBUG}=1 for the details, and report it"
    )
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
