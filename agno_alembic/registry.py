"""The one registry of Agno's SQL table types.

Every other module reads table types, aliases, default table names, branch labels, backends and schema
versions from here; nothing else spells a table name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from agno_alembic.errors import UnknownTableTypeError, UnknownVersionError

#: Agno's schema versions, oldest first.  A schema version is not an Agno release number.
SCHEMA_VERSIONS: tuple[str, ...] = ("2.0.0", "2.3.0", "2.5.0", "2.5.6", "3.0.0")
LATEST_VERSION: str = SCHEMA_VERSIONS[-1]

#: Backends, by the key the dialect layer uses.
POSTGRESQL, SQLITE, MYSQL, SINGLESTORE = "postgresql", "sqlite", "mysql", "singlestore"
ALL_BACKENDS: tuple[str, ...] = (POSTGRESQL, SQLITE, MYSQL, SINGLESTORE)
PG_SQLITE: tuple[str, ...] = (POSTGRESQL, SQLITE)


@dataclass(frozen=True)
class TableType:
    """One Agno table type and everything the project needs to know about it."""

    name: str
    """Canonical name, as Agno's code spells it (``sessions``, ``memories``, ``evals``...)."""
    default_table: str
    """Agno's default table name; ``{sessions}`` stands for the configured sessions table name."""
    since: str
    """The schema version at which Agno first creates the table."""
    backends: tuple[str, ...] = ALL_BACKENDS
    aliases: tuple[str, ...] = ()
    agno_until: str | None = None
    """The schema version at which Agno stops creating the table (``culture``: 3.0.0); we keep it."""
    agno_attribute: str | None = None
    """The attribute of an Agno db object holding the configured table name."""
    keyword: str | None = None
    """The keyword of Agno's db constructors naming the table (``session_table``...)."""
    depends_on: tuple[str, ...] = field(default=())
    """Table types whose tables this table's foreign keys refer to."""

    @property
    def label(self) -> str:
        """The Alembic branch label of this table type."""
        return f"agno_{self.name}"

    @property
    def last_version(self) -> str:
        """The newest schema version this table type has a shape for."""
        if self.agno_until is None:
            return LATEST_VERSION
        return SCHEMA_VERSIONS[SCHEMA_VERSIONS.index(self.agno_until) - 1]

    def on(self, backend: str) -> bool:
        return backend in self.backends

    def revision_id(self, version: str) -> str:
        """The stable revision id of this table's revision at ``version``."""
        return f"{self.label}_{version.replace('.', '_')}"


def _t(name: str, default_table: str, since: str, **kw: object) -> TableType:
    attr = kw.pop("agno_attribute", f"{name}_table_name")
    keyword = kw.pop("keyword", f"{name}_table")
    # The type-ignore below: TableType's optional fields, by name
    return TableType(name, default_table, since, agno_attribute=attr, keyword=keyword, **kw)  # type: ignore[arg-type]


_PG_ONLY = (POSTGRESQL,)

