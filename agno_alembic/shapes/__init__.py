"""Each Agno table's shape at each schema version, declared once as data.

The base revisions build tables from these shapes, later revisions evolve a table from one version's shape
to the next, and the golden tests compare what the database holds against Agno's own fresh creates.
"""

from __future__ import annotations

from agno_alembic import registry
from agno_alembic.naming import Names
from agno_alembic.shapes import auth, company, components, core, scheduling, tracing
from agno_alembic.shapes._dsl import Shape, TableSpec

_MODULES = (core, tracing, components, scheduling, auth, company)
SHAPES: dict[str, Shape] = {
    value.table_type: value
    for module in _MODULES
    for value in vars(module).values()
    if isinstance(value, Shape)
}


def shape(table_type: str) -> Shape:
    return SHAPES[registry.table_type(table_type).name]


def spec(table_type: str, backend: str, version: str, names: Names) -> TableSpec:
    """The table of ``table_type`` as Agno creates it fresh on ``backend`` at schema ``version``."""
    return shape(table_type).at(backend, version, names)


__all__ = ["SHAPES", "Shape", "TableSpec", "shape", "spec"]
