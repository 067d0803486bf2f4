"""Progress lines on stderr while a verb runs: each step as it starts, and its time when it ends."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from typing import TextIO

__all__ = ["Progress", "progress"]


class Progress(logging.Handler):
    """Prints each step as it starts (``[3] upgrade a -> b, what it does ...``) and its time when it ends.

    Fed by Alembic's ``Running <step>`` records and agno-alembic's own messages (rows copied, tables adopted).
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.INFO)
        self.stream = stream
        self.count = 0
        self.started: float | None = None
        self.line_open = False
        self.t0 = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.name.startswith("alembic"):
                if not text.startswith("Running "):
                    return
                self.finish_step()
                self.count += 1
                step = text[len("Running "):]
                head, sep, doc = step.partition(", ")
                if sep:  # keep the revision's title ("memories 2.3.0"), not the rest of its first docstring line
                    step = f"{head}, {doc.split(':')[0]}"
                step = " ".join(step.split())
                if step.startswith("stamp_revision"):  # recording a position: instantaneous, nothing to time
                    self.stream.write(f"[{self.count}] {step}\n")
                else:
                    self.stream.write(f"[{self.count}] {step} ...")
                    self.line_open = True
                    self.started = time.monotonic()
            else:
                if self.line_open:
                    self.stream.write("\n")
                    self.line_open = False
                level = "" if record.levelno <= logging.INFO else f"{record.levelname.lower()}: "
                self.stream.write(f"    {level}{text}\n")
            self.stream.flush()
        except Exception:  # pragma: no cover - logging must never break a migration
            self.handleError(record)

    def finish_step(self) -> None:
        if self.started is None:
            return
        took = time.monotonic() - self.started
        self.stream.write(f" {took:.2f}s\n" if self.line_open else f"    ... done in {took:.2f}s\n")
        self.stream.flush()
        self.started, self.line_open = None, False

    def close(self) -> None:
        self.finish_step()
        super().close()


@contextlib.contextmanager
def progress(quiet: bool) -> Iterator[Progress | None]:
    if quiet:
        yield None
        return
    handler = Progress(sys.stderr)
    loggers = [logging.getLogger("alembic.runtime.migration"), logging.getLogger("agno_alembic")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        if lg.getEffectiveLevel() > logging.INFO:
            lg.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        handler.close()
        for lg, level in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)
        if handler.count:
            sys.stderr.write(f"{handler.count} step(s) in {time.monotonic() - handler.t0:.1f}s\n")
