"""What the management commands share for talking to a person at a terminal: safe text, quiet library logs,
confirmations."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand

# What a stored name, a URL or an Akeneo message could use to take over the terminal: C0/C1 control characters
# (ESC starts escape sequences, CR rewrites a line) and the bidi controls that reorder what is displayed.
UNSAFE_FOR_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: object) -> str:
    """The text with each unsafe character shown as its escape (`\\x1b`), never sent to the terminal raw."""
    return UNSAFE_FOR_TERMINAL.sub(
        lambda match: match.group().encode("unicode_escape").decode("ascii"), str(text)
    )


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


@contextmanager
def quiet_library_logs(verbosity: int = 1) -> Iterator[None]:
    """Keep the services' INFO lines ("connection test … succeeded") off the terminal while a command talks to
    its user: the command prints its own result. Only the root logger's console handlers are filtered, so log
    files and test captures keep everything; `-v 2` shows the INFO lines again."""
    if verbosity >= 2:
        yield
        return
    noise = _BelowWarning()
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
    ]
    for handler in handlers:
        handler.addFilter(noise)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(noise)


class TerminalCommand(BaseCommand):
    """A command whose terminal shows only what it prints itself (and warnings)."""

    stealth_options = ("stdin",)

    def execute(self, *args, **options):
        self.stdin = (
            options.get("stdin") or sys.stdin
        )  # call_command(stdin=...) answers the questions in tests
        with quiet_library_logs(int(options.get("verbosity", 1))):
            return super().execute(*args, **options)

    def confirm(self, question: str) -> bool:
        """Ask a yes/no question; only `y`/`yes` is a yes (an empty line or the end of input is a no)."""
        self.stderr.write(f"{question} [y/N] ", ending="")
        self.stderr.flush()
        return self.stdin.readline().strip().lower() in ("y", "yes")
