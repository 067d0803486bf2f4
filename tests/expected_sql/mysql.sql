CREATE TABLE ai.agno_alembic_version (
    version_num VARCHAR(128) NOT NULL, 
    CONSTRAINT agno_alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> agno_sessions_2_0_0

CREATE TABLE ai.agno_sessions (
    session_id VARCHAR(128) NOT NULL, 
    session_type VARCHAR(20) NOT NULL, 
    agent_id VARCHAR(128), 
    team_id VARCHAR(128), 
    workflow_id VARCHAR(128), 
    user_id VARCHAR(128), 
    session_data JSON, 
    agent_data JSON, 
    team_data JSON, 
    workflow_data JSON, 
    metadata JSON, 
    runs JSON, 
    summary JSON, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    CONSTRAINT agno_sessions_uq_session_id UNIQUE (session_id)
);

CREATE INDEX idx_agno_sessions_created_at ON ai.agno_sessions (created_at);

CREATE INDEX idx_agno_sessions_session_type ON ai.agno_sessions (session_type);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_sessions_2_0_0');

-- agno_sessions is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade  -> agno_versions_2_3_0

CREATE TABLE ai.agno_schema_versions (
    table_name VARCHAR(128) NOT NULL, 
    version VARCHAR(10) NOT NULL, 
    created_at VARCHAR(128) NOT NULL, 
    updated_at VARCHAR(128), 
    PRIMARY KEY (table_name)
);

CREATE INDEX idx_agno_schema_versions_created_at ON ai.agno_schema_versions (created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_versions_2_3_0');

-- Running upgrade agno_sessions_2_0_0 -> agno_sessions_2_3_0

DELETE FROM ai.agno_alembic_version WHERE ai.agno_alembic_version.version_num = 'agno_sessions_2_0_0';

UPDATE ai.agno_alembic_version SET version_num='agno_sessions_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_versions_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '2.3.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade agno_sessions_2_3_0 -> agno_sessions_2_5_0

-- agno_sessions: unique_session_ids (check) has nothing to do: the table holds no row;

ALTER TABLE ai.agno_sessions ADD CONSTRAINT agno_sessions_pkey PRIMARY KEY (session_id);

ALTER TABLE ai.agno_sessions DROP INDEX agno_sessions_uq_session_id;

UPDATE ai.agno_alembic_version SET version_num='agno_sessions_2_5_0' WHERE ai.agno_alembic_version.version_num = 'agno_sessions_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '2.5.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade agno_sessions_2_5_0 -> agno_sessions_2_5_6

UPDATE ai.agno_alembic_version SET version_num='agno_sessions_2_5_6' WHERE ai.agno_alembic_version.version_num = 'agno_sessions_2_5_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '2.5.6', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade  -> agno_runs_3_0_0

CREATE TABLE ai.agno_runs (
    run_id VARCHAR(128) NOT NULL, 
    session_id VARCHAR(128) NOT NULL, 
    run_type VARCHAR(20) NOT NULL, 
    agent_id VARCHAR(128), 
    team_id VARCHAR(128), 
    workflow_id VARCHAR(128), 
    user_id VARCHAR(128), 
    parent_run_id VARCHAR(128), 
    status VARCHAR(50), 
    run_index BIGINT, 
    run_data JSON NOT NULL, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (run_id), 
    FOREIGN KEY(session_id) REFERENCES ai.agno_sessions (session_id) ON DELETE CASCADE
);

CREATE INDEX idx_agno_runs_agent_id ON ai.agno_runs (agent_id);

CREATE INDEX idx_agno_runs_created_at ON ai.agno_runs (created_at);

CREATE INDEX idx_agno_runs_run_type ON ai.agno_runs (run_type);

CREATE INDEX idx_agno_runs_session_id ON ai.agno_runs (session_id);

CREATE INDEX idx_agno_runs_status ON ai.agno_runs (status);

CREATE INDEX idx_agno_runs_team_id ON ai.agno_runs (team_id);

CREATE INDEX idx_agno_runs_user_id ON ai.agno_runs (user_id);

CREATE INDEX idx_agno_runs_workflow_id ON ai.agno_runs (workflow_id);

CREATE INDEX agno_runs_runs_session_id_run_index ON ai.agno_runs (session_id, run_index);

UPDATE ai.agno_alembic_version SET version_num='agno_runs_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_sessions_2_5_6';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_runs', '3.0.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade agno_sessions_2_5_6 -> agno_sessions_3_0_0

-- agno_sessions.runs -> agno_runs: nothing to copy, no session holds runs;

ALTER TABLE ai.agno_sessions DROP COLUMN runs;

UPDATE ai.agno_alembic_version SET version_num='agno_sessions_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_runs_3_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '3.0.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade  -> agno_memories_2_0_0

CREATE TABLE ai.agno_memories (
    memory_id VARCHAR(128) NOT NULL, 
    memory JSON NOT NULL, 
    input TEXT, 
    agent_id VARCHAR(128), 
    team_id VARCHAR(128), 
    user_id VARCHAR(128), 
    topics JSON, 
    updated_at BIGINT, 
    PRIMARY KEY (memory_id)
);

CREATE INDEX idx_agno_memories_updated_at ON ai.agno_memories (updated_at);

CREATE INDEX idx_agno_memories_user_id ON ai.agno_memories (user_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_memories_2_0_0');

-- agno_memories is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_memories_2_0_0 -> agno_memories_2_3_0

ALTER TABLE ai.agno_memories ADD COLUMN feedback TEXT;

ALTER TABLE ai.agno_memories ADD COLUMN created_at BIGINT;

UPDATE ai.agno_memories SET created_at=coalesce(ai.agno_memories.updated_at, <epoch>);

ALTER TABLE ai.agno_memories MODIFY created_at BIGINT NOT NULL;

CREATE INDEX idx_agno_memories_created_at ON ai.agno_memories (created_at);

UPDATE ai.agno_alembic_version SET version_num='agno_memories_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_memories_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_memories', '3.0.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade  -> agno_metrics_2_0_0

CREATE TABLE ai.agno_metrics (
    id VARCHAR(128) NOT NULL, 
    agent_runs_count BIGINT NOT NULL, 
    team_runs_count BIGINT NOT NULL, 
    workflow_runs_count BIGINT NOT NULL, 
    agent_sessions_count BIGINT NOT NULL, 
    team_sessions_count BIGINT NOT NULL, 
    workflow_sessions_count BIGINT NOT NULL, 
    users_count BIGINT NOT NULL, 
    token_metrics JSON NOT NULL, 
    model_metrics JSON NOT NULL, 
    date DATE NOT NULL, 
    aggregation_period VARCHAR(20) NOT NULL, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    completed BOOL NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT agno_metrics_uq_metrics_date_period UNIQUE (date, aggregation_period)
);

CREATE INDEX idx_agno_metrics_date ON ai.agno_metrics (date);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_metrics_2_0_0');

-- agno_metrics is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_metrics_2_0_0 -> agno_metrics_2_3_0

UPDATE ai.agno_alembic_version SET version_num='agno_metrics_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_metrics_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_metrics', '2.5.6', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade agno_metrics_2_3_0 -> agno_metrics_3_0_0

ALTER TABLE ai.agno_metrics ADD COLUMN user_id VARCHAR(128);

UPDATE ai.agno_metrics SET user_id='';

ALTER TABLE ai.agno_metrics MODIFY user_id VARCHAR(128) NOT NULL;

ALTER TABLE ai.agno_metrics ADD CONSTRAINT agno_metrics_uq_metrics_user_date_period UNIQUE (user_id, date, aggregation_period);

CREATE INDEX idx_agno_metrics_user_id ON ai.agno_metrics (user_id);

ALTER TABLE ai.agno_metrics DROP INDEX agno_metrics_uq_metrics_date_period;

-- agno_metrics: drop_newest_unfinished_metrics_day (data rule) has nothing to do: the table holds no row;

UPDATE ai.agno_alembic_version SET version_num='agno_metrics_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_metrics_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_metrics', '3.0.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade  -> agno_evals_2_0_0

CREATE TABLE ai.agno_eval_runs (
    run_id VARCHAR(128) NOT NULL, 
    eval_type VARCHAR(50) NOT NULL, 
    eval_data JSON NOT NULL, 
    eval_input JSON NOT NULL, 
    name VARCHAR(255), 
    agent_id VARCHAR(128), 
    team_id VARCHAR(128), 
    workflow_id VARCHAR(128), 
    model_id VARCHAR(128), 
    model_provider VARCHAR(128), 
    evaluated_component_name VARCHAR(255), 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (run_id)
);

CREATE INDEX idx_agno_eval_runs_created_at ON ai.agno_eval_runs (created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_evals_2_0_0');

-- agno_eval_runs is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_evals_2_0_0 -> agno_evals_2_3_0

UPDATE ai.agno_alembic_version SET version_num='agno_evals_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_evals_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_eval_runs', '2.5.6', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade agno_evals_2_3_0 -> agno_evals_3_0_0

ALTER TABLE ai.agno_eval_runs ADD COLUMN user_id VARCHAR(128);

CREATE INDEX idx_agno_eval_runs_user_id ON ai.agno_eval_runs (user_id);

UPDATE ai.agno_alembic_version SET version_num='agno_evals_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_evals_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_eval_runs', '3.0.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade  -> agno_knowledge_2_0_0

CREATE TABLE ai.agno_knowledge (
    id VARCHAR(128) NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    description TEXT NOT NULL, 
    metadata JSON, 
    type VARCHAR(50), 
    size BIGINT, 
    linked_to VARCHAR(128), 
    access_count BIGINT, 
    created_at BIGINT, 
    updated_at BIGINT, 
    status VARCHAR(50), 
    status_message TEXT, 
    external_id VARCHAR(128), 
    PRIMARY KEY (id)
);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_knowledge_2_0_0');

-- agno_knowledge is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_knowledge_2_0_0 -> agno_knowledge_2_3_0

UPDATE ai.agno_alembic_version SET version_num='agno_knowledge_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_knowledge_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_knowledge', '2.5.6', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade agno_knowledge_2_3_0 -> agno_knowledge_3_0_0

ALTER TABLE ai.agno_knowledge ADD COLUMN user_id VARCHAR(128);

CREATE INDEX idx_agno_knowledge_user_id ON ai.agno_knowledge (user_id);

UPDATE ai.agno_alembic_version SET version_num='agno_knowledge_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_knowledge_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_knowledge', '3.0.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade  -> agno_culture_2_0_0

CREATE TABLE ai.agno_culture (
    id VARCHAR(128) NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    summary TEXT, 
    content JSON, 
    metadata JSON, 
    input TEXT, 
    created_at BIGINT, 
    updated_at BIGINT, 
    agent_id VARCHAR(128), 
    team_id VARCHAR(128), 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_culture_name ON ai.agno_culture (name);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_culture_2_0_0');

-- agno_culture is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_culture_2_0_0 -> agno_culture_2_3_0

UPDATE ai.agno_alembic_version SET version_num='agno_culture_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_culture_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_culture', '2.5.6', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade  -> agno_traces_2_3_0

CREATE TABLE ai.agno_traces (
    trace_id VARCHAR(128) NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    status VARCHAR(50) NOT NULL, 
    start_time VARCHAR(128) NOT NULL, 
    end_time VARCHAR(128) NOT NULL, 
    duration_ms BIGINT NOT NULL, 
    run_id VARCHAR(128), 
    session_id VARCHAR(128), 
    user_id VARCHAR(128), 
    agent_id VARCHAR(128), 
    team_id VARCHAR(128), 
    workflow_id VARCHAR(128), 
    created_at VARCHAR(128) NOT NULL, 
    PRIMARY KEY (trace_id)
);

CREATE INDEX idx_agno_traces_agent_id ON ai.agno_traces (agent_id);

CREATE INDEX idx_agno_traces_created_at ON ai.agno_traces (created_at);

CREATE INDEX idx_agno_traces_run_id ON ai.agno_traces (run_id);

CREATE INDEX idx_agno_traces_session_id ON ai.agno_traces (session_id);

CREATE INDEX idx_agno_traces_start_time ON ai.agno_traces (start_time);

CREATE INDEX idx_agno_traces_status ON ai.agno_traces (status);

CREATE INDEX idx_agno_traces_team_id ON ai.agno_traces (team_id);

CREATE INDEX idx_agno_traces_user_id ON ai.agno_traces (user_id);

CREATE INDEX idx_agno_traces_workflow_id ON ai.agno_traces (workflow_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_traces_2_3_0');

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_traces', '3.0.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade  -> agno_spans_2_3_0

CREATE TABLE ai.agno_spans (
    span_id VARCHAR(128) NOT NULL, 
    trace_id VARCHAR(128) NOT NULL, 
    parent_span_id VARCHAR(128), 
    name VARCHAR(255) NOT NULL, 
    span_kind VARCHAR(50) NOT NULL, 
    status_code VARCHAR(50) NOT NULL, 
    status_message TEXT, 
    start_time VARCHAR(128) NOT NULL, 
    end_time VARCHAR(128) NOT NULL, 
    duration_ms BIGINT NOT NULL, 
    attributes JSON, 
    created_at VARCHAR(128) NOT NULL, 
    PRIMARY KEY (span_id), 
    FOREIGN KEY(trace_id) REFERENCES ai.agno_traces (trace_id)
);

CREATE INDEX idx_agno_spans_created_at ON ai.agno_spans (created_at);

CREATE INDEX idx_agno_spans_parent_span_id ON ai.agno_spans (parent_span_id);

CREATE INDEX idx_agno_spans_start_time ON ai.agno_spans (start_time);

CREATE INDEX idx_agno_spans_trace_id ON ai.agno_spans (trace_id);

UPDATE ai.agno_alembic_version SET version_num='agno_spans_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_traces_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_spans', '3.0.0', '<now>', '<now>') ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at);

-- Running upgrade  -> agno_components_2_3_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_components_2_3_0');

-- Running upgrade agno_components_2_3_0 -> agno_components_3_0_0

UPDATE ai.agno_alembic_version SET version_num='agno_components_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_components_2_3_0';

-- Running upgrade  -> agno_component_configs_2_3_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_component_configs_2_3_0');

-- Running upgrade agno_component_configs_2_3_0 -> agno_component_configs_2_5_0

UPDATE ai.agno_alembic_version SET version_num='agno_component_configs_2_5_0' WHERE ai.agno_alembic_version.version_num = 'agno_component_configs_2_3_0';

-- Running upgrade  -> agno_component_links_2_3_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_component_links_2_3_0');

-- Running upgrade agno_component_links_2_3_0 -> agno_component_links_2_5_0

UPDATE ai.agno_alembic_version SET version_num='agno_component_links_2_5_0' WHERE ai.agno_alembic_version.version_num = 'agno_component_links_2_3_0';

-- Running upgrade  -> agno_learnings_2_3_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_learnings_2_3_0');

-- Running upgrade agno_learnings_2_3_0 -> agno_learnings_3_0_0

UPDATE ai.agno_alembic_version SET version_num='agno_learnings_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_learnings_2_3_0';

-- Running upgrade  -> agno_schedules_2_5_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_schedules_2_5_0');

-- Running upgrade agno_schedules_2_5_0 -> agno_schedules_3_0_0

UPDATE ai.agno_alembic_version SET version_num='agno_schedules_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_schedules_2_5_0';

-- Running upgrade  -> agno_schedule_runs_2_5_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_schedule_runs_2_5_0');

-- Running upgrade agno_schedule_runs_2_5_0 -> agno_schedule_runs_3_0_0

UPDATE ai.agno_alembic_version SET version_num='agno_schedule_runs_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_schedule_runs_2_5_0';

-- Running upgrade  -> agno_approvals_2_5_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_approvals_2_5_0');

-- Running upgrade agno_approvals_2_5_0 -> agno_approvals_2_5_6

UPDATE ai.agno_alembic_version SET version_num='agno_approvals_2_5_6' WHERE ai.agno_alembic_version.version_num = 'agno_approvals_2_5_0';

-- Running upgrade  -> agno_auth_tokens_2_5_6

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_auth_tokens_2_5_6');

-- Running upgrade  -> agno_service_accounts_2_5_6

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_service_accounts_2_5_6');

-- Running upgrade  -> agno_mcp_oauth_clients_2_5_6

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_clients_2_5_6');

-- Running upgrade  -> agno_mcp_oauth_transactions_2_5_6

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_transactions_2_5_6');

-- Running upgrade  -> agno_mcp_oauth_codes_2_5_6

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_codes_2_5_6');

-- Running upgrade  -> agno_mcp_oauth_refresh_tokens_2_5_6

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_refresh_tokens_2_5_6');

-- Running upgrade  -> agno_mcp_oauth_keys_2_5_6

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_keys_2_5_6');

-- Running upgrade  -> agno_transcripts_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_transcripts_3_0_0');

-- Running upgrade  -> agno_sources_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_sources_3_0_0');

-- Running upgrade  -> agno_products_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_products_3_0_0');

-- Running upgrade  -> agno_projects_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_projects_3_0_0');

-- Running upgrade  -> agno_tasks_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_tasks_3_0_0');

-- Running upgrade  -> agno_tool_results_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_tool_results_3_0_0');

-- Running upgrade  -> agno_compactions_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_compactions_3_0_0');

-- Running upgrade  -> agno_authz_policy_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_policy_3_0_0');

-- Running upgrade  -> agno_authz_grouping_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_grouping_3_0_0');

-- Running upgrade  -> agno_authz_roles_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_roles_3_0_0');

-- Running upgrade  -> agno_authz_users_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_users_3_0_0');

-- Running upgrade  -> agno_authz_audit_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_audit_3_0_0');

-- Running upgrade  -> agno_authz_decisions_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_decisions_3_0_0');

-- Running upgrade  -> agno_jobs_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_jobs_3_0_0');

-- Running upgrade  -> agno_sandbox_bindings_3_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_sandbox_bindings_3_0_0');

-- Running upgrade  -> agno_vectors_2_0_0

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_vectors_2_0_0');

-- Running upgrade agno_vectors_2_0_0 -> agno_vectors_3_0_0

UPDATE ai.agno_alembic_version SET version_num='agno_vectors_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_vectors_2_0_0';