TABLE_TYPES: tuple[TableType, ...] = (
    _t("sessions", "agno_sessions", "2.0.0", aliases=("session",), agno_attribute="session_table_name",
       keyword="session_table"),
    _t("memories", "agno_memories", "2.0.0", aliases=("memory",), agno_attribute="memory_table_name",
       keyword="memory_table"),
    _t("metrics", "agno_metrics", "2.0.0", aliases=("metric",)),
    _t("evals", "agno_eval_runs", "2.0.0", aliases=("eval", "eval_runs"), agno_attribute="eval_table_name",
       keyword="eval_table"),
    _t("knowledge", "agno_knowledge", "2.0.0"),
    _t("culture", "agno_culture", "2.0.0", agno_until="3.0.0"),
    _t("versions", "agno_schema_versions", "2.3.0", aliases=("schema_versions",)),
    _t("traces", "agno_traces", "2.3.0", aliases=("trace",), agno_attribute="trace_table_name"),
    _t("spans", "agno_spans", "2.3.0", aliases=("span",), agno_attribute="span_table_name",
       depends_on=("traces",)),
    _t("components", "agno_components", "2.3.0", backends=PG_SQLITE, aliases=("component",)),
    _t("component_configs", "agno_component_configs", "2.3.0", backends=PG_SQLITE,
       aliases=("component_config",), depends_on=("components",)),
    _t("component_links", "agno_component_links", "2.3.0", backends=PG_SQLITE,
       aliases=("component_link",), depends_on=("components", "component_configs")),
    _t("learnings", "agno_learnings", "2.3.0", backends=PG_SQLITE, aliases=("learning",)),
    _t("schedules", "agno_schedules", "2.5.0", backends=PG_SQLITE, aliases=("schedule",)),
    _t("schedule_runs", "agno_schedule_runs", "2.5.0", backends=PG_SQLITE, aliases=("schedule_run",),
       depends_on=("schedules",)),
    _t("approvals", "agno_approvals", "2.5.0", backends=PG_SQLITE, aliases=("approval",)),
    _t("auth_tokens", "agno_auth_tokens", "2.5.6", backends=PG_SQLITE, aliases=("auth_token",)),
    _t("service_accounts", "agno_service_accounts", "2.5.6", backends=PG_SQLITE, aliases=("service_account",)),
    _t("mcp_oauth_clients", "agno_mcp_oauth_clients", "2.5.6", backends=PG_SQLITE),
    _t("mcp_oauth_transactions", "agno_mcp_oauth_transactions", "2.5.6", backends=PG_SQLITE),
    _t("mcp_oauth_codes", "agno_mcp_oauth_codes", "2.5.6", backends=PG_SQLITE),
    _t("mcp_oauth_refresh_tokens", "agno_mcp_oauth_refresh_tokens", "2.5.6", backends=PG_SQLITE),
    _t("mcp_oauth_keys", "agno_mcp_oauth_keys", "2.5.6", backends=PG_SQLITE),
    _t("runs", "agno_runs", "3.0.0", aliases=("run",), depends_on=("sessions",)),
    _t("transcripts", "agno_transcripts", "3.0.0", backends=PG_SQLITE, aliases=("transcript",), keyword=None),
    _t("sources", "agno_company_sources", "3.0.0", backends=PG_SQLITE, aliases=("source",)),
    _t("products", "agno_company_products", "3.0.0", backends=PG_SQLITE, aliases=("product",)),
    _t("projects", "agno_company_projects", "3.0.0", backends=PG_SQLITE, aliases=("project",)),
    _t("tasks", "agno_company_tasks", "3.0.0", backends=PG_SQLITE, aliases=("task",)),
    _t("tool_results", "agno_tool_results", "3.0.0", backends=PG_SQLITE, aliases=("tool_result",),
       keyword=None),
    _t("compactions", "agno_compactions", "3.0.0", backends=PG_SQLITE, aliases=("compaction",), keyword=None),
    _t("authz_policy", "agno_authz_policy", "3.0.0", backends=PG_SQLITE, keyword=None),
    _t("authz_grouping", "agno_authz_grouping", "3.0.0", backends=PG_SQLITE, keyword=None),
    _t("authz_roles", "agno_authz_roles", "3.0.0", backends=PG_SQLITE, keyword=None),
    _t("authz_users", "agno_authz_users", "3.0.0", backends=PG_SQLITE, keyword=None),
    _t("authz_audit", "agno_authz_audit", "3.0.0", backends=PG_SQLITE, keyword=None),
    _t("authz_decisions", "agno_authz_decisions", "3.0.0", backends=PG_SQLITE, keyword=None),
    _t("jobs", "agno_jobs", "3.0.0", backends=_PG_ONLY, aliases=("job",), agno_attribute="job_table_name",
       keyword="job_table"),
    _t("sandbox_bindings", "{sessions}_sandbox_bindings", "3.0.0", backends=_PG_ONLY,
       aliases=("sandbox", "sandbox_binding"), agno_attribute="sandbox_table_name", keyword="sandbox_table",
       depends_on=("sessions", "runs")),
)

