"""The `cims` command group: every error a user can cause is one line on stderr, never a traceback.

A mistake in a flag or argument (click's usage errors: a malformed id, an unknown choice, a
missing argument), a `CliError` raised by a command (an unknown incident, a version out of range,
a missing store), a step the policy refuses (its rule id), a wrong `CIMS_` setting, and a store
that cannot be reached or read each print one line naming what was wrong and exit non-zero (2
for a bad flag, argument or setting, 1 otherwise). Only a fault of the program itself
still shows a traceback.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from typing import Any

import psycopg
import typer
from eventsourcing.persistence import DatabaseError, InterfaceError, OperationalError
from pydantic import ValidationError
from typer.core import TyperGroup

from cli.output import CliError, err, literal
from domain.errors import PolicyViolation

try:  # typer >= 0.20 carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer, on click itself
    from click import exceptions as click_errors  # type: ignore[no-redef]

STORE_ERRORS = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)

# Exactly these (not their subclasses, which are faults of the program): e.g. a file that is not
# a SQLite database at all.
NOT_A_STORE = (DatabaseError, sqlite3.DatabaseError)


def one_line(text: str) -> str:
    return " ".join(text.split())


class CimsGroup(TyperGroup):
    """The top-level group; `main` turns expected failures into one line and an exit code."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            # Always `cims`, also when run as `python -m` or under a test runner.
            code = super().main(args, "cims", complete_var, standalone_mode=False, **extra)
        except CliError as exc:
            code = _say(exc.message, exc.exit_code)
        except click_errors.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `cims` alone: the help, as asked
                if exc.format_message().strip():
                    exc.show()
                return _exit(exc.exit_code, standalone_mode)
            where = exc.ctx.command_path if exc.ctx is not None else "cims"
            code = _say(f"{exc.format_message()} (see `{where} --help`)", exc.exit_code, where)
        except click_errors.ClickException as exc:
            code = _say(exc.format_message(), exc.exit_code)
        except PolicyViolation as exc:  # a command the policy refuses, by its rule id
            code = _say(f"{exc.rule_id}: {exc.message}", 2)
        except typer.Abort:
            code = _say("aborted", 1)
        except STORE_ERRORS as exc:
            code = _say(f"the store failed: {exc or type(exc).__name__}", 1)
        except ValidationError as exc:
            if exc.title != "Settings":  # a model inside a command: a fault of ours
                raise
            wrong = exc.errors()[0]
            name = "CIMS_" + "_".join(str(part) for part in wrong["loc"]).upper()
            code = _say(f"{name}: {wrong['msg']}", 2)
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            if type(exc) not in NOT_A_STORE:  # a programming or integrity error: a fault of ours
                raise
            code = _say(f"the store cannot be read: {exc} (is CIMS_DATABASE_URL right?)", 1)
        return _exit(code, standalone_mode)


def _exit(code: Any, standalone_mode: bool) -> Any:
    if not standalone_mode:
        return code
    sys.exit(code if isinstance(code, int) else 0)


def _say(message: str, code: int, where: str = "cims") -> int:
    err.print(literal(f"{where}: error: {one_line(message)}"), soft_wrap=True)
    return code
