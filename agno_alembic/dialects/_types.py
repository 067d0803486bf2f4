"""The column type of the shapes, below both the dialect layer and the SingleStore module that builds on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

TypeFactory = Callable[[str, str], sa.types.TypeEngine[Any]]


@dataclass(frozen=True)
class ColumnType:
    """An abstract column type of the shapes: what it compiles to per backend and schema version."""

    name: str
    factory: TypeFactory

    def on(self, backend: str, version: str) -> sa.types.TypeEngine[Any]:
        return self.factory(backend, version)

    def __repr__(self) -> str:
        return self.name
