"""Yes/no settings given as text (``-x`` options, the CLI's ``-x`` pairs): the words read as yes and as no, in one
place."""

from __future__ import annotations

from agno_alembic.errors import ConfigurationError

__all__ = ["FALSE", "TRUE", "is_true", "yes_no"]

TRUE = ("1", "true", "yes", "on")
"""The words a yes/no setting reads as yes (compared lower-cased, without surrounding blanks)."""
FALSE = ("0", "false", "no", "off", "")
"""The words it reads as no."""


def is_true(text: str | None) -> bool:
    """Whether an opt-in setting says yes; any other word, or none, leaves it off."""
    return (text or "").strip().lower() in TRUE


def yes_no(text: str, option: str) -> bool:
    """A yes/no setting that must be one or the other: ``-x option=text`` read, or a
    :class:`~agno_alembic.errors.ConfigurationError` naming the valid words."""
    given = text.strip().lower()
    if given not in (*TRUE, *FALSE):
        raise ConfigurationError(f"-x {option}={text!r} is not a yes/no value; use true or false (or "
                                 f"{', '.join(w for w in (*TRUE, *FALSE) if w)})", option=option)
    return given in TRUE