#: Agno's pgvector knowledge tables (``agno.vectordb.pgvector.PgVector``): any number of tables in a schema, each
#: named by its user, none of them a db class's table.  Their branch ``agno_vectors`` moves every such table at once
#: (:mod:`agno_alembic.vectors` says which: given, or found by inspection); PostgreSQL and SingleStore
#: (``agno.vectordb.singlestore``, the same 3.0 owner column without its index); never written to
#: ``agno_schema_versions`` (Agno records none of them).  Kept out of :data:`TABLE_TYPES`, whose every type has
#: one table of a fixed shape.
VECTORS = TableType("vectors", "", "2.0.0", backends=(POSTGRESQL, SINGLESTORE), aliases=("vector", "pgvector"))
VECTOR_TYPES: tuple[TableType, ...] = (VECTORS,)

_BY_NAME: dict[str, TableType] = {t.name: t for t in TABLE_TYPES}
_BY_ANY: dict[str, TableType] = {**{a: t for t in TABLE_TYPES for a in t.aliases}, **_BY_NAME}
_BY_LABEL: dict[str, TableType] = {t.label: t for t in (*TABLE_TYPES, *VECTOR_TYPES)}

#: The table types Agno's own MigrationManager migrates, in its order (3.1.10, plus 2.x's culture).
AGNO_MANAGED: tuple[str, ...] = (
    "memories", "sessions", "metrics", "evals", "knowledge", "culture", "approvals", "components", "schedules",
    "products", "sources", "projects", "tasks", "schedule_runs", "learnings",
)


def table_type(name: str) -> TableType:
    """Resolve a canonical name, an alias or a branch label to its table type."""
    if not isinstance(name, str):
        raise UnknownTableTypeError(repr(name), valid_names())
    key = name.strip().lower()
    found = _BY_ANY.get(key) or _BY_LABEL.get(key)
    if found is None:
        raise UnknownTableTypeError(name, valid_names())
    return found


def table_types(names: str | Iterable[str] | None = None) -> list[TableType]:
    """Resolve one name, several names or ``None`` (every type) to table types, in registry order."""
    if names is None:
        return list(TABLE_TYPES)
    if isinstance(names, str):
        names = [names]
    wanted = {table_type(n).name for n in names}
    return [t for t in TABLE_TYPES if t.name in wanted]


def by_label(label: str) -> TableType | None:
    return _BY_LABEL.get(label)


def is_vectors(name: object) -> bool:
    """Whether ``name`` means the pgvector tables (``vectors``, ``vector``, ``pgvector``, ``agno_vectors``)."""
    return isinstance(name, str) and name.strip().lower() in (VECTORS.name, *VECTORS.aliases, VECTORS.label)


def valid_names() -> list[str]:
    """Every accepted spelling of a table type, canonical names first."""
    return [t.name for t in TABLE_TYPES] + sorted(_BY_ANY.keys() - _BY_NAME.keys())


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def parse_version(version: object) -> tuple[int, ...]:
    """Parse ``'2.3.0'``, ``'v2.3.0'`` or ``'V2.3'`` into a comparable tuple; raise on anything else."""
    if not isinstance(version, str):
        raise UnknownVersionError(repr(version), SCHEMA_VERSIONS)
    text = version.strip()
    if text[:1] in ("v", "V"):
        text = text[1:]
    parts = text.split(".")
    if not text or len(parts) > 3 or not all(p.isdigit() for p in parts):
        raise UnknownVersionError(version, SCHEMA_VERSIONS)
    return tuple(int(p) for p in parts) + (0,) * (3 - len(parts))


def resolve_version(version: object) -> str:
    """Map a requested version to the schema version it means: the nearest one at or below it.

    ``'2.4.0'`` means 2.3.0, as in Agno.  Above the latest schema version, or below the first, is an error.
    """
    key = parse_version(version)
    if key > _version_key(LATEST_VERSION) or key < _version_key(SCHEMA_VERSIONS[0]):
        raise UnknownVersionError(str(version), SCHEMA_VERSIONS)
    return [v for v in SCHEMA_VERSIONS if _version_key(v) <= key][-1]


def version_index(version: str) -> int:
    return SCHEMA_VERSIONS.index(version)


def versions_between(first: str, last: str) -> Sequence[str]:
    """Schema versions from ``first`` to ``last``, both included."""
    return SCHEMA_VERSIONS[version_index(first) : version_index(last) + 1]
