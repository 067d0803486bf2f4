"""MySQL/MariaDB (and SingleStore, whose drivers speak its protocol): the connection's character set.

A data step that reads rows and writes them back through the client (the 3.0.0 runs copy, its downgrade) is exact
only when every character crosses the wire unchanged. Over a connection in another character set (``?charset=latin1``
on the URL, ``SET NAMES latin1``, a server whose default is latin1 with a driver that takes the server's), the server
turns each character the set lacks into ``?`` on the way out and the driver cannot send it on the way in.
:func:`utf8mb4` puts the connection in utf8mb4 for the step and back as it was afterwards.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from agno_alembic.errors import ConfigurationError

log = logging.getLogger("agno_alembic")

UTF8MB4 = "utf8mb4"
_VARIABLES = ("character_set_client", "character_set_connection", "character_set_results", "collation_connection")


def _session(connection: sa.Connection) -> dict[str, str | None]:
    row = connection.exec_driver_sql("SELECT " + ", ".join(f"@@SESSION.{v}" for v in _VARIABLES)).one()
    return dict(zip(_VARIABLES, row, strict=True))


def _driver_charset(driver: Any) -> str | None:
    """The character set the driver encodes in (PyMySQL and singlestoredb: ``charset``; mysqlclient:
    ``character_set_name()``), or ``None`` where it does not say."""
    charset = getattr(driver, "charset", None)
    if charset is None and callable(getattr(driver, "character_set_name", None)):
        charset = driver.character_set_name()
    return charset


def _is_utf8mb4(session: dict[str, str | None], driver: Any) -> bool:
    charsets = (session["character_set_client"], session["character_set_connection"], session["character_set_results"])
    return all(c == UTF8MB4 for c in charsets) and _driver_charset(driver) in (UTF8MB4, None)


@contextlib.contextmanager
def utf8mb4(connection: sa.Connection) -> Iterator[None]:
    """The connection in utf8mb4 (the driver's encoding and the server's session variables) for the block, then
    back as it was. A driver that cannot switch (no ``set_character_set``) on a connection that is not utf8mb4
    already is refused with a :class:`~agno_alembic.errors.ConfigurationError`: nothing is read or written."""
    driver = connection.connection.dbapi_connection
    before = _session(connection)
    if _is_utf8mb4(before, driver):
        yield
        return
    switch = getattr(driver, "set_character_set", None)
    if switch is None:
        raise ConfigurationError(
            f"The connection's character set is {before['character_set_connection']} (results: "
            f"{before['character_set_results']}) and its driver ({type(driver).__module__}) cannot switch it to "
            "utf8mb4, which copying Agno's runs needs to move every character unchanged. Connect with "
            "charset=utf8mb4 on the URL (mysql+pymysql://.../db?charset=utf8mb4); nothing was changed.",
            option="charset",
        )
    log.info("switching the connection from character set %s to utf8mb4 for the copy",
             before["character_set_connection"])
    charset, collation = _driver_charset(driver), getattr(driver, "collation", None)
    switch(UTF8MB4)
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # a lost connection: the block's error is the news
            _restore(connection, switch, charset, collation, before)
        raise
    _restore(connection, switch, charset, collation, before)


def _restore(
    connection: sa.Connection, switch: Any, charset: str | None, collation: str | None, before: dict[str, str | None]
) -> None:
    """The driver's character set as it was, then the server's session variables as they were."""
    if charset:
        switch(charset, collation) if collation else switch(charset)
    connection.exec_driver_sql("SET " + ", ".join(f"SESSION {v} = {_literal(before[v])}" for v in _VARIABLES))


def _literal(value: str | None) -> str:
    if value is None:
        return "NULL"
    if not value.replace("_", "").isalnum():  # character set and collation names are plain words
        raise ValueError(f"not a character set name: {value!r}")
    return f"'{value}'"


class CreateSchema(sa.schema.CreateSchema):
    """``CREATE SCHEMA IF NOT EXISTS`` for Agno's tables; on MySQL/MariaDB the database is created utf8mb4
    (``CREATE DATABASE ... CHARACTER SET utf8mb4``), so the tables made in it hold every character Agno writes
    whatever the server's default (on a latin1 server, Agno's own ``CREATE DATABASE`` makes latin1 tables, where a
    table name such as ``評価`` cannot even be recorded). Elsewhere it is SQLAlchemy's ``CREATE SCHEMA``."""

    inherit_cache = True

    def __init__(self, name: str) -> None:
        super().__init__(name, if_not_exists=True)


@compiles(CreateSchema, "mysql")
@compiles(CreateSchema, "mariadb")
def _create_utf8mb4_database(element: CreateSchema, compiler: Any, **kw: Any) -> str:
    return f"{compiler.visit_create_schema(element, **kw)} CHARACTER SET {UTF8MB4}"
