"""Shapes of the authentication and authorization tables: auth tokens, service accounts, MCP OAuth, authz."""

from agno_alembic.dialects import BIGINT, BOOL, JSON, STR, TEXT
from agno_alembic.shapes._dsl import Column, Index, Shape, Unique

AUTH_TOKENS = Shape(
    "auth_tokens",
    Column("id", STR, primary_key=True),
    Column("provider", STR, nullable=False),
    Column("user_id", STR, nullable=False),
    Column("service", STR, nullable=False),
    Column("token_data", JSON, nullable=False),
    Column("granted_scopes", JSON),
    Column("created_at", BIGINT, nullable=False),
    Column("updated_at", BIGINT),
    Unique("provider", "user_id", "service", name="{T}_uq_auth_token_provider_user_service"),
    Index("created_at"),
    Index("provider"),
    Index("service"),
    Index("user_id"),
)

SERVICE_ACCOUNTS = Shape(
    "service_accounts",
    Column("id", STR, primary_key=True),
    Column("name", STR, nullable=False),
    Column("user_id", STR),
    Column("token_hash", STR, nullable=False, unique=True),
    Column("token_prefix", STR, nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", BIGINT, nullable=False),
    Column("expires_at", BIGINT),
    Column("last_used_at", BIGINT),
    Column("revoked_at", BIGINT),
    Column("created_by", STR),
    Index("created_at"),
    Index("token_hash"),
    Index("name", name="{T}_uq_active_name", unique=True, where="revoked_at IS NULL"),
)

MCP_OAUTH_CLIENTS = Shape(
    "mcp_oauth_clients",
    Column("client_id", STR, primary_key=True),
    Column("client_metadata", TEXT, nullable=False),
    Column("created_at", BIGINT, nullable=False),
    Column("consumed_at", BIGINT),
    Index("created_at"),
)

MCP_OAUTH_TRANSACTIONS = Shape(
    "mcp_oauth_transactions",
    Column("txn_id", STR, primary_key=True),
    Column("client_id", STR, nullable=False),
    Column("params", TEXT, nullable=False),
    Column("expires_at", BIGINT, nullable=False),
    Index("expires_at"),
)

MCP_OAUTH_CODES = Shape(
    "mcp_oauth_codes",
    Column("code_hash", STR, primary_key=True),
    Column("payload", TEXT, nullable=False),
    Column("expires_at", BIGINT, nullable=False),
    Index("expires_at"),
)

MCP_OAUTH_REFRESH_TOKENS = Shape(
    "mcp_oauth_refresh_tokens",
    Column("token_hash", STR, primary_key=True),
    Column("client_id", STR, nullable=False),
    Column("scopes", TEXT, nullable=False),
    Column("expires_at", BIGINT, nullable=False),
    Column("family_id", STR, nullable=False),
    Index("expires_at"),
    Index("family_id"),
)

MCP_OAUTH_KEYS = Shape(
    "mcp_oauth_keys",
    Column("kid", STR, primary_key=True),
    Column("secret", TEXT, nullable=False),
    Column("created_at", BIGINT, nullable=False),
    Index("created_at"),
)

AUTHZ_POLICY = Shape(
    "authz_policy",
    Column("role", STR, primary_key=True),
    Column("resource", STR, primary_key=True),
    Column("action", STR, primary_key=True),
    Column("effect", STR, nullable=False),
)

AUTHZ_GROUPING = Shape(
    "authz_grouping",
    Column("subject", STR, primary_key=True),
    Column("role", STR, primary_key=True),
    Index("role"),
)

AUTHZ_ROLES = Shape(
    "authz_roles",
    Column("slug", STR, primary_key=True),
    Column("name", STR),
    Column("description", TEXT),
    Column("is_default", BOOL, nullable=False),
    Column("created_at", BIGINT, nullable=False),
    Column("updated_at", BIGINT, nullable=False),
)

AUTHZ_USERS = Shape(
    "authz_users",
    Column("id", STR, primary_key=True),
    Column("email", STR),
    Column("name", STR),
    Column("disabled", BOOL, nullable=False),
    Column("created_at", BIGINT, nullable=False),
    Column("updated_at", BIGINT, nullable=False),
    Column("user_metadata", TEXT),
    Index("created_at"),
    Index("updated_at"),
)

AUTHZ_AUDIT = Shape(
    "authz_audit",
    Column("event_id", STR, primary_key=True),
    Column("created_at", BIGINT, nullable=False),
    Column("actor", STR),
    Column("action", STR, nullable=False),
    Column("target", STR),
    Column("before", TEXT),
    Column("after", TEXT),
    Index("created_at"),
)

AUTHZ_DECISIONS = Shape(
    "authz_decisions",
    Column("event_id", STR, primary_key=True),
    Column("created_at", BIGINT, nullable=False),
    Column("actor", STR),
    Column("action", STR, nullable=False),
    Column("target", TEXT),
    Column("token_ref", STR),
    Column("required", TEXT),
    Column("scopes", TEXT),
    Index("created_at"),
)
