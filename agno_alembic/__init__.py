"""agno-alembic: Alembic migrations for the SQL tables of the Agno agent framework.

Every Agno table type is its own Alembic branch (``agno_sessions``, ``agno_memories``...), whose revisions are
Agno's schema versions.  The public API is listed in ``__all__``; everything else is private.
"""

from agno_alembic.data.checks import Finding
from agno_alembic.dialects.locks import LockInfo
from agno_alembic.errors import (
    AgnoAlembicError,
    BlockedByDataError,
    ConfigurationError,
    DataVerificationError,
    DDLLockTimeoutError,
    DowngradeRefusedError,
    LockError,
    LockTimeoutError,
    MigrationError,
    OfflineSQLError,
    PartiallyAppliedError,
    RewriteRefusedError,
    UnknownTableTypeError,
    UnknownVersionError,
    UnsupportedBackendError,
    V1ImportIncompleteError,
)
from agno_alembic.manager import MigrationManager, SyncMigrationManager, TableChange, TableStatus
from agno_alembic.preview import Plan, PlannedStatement, PlannedStep
from agno_alembic.registry import LATEST_VERSION, SCHEMA_VERSIONS, TABLE_TYPES, TableType
from agno_alembic.verify import Difference, TableReport, VerifyReport

__version__ = "0.1.0.dev0"

__all__ = [
    "LATEST_VERSION",
    "SCHEMA_VERSIONS",
    "TABLE_TYPES",
    "AgnoAlembicError",
    "BlockedByDataError",
    "ConfigurationError",
    "DDLLockTimeoutError",
    "DataVerificationError",
    "Difference",
    "DowngradeRefusedError",
    "Finding",
    "LockError",
    "LockInfo",
    "LockTimeoutError",
    "MigrationError",
    "MigrationManager",
    "OfflineSQLError",
    "PartiallyAppliedError",
    "Plan",
    "PlannedStatement",
    "PlannedStep",
    "RewriteRefusedError",
    "SyncMigrationManager",
    "TableChange",
    "TableReport",
    "TableStatus",
    "TableType",
    "UnknownTableTypeError",
    "UnknownVersionError",
    "UnsupportedBackendError",
    "V1ImportIncompleteError",
    "VerifyReport",
    "__version__",
]
