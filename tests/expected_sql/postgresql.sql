CREATE SCHEMA IF NOT EXISTS ai;

BEGIN;

CREATE TABLE ai.agno_alembic_version (
    version_num VARCHAR(128) NOT NULL, 
    CONSTRAINT agno_alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> agno_sessions_2_0_0

CREATE TABLE ai.agno_sessions (
    session_id VARCHAR NOT NULL, 
    session_type VARCHAR NOT NULL, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    workflow_id VARCHAR, 
    user_id VARCHAR, 
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

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_sessions_2_0_0') RETURNING ai.agno_alembic_version.version_num;

-- agno_sessions is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

COMMIT;

BEGIN;

-- Running upgrade  -> agno_versions_2_3_0

CREATE TABLE ai.agno_schema_versions (
    table_name VARCHAR NOT NULL, 
    version VARCHAR NOT NULL, 
    created_at VARCHAR NOT NULL, 
    updated_at VARCHAR, 
    PRIMARY KEY (table_name)
);

CREATE INDEX idx_agno_schema_versions_created_at ON ai.agno_schema_versions (created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_versions_2_3_0') RETURNING ai.agno_alembic_version.version_num;

COMMIT;

BEGIN;

-- Running upgrade agno_sessions_2_0_0 -> agno_sessions_2_3_0

ALTER TABLE ai.agno_sessions ALTER COLUMN session_data TYPE JSONB USING session_data::JSONB;

ALTER TABLE ai.agno_sessions ALTER COLUMN session_data DROP NOT NULL;

ALTER TABLE ai.agno_sessions ALTER COLUMN agent_data TYPE JSONB USING agent_data::JSONB;

ALTER TABLE ai.agno_sessions ALTER COLUMN agent_data DROP NOT NULL;

ALTER TABLE ai.agno_sessions ALTER COLUMN team_data TYPE JSONB USING team_data::JSONB;

ALTER TABLE ai.agno_sessions ALTER COLUMN team_data DROP NOT NULL;

ALTER TABLE ai.agno_sessions ALTER COLUMN workflow_data TYPE JSONB USING workflow_data::JSONB;

ALTER TABLE ai.agno_sessions ALTER COLUMN workflow_data DROP NOT NULL;

ALTER TABLE ai.agno_sessions ALTER COLUMN metadata TYPE JSONB USING metadata::JSONB;

ALTER TABLE ai.agno_sessions ALTER COLUMN metadata DROP NOT NULL;

ALTER TABLE ai.agno_sessions ALTER COLUMN runs TYPE JSONB USING runs::JSONB;

ALTER TABLE ai.agno_sessions ALTER COLUMN runs DROP NOT NULL;

ALTER TABLE ai.agno_sessions ALTER COLUMN summary TYPE JSONB USING summary::JSONB;

ALTER TABLE ai.agno_sessions ALTER COLUMN summary DROP NOT NULL;

DELETE FROM ai.agno_alembic_version WHERE ai.agno_alembic_version.version_num = 'agno_sessions_2_0_0';

UPDATE ai.agno_alembic_version SET version_num='agno_sessions_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_versions_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '2.3.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_sessions_2_3_0 -> agno_sessions_2_5_0

-- agno_sessions: unique_session_ids (check) has nothing to do: the table holds no row;

ALTER TABLE ai.agno_sessions ADD CONSTRAINT agno_sessions_pkey PRIMARY KEY (session_id);

ALTER TABLE ai.agno_sessions DROP CONSTRAINT agno_sessions_uq_session_id;

UPDATE ai.agno_alembic_version SET version_num='agno_sessions_2_5_0' WHERE ai.agno_alembic_version.version_num = 'agno_sessions_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '2.5.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_sessions_2_5_0 -> agno_sessions_2_5_6

UPDATE ai.agno_alembic_version SET version_num='agno_sessions_2_5_6' WHERE ai.agno_alembic_version.version_num = 'agno_sessions_2_5_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_runs_3_0_0

CREATE TABLE ai.agno_runs (
    run_id VARCHAR NOT NULL, 
    session_id VARCHAR NOT NULL, 
    run_type VARCHAR NOT NULL, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    workflow_id VARCHAR, 
    user_id VARCHAR, 
    parent_run_id VARCHAR, 
    status VARCHAR, 
    run_index BIGINT, 
    run_data JSONB NOT NULL, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (run_id), 
    FOREIGN KEY(session_id) REFERENCES ai.agno_sessions (session_id) ON DELETE CASCADE
);

CREATE INDEX idx_agno_runs_agent_id ON ai.agno_runs (agent_id);

CREATE INDEX idx_agno_runs_created_at ON ai.agno_runs (created_at);

CREATE INDEX idx_agno_runs_run_type ON ai.agno_runs (run_type);

CREATE INDEX idx_agno_runs_session_id ON ai.agno_runs (session_id);

CREATE INDEX idx_agno_runs_session_id_run_index ON ai.agno_runs (session_id, run_index);

CREATE INDEX idx_agno_runs_status ON ai.agno_runs (status);

CREATE INDEX idx_agno_runs_team_id ON ai.agno_runs (team_id);

CREATE INDEX idx_agno_runs_user_id ON ai.agno_runs (user_id);

CREATE INDEX idx_agno_runs_workflow_id ON ai.agno_runs (workflow_id);

UPDATE ai.agno_alembic_version SET version_num='agno_runs_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_sessions_2_5_6';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_runs', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_sessions_2_5_6 -> agno_sessions_3_0_0

-- agno_sessions.runs -> agno_runs: nothing to copy, no session holds runs;

ALTER TABLE ai.agno_sessions DROP COLUMN runs;

UPDATE ai.agno_alembic_version SET version_num='agno_sessions_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_runs_3_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_memories_2_0_0

CREATE TABLE ai.agno_memories (
    memory_id VARCHAR NOT NULL, 
    memory JSON NOT NULL, 
    input VARCHAR, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    user_id VARCHAR, 
    topics JSON, 
    updated_at BIGINT, 
    PRIMARY KEY (memory_id)
);

CREATE INDEX idx_agno_memories_updated_at ON ai.agno_memories (updated_at);

CREATE INDEX idx_agno_memories_user_id ON ai.agno_memories (user_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_memories_2_0_0') RETURNING ai.agno_alembic_version.version_num;

-- agno_memories is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

COMMIT;

BEGIN;

-- Running upgrade agno_memories_2_0_0 -> agno_memories_2_3_0

ALTER TABLE ai.agno_memories ADD COLUMN feedback TEXT;

ALTER TABLE ai.agno_memories ADD COLUMN created_at BIGINT;

UPDATE ai.agno_memories SET created_at=coalesce(ai.agno_memories.updated_at, <epoch>);

ALTER TABLE ai.agno_memories ALTER COLUMN created_at SET NOT NULL;

ALTER TABLE ai.agno_memories ALTER COLUMN memory TYPE JSONB USING memory::JSONB;

ALTER TABLE ai.agno_memories ALTER COLUMN memory SET NOT NULL;

ALTER TABLE ai.agno_memories ALTER COLUMN input TYPE TEXT USING input::TEXT;

ALTER TABLE ai.agno_memories ALTER COLUMN input DROP NOT NULL;

ALTER TABLE ai.agno_memories ALTER COLUMN topics TYPE JSONB USING topics::JSONB;

ALTER TABLE ai.agno_memories ALTER COLUMN topics DROP NOT NULL;

CREATE INDEX idx_agno_memories_created_at ON ai.agno_memories (created_at);

UPDATE ai.agno_alembic_version SET version_num='agno_memories_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_memories_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_memories', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_metrics_2_0_0

CREATE TABLE ai.agno_metrics (
    id VARCHAR NOT NULL, 
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
    aggregation_period VARCHAR NOT NULL, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    completed BOOLEAN NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT agno_metrics_uq_metrics_date_period UNIQUE (date, aggregation_period)
);

CREATE INDEX idx_agno_metrics_date ON ai.agno_metrics (date);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_metrics_2_0_0') RETURNING ai.agno_alembic_version.version_num;

-- agno_metrics is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

COMMIT;

BEGIN;

-- Running upgrade agno_metrics_2_0_0 -> agno_metrics_2_3_0

ALTER TABLE ai.agno_metrics ALTER COLUMN token_metrics TYPE JSONB USING token_metrics::JSONB;

ALTER TABLE ai.agno_metrics ALTER COLUMN token_metrics SET NOT NULL;

ALTER TABLE ai.agno_metrics ALTER COLUMN model_metrics TYPE JSONB USING model_metrics::JSONB;

ALTER TABLE ai.agno_metrics ALTER COLUMN model_metrics SET NOT NULL;

UPDATE ai.agno_alembic_version SET version_num='agno_metrics_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_metrics_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_metrics', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_metrics_2_3_0 -> agno_metrics_3_0_0

ALTER TABLE ai.agno_metrics ADD COLUMN user_id VARCHAR;

UPDATE ai.agno_metrics SET user_id='';

ALTER TABLE ai.agno_metrics ALTER COLUMN user_id SET NOT NULL;

ALTER TABLE ai.agno_metrics ADD CONSTRAINT agno_metrics_uq_metrics_user_date_period UNIQUE (user_id, date, aggregation_period);

CREATE INDEX idx_agno_metrics_user_id ON ai.agno_metrics (user_id);

ALTER TABLE ai.agno_metrics DROP CONSTRAINT agno_metrics_uq_metrics_date_period;

-- agno_metrics: drop_newest_unfinished_metrics_day (data rule) has nothing to do: the table holds no row;

UPDATE ai.agno_alembic_version SET version_num='agno_metrics_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_metrics_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_metrics', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_evals_2_0_0

CREATE TABLE ai.agno_eval_runs (
    run_id VARCHAR NOT NULL, 
    eval_type VARCHAR NOT NULL, 
    eval_data JSON NOT NULL, 
    eval_input JSON NOT NULL, 
    name VARCHAR, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    workflow_id VARCHAR, 
    model_id VARCHAR, 
    model_provider VARCHAR, 
    evaluated_component_name VARCHAR, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (run_id)
);

CREATE INDEX idx_agno_eval_runs_created_at ON ai.agno_eval_runs (created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_evals_2_0_0') RETURNING ai.agno_alembic_version.version_num;

-- agno_eval_runs is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

COMMIT;

BEGIN;

-- Running upgrade agno_evals_2_0_0 -> agno_evals_2_3_0

ALTER TABLE ai.agno_eval_runs ALTER COLUMN eval_data TYPE JSONB USING eval_data::JSONB;

ALTER TABLE ai.agno_eval_runs ALTER COLUMN eval_data SET NOT NULL;

ALTER TABLE ai.agno_eval_runs ALTER COLUMN eval_input TYPE JSONB USING eval_input::JSONB;

ALTER TABLE ai.agno_eval_runs ALTER COLUMN eval_input SET NOT NULL;

UPDATE ai.agno_alembic_version SET version_num='agno_evals_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_evals_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_eval_runs', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_evals_2_3_0 -> agno_evals_3_0_0

ALTER TABLE ai.agno_eval_runs ADD COLUMN user_id VARCHAR;

CREATE INDEX idx_agno_eval_runs_user_id ON ai.agno_eval_runs (user_id);

UPDATE ai.agno_alembic_version SET version_num='agno_evals_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_evals_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_eval_runs', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_knowledge_2_0_0

CREATE TABLE ai.agno_knowledge (
    id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    description VARCHAR NOT NULL, 
    metadata JSON, 
    type VARCHAR, 
    size BIGINT, 
    linked_to VARCHAR, 
    access_count BIGINT, 
    status VARCHAR, 
    status_message VARCHAR, 
    created_at BIGINT, 
    updated_at BIGINT, 
    external_id VARCHAR, 
    PRIMARY KEY (id)
);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_knowledge_2_0_0') RETURNING ai.agno_alembic_version.version_num;

-- agno_knowledge is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

COMMIT;

BEGIN;

-- Running upgrade agno_knowledge_2_0_0 -> agno_knowledge_2_3_0

ALTER TABLE ai.agno_knowledge ALTER COLUMN description TYPE TEXT USING description::TEXT;

ALTER TABLE ai.agno_knowledge ALTER COLUMN description SET NOT NULL;

ALTER TABLE ai.agno_knowledge ALTER COLUMN metadata TYPE JSONB USING metadata::JSONB;

ALTER TABLE ai.agno_knowledge ALTER COLUMN metadata DROP NOT NULL;

ALTER TABLE ai.agno_knowledge ALTER COLUMN status_message TYPE TEXT USING status_message::TEXT;

ALTER TABLE ai.agno_knowledge ALTER COLUMN status_message DROP NOT NULL;

UPDATE ai.agno_alembic_version SET version_num='agno_knowledge_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_knowledge_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_knowledge', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_knowledge_2_3_0 -> agno_knowledge_3_0_0

ALTER TABLE ai.agno_knowledge ADD COLUMN user_id VARCHAR;

CREATE INDEX idx_agno_knowledge_user_id ON ai.agno_knowledge (user_id);

CREATE INDEX idx_agno_knowledge_user_id_linked_to ON ai.agno_knowledge (user_id, linked_to);

UPDATE ai.agno_alembic_version SET version_num='agno_knowledge_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_knowledge_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_knowledge', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_culture_2_0_0

CREATE TABLE ai.agno_culture (
    id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    summary VARCHAR, 
    content JSONB, 
    metadata JSONB, 
    input VARCHAR, 
    created_at BIGINT, 
    updated_at BIGINT, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_culture_name ON ai.agno_culture (name);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_culture_2_0_0') RETURNING ai.agno_alembic_version.version_num;

-- agno_culture is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

COMMIT;

BEGIN;

-- Running upgrade agno_culture_2_0_0 -> agno_culture_2_3_0

ALTER TABLE ai.agno_culture ALTER COLUMN summary TYPE TEXT USING summary::TEXT;

ALTER TABLE ai.agno_culture ALTER COLUMN summary DROP NOT NULL;

ALTER TABLE ai.agno_culture ALTER COLUMN input TYPE TEXT USING input::TEXT;

ALTER TABLE ai.agno_culture ALTER COLUMN input DROP NOT NULL;

UPDATE ai.agno_alembic_version SET version_num='agno_culture_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_culture_2_0_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_culture', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_traces_2_3_0

CREATE TABLE ai.agno_traces (
    trace_id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    start_time VARCHAR NOT NULL, 
    end_time VARCHAR NOT NULL, 
    duration_ms BIGINT NOT NULL, 
    run_id VARCHAR, 
    session_id VARCHAR, 
    user_id VARCHAR, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    workflow_id VARCHAR, 
    created_at VARCHAR NOT NULL, 
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

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_traces_2_3_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_traces', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_spans_2_3_0

CREATE TABLE ai.agno_spans (
    span_id VARCHAR NOT NULL, 
    trace_id VARCHAR NOT NULL, 
    parent_span_id VARCHAR, 
    name VARCHAR NOT NULL, 
    span_kind VARCHAR NOT NULL, 
    status_code VARCHAR NOT NULL, 
    status_message TEXT, 
    start_time VARCHAR NOT NULL, 
    end_time VARCHAR NOT NULL, 
    duration_ms BIGINT NOT NULL, 
    attributes JSONB, 
    created_at VARCHAR NOT NULL, 
    PRIMARY KEY (span_id), 
    FOREIGN KEY(trace_id) REFERENCES ai.agno_traces (trace_id)
);

CREATE INDEX idx_agno_spans_created_at ON ai.agno_spans (created_at);

CREATE INDEX idx_agno_spans_parent_span_id ON ai.agno_spans (parent_span_id);

CREATE INDEX idx_agno_spans_start_time ON ai.agno_spans (start_time);

CREATE INDEX idx_agno_spans_trace_id ON ai.agno_spans (trace_id);

UPDATE ai.agno_alembic_version SET version_num='agno_spans_2_3_0' WHERE ai.agno_alembic_version.version_num = 'agno_traces_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_spans', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_components_2_3_0

CREATE TABLE ai.agno_components (
    component_id VARCHAR NOT NULL, 
    component_type VARCHAR NOT NULL, 
    name VARCHAR, 
    description TEXT, 
    current_version INTEGER, 
    metadata JSONB, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    PRIMARY KEY (component_id)
);

CREATE INDEX idx_agno_components_component_type ON ai.agno_components (component_type);

CREATE INDEX idx_agno_components_created_at ON ai.agno_components (created_at);

CREATE INDEX idx_agno_components_current_version ON ai.agno_components (current_version);

CREATE INDEX idx_agno_components_name ON ai.agno_components (name);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_components_2_3_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_components', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_components_2_3_0 -> agno_components_3_0_0

ALTER TABLE ai.agno_components ADD COLUMN user_id VARCHAR;

CREATE INDEX idx_agno_components_user_id ON ai.agno_components (user_id);

UPDATE ai.agno_alembic_version SET version_num='agno_components_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_components_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_components', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_component_configs_2_3_0

CREATE TABLE ai.agno_component_configs (
    component_id VARCHAR NOT NULL, 
    version INTEGER NOT NULL, 
    label VARCHAR, 
    stage VARCHAR NOT NULL, 
    config JSONB NOT NULL, 
    notes TEXT, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    PRIMARY KEY (component_id, version), 
    FOREIGN KEY(component_id) REFERENCES ai.agno_components (component_id)
);

CREATE INDEX idx_agno_component_configs_created_at ON ai.agno_component_configs (created_at);

CREATE INDEX idx_agno_component_configs_stage ON ai.agno_component_configs (stage);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_component_configs_2_3_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_component_configs', '2.3.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_component_configs_2_3_0 -> agno_component_configs_2_5_0

UPDATE ai.agno_alembic_version SET version_num='agno_component_configs_2_5_0' WHERE ai.agno_alembic_version.version_num = 'agno_component_configs_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_component_configs', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_component_links_2_3_0

CREATE TABLE ai.agno_component_links (
    parent_component_id VARCHAR NOT NULL, 
    parent_version INTEGER NOT NULL, 
    link_kind VARCHAR NOT NULL, 
    link_key VARCHAR NOT NULL, 
    child_component_id VARCHAR NOT NULL, 
    child_version INTEGER, 
    position INTEGER NOT NULL, 
    meta JSONB, 
    created_at BIGINT, 
    updated_at BIGINT, 
    PRIMARY KEY (parent_component_id, parent_version, link_kind, link_key), 
    FOREIGN KEY(child_component_id) REFERENCES ai.agno_components (component_id), 
    FOREIGN KEY(parent_component_id, parent_version) REFERENCES ai.agno_component_configs (component_id, version)
);

CREATE INDEX idx_agno_component_links_created_at ON ai.agno_component_links (created_at);

CREATE INDEX idx_agno_component_links_link_kind ON ai.agno_component_links (link_kind);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_component_links_2_3_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_component_links', '2.3.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_component_links_2_3_0 -> agno_component_links_2_5_0

UPDATE ai.agno_alembic_version SET version_num='agno_component_links_2_5_0' WHERE ai.agno_alembic_version.version_num = 'agno_component_links_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_component_links', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_learnings_2_3_0

CREATE TABLE ai.agno_learnings (
    learning_id VARCHAR NOT NULL, 
    learning_type VARCHAR NOT NULL, 
    namespace VARCHAR, 
    user_id VARCHAR, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    workflow_id VARCHAR, 
    session_id VARCHAR, 
    entity_id VARCHAR, 
    entity_type VARCHAR, 
    content JSONB NOT NULL, 
    metadata JSONB, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (learning_id)
);

CREATE INDEX idx_agno_learnings_agent_id ON ai.agno_learnings (agent_id);

CREATE INDEX idx_agno_learnings_created_at ON ai.agno_learnings (created_at);

CREATE INDEX idx_agno_learnings_entity_id ON ai.agno_learnings (entity_id);

CREATE INDEX idx_agno_learnings_entity_type ON ai.agno_learnings (entity_type);

CREATE INDEX idx_agno_learnings_learning_type ON ai.agno_learnings (learning_type);

CREATE INDEX idx_agno_learnings_namespace ON ai.agno_learnings (namespace);

CREATE INDEX idx_agno_learnings_session_id ON ai.agno_learnings (session_id);

CREATE INDEX idx_agno_learnings_team_id ON ai.agno_learnings (team_id);

CREATE INDEX idx_agno_learnings_user_id ON ai.agno_learnings (user_id);

CREATE INDEX idx_agno_learnings_workflow_id ON ai.agno_learnings (workflow_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_learnings_2_3_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_learnings', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_learnings_2_3_0 -> agno_learnings_3_0_0

-- agno_learnings: rekey_entities (data rule) has nothing to do: the table holds no row;

UPDATE ai.agno_alembic_version SET version_num='agno_learnings_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_learnings_2_3_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_learnings', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_schedules_2_5_0

CREATE TABLE ai.agno_schedules (
    id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    description TEXT, 
    method VARCHAR NOT NULL, 
    endpoint VARCHAR NOT NULL, 
    payload JSONB, 
    cron_expr VARCHAR NOT NULL, 
    timezone VARCHAR NOT NULL, 
    timeout_seconds BIGINT NOT NULL, 
    max_retries BIGINT NOT NULL, 
    retry_delay_seconds BIGINT NOT NULL, 
    enabled BOOLEAN NOT NULL, 
    next_run_at BIGINT, 
    locked_by VARCHAR, 
    locked_at BIGINT, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_schedules_created_at ON ai.agno_schedules (created_at);

CREATE INDEX idx_agno_schedules_enabled_next_run_at ON ai.agno_schedules (enabled, next_run_at);

CREATE INDEX idx_agno_schedules_name ON ai.agno_schedules (name);

CREATE INDEX idx_agno_schedules_next_run_at ON ai.agno_schedules (next_run_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_schedules_2_5_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_schedules', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_schedules_2_5_0 -> agno_schedules_3_0_0

-- agno_schedules: unique_schedule_names (check) has nothing to do: the table holds no row;

ALTER TABLE ai.agno_schedules ADD COLUMN user_id VARCHAR;

ALTER TABLE ai.agno_schedules ADD COLUMN managed_by VARCHAR;

ALTER TABLE ai.agno_schedules ADD COLUMN target_type VARCHAR;

ALTER TABLE ai.agno_schedules ADD COLUMN target_id VARCHAR;

ALTER TABLE ai.agno_schedules ADD COLUMN created_by_run_id VARCHAR;

ALTER TABLE ai.agno_schedules ADD COLUMN created_by_session_id VARCHAR;

ALTER TABLE ai.agno_schedules ADD COLUMN updated_by_run_id VARCHAR;

ALTER TABLE ai.agno_schedules ADD COLUMN updated_by_session_id VARCHAR;

ALTER TABLE ai.agno_schedules ADD COLUMN disabled_reason VARCHAR;

CREATE INDEX idx_agno_schedules_managed_by ON ai.agno_schedules (managed_by);

CREATE INDEX idx_agno_schedules_target_id ON ai.agno_schedules (target_id);

CREATE INDEX idx_agno_schedules_user_id ON ai.agno_schedules (user_id);

CREATE INDEX idx_agno_schedules_user_id_enabled_next_run_at ON ai.agno_schedules (user_id, enabled, next_run_at);

CREATE UNIQUE INDEX agno_schedules_uq_unowned_name ON ai.agno_schedules (name) WHERE user_id IS NULL;

CREATE UNIQUE INDEX agno_schedules_uq_user_name ON ai.agno_schedules (user_id, name) WHERE user_id IS NOT NULL;

UPDATE ai.agno_alembic_version SET version_num='agno_schedules_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_schedules_2_5_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_schedules', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_schedule_runs_2_5_0

CREATE TABLE ai.agno_schedule_runs (
    id VARCHAR NOT NULL, 
    schedule_id VARCHAR NOT NULL, 
    attempt BIGINT NOT NULL, 
    triggered_at BIGINT, 
    completed_at BIGINT, 
    status VARCHAR NOT NULL, 
    status_code BIGINT, 
    run_id VARCHAR, 
    session_id VARCHAR, 
    error TEXT, 
    input JSONB, 
    output JSONB, 
    requirements JSONB, 
    created_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(schedule_id) REFERENCES ai.agno_schedules (id) ON DELETE CASCADE
);

CREATE INDEX idx_agno_schedule_runs_created_at ON ai.agno_schedule_runs (created_at);

CREATE INDEX idx_agno_schedule_runs_schedule_id ON ai.agno_schedule_runs (schedule_id);

CREATE INDEX idx_agno_schedule_runs_status ON ai.agno_schedule_runs (status);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_schedule_runs_2_5_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_schedule_runs', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_schedule_runs_2_5_0 -> agno_schedule_runs_3_0_0

ALTER TABLE ai.agno_schedule_runs ADD COLUMN user_id VARCHAR;

CREATE INDEX idx_agno_schedule_runs_user_id ON ai.agno_schedule_runs (user_id);

UPDATE ai.agno_alembic_version SET version_num='agno_schedule_runs_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_schedule_runs_2_5_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_schedule_runs', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_approvals_2_5_0

CREATE TABLE ai.agno_approvals (
    id VARCHAR NOT NULL, 
    run_id VARCHAR NOT NULL, 
    session_id VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    source_type VARCHAR NOT NULL, 
    approval_type VARCHAR, 
    pause_type VARCHAR NOT NULL, 
    tool_name VARCHAR, 
    tool_args JSONB, 
    expires_at BIGINT, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    workflow_id VARCHAR, 
    user_id VARCHAR, 
    schedule_id VARCHAR, 
    schedule_run_id VARCHAR, 
    source_name VARCHAR, 
    requirements JSONB, 
    context JSONB, 
    resolution_data JSONB, 
    resolved_by VARCHAR, 
    resolved_at BIGINT, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_approvals_agent_id ON ai.agno_approvals (agent_id);

CREATE INDEX idx_agno_approvals_approval_type ON ai.agno_approvals (approval_type);

CREATE INDEX idx_agno_approvals_created_at ON ai.agno_approvals (created_at);

CREATE INDEX idx_agno_approvals_pause_type ON ai.agno_approvals (pause_type);

CREATE INDEX idx_agno_approvals_run_id ON ai.agno_approvals (run_id);

CREATE INDEX idx_agno_approvals_schedule_id ON ai.agno_approvals (schedule_id);

CREATE INDEX idx_agno_approvals_schedule_run_id ON ai.agno_approvals (schedule_run_id);

CREATE INDEX idx_agno_approvals_session_id ON ai.agno_approvals (session_id);

CREATE INDEX idx_agno_approvals_source_type ON ai.agno_approvals (source_type);

CREATE INDEX idx_agno_approvals_status ON ai.agno_approvals (status);

CREATE INDEX idx_agno_approvals_team_id ON ai.agno_approvals (team_id);

CREATE INDEX idx_agno_approvals_user_id ON ai.agno_approvals (user_id);

CREATE INDEX idx_agno_approvals_workflow_id ON ai.agno_approvals (workflow_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_approvals_2_5_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_approvals', '2.5.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade agno_approvals_2_5_0 -> agno_approvals_2_5_6

ALTER TABLE ai.agno_approvals ADD COLUMN run_status VARCHAR;

CREATE INDEX idx_agno_approvals_run_status ON ai.agno_approvals (run_status);

UPDATE ai.agno_alembic_version SET version_num='agno_approvals_2_5_6' WHERE ai.agno_alembic_version.version_num = 'agno_approvals_2_5_0';

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_approvals', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_auth_tokens_2_5_6

CREATE TABLE ai.agno_auth_tokens (
    id VARCHAR NOT NULL, 
    provider VARCHAR NOT NULL, 
    user_id VARCHAR NOT NULL, 
    service VARCHAR NOT NULL, 
    token_data JSONB NOT NULL, 
    granted_scopes JSONB, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (id), 
    CONSTRAINT agno_auth_tokens_uq_auth_token_provider_user_service UNIQUE (provider, user_id, service)
);

CREATE INDEX idx_agno_auth_tokens_created_at ON ai.agno_auth_tokens (created_at);

CREATE INDEX idx_agno_auth_tokens_provider ON ai.agno_auth_tokens (provider);

CREATE INDEX idx_agno_auth_tokens_service ON ai.agno_auth_tokens (service);

CREATE INDEX idx_agno_auth_tokens_user_id ON ai.agno_auth_tokens (user_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_auth_tokens_2_5_6') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_auth_tokens', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_service_accounts_2_5_6

CREATE TABLE ai.agno_service_accounts (
    id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    user_id VARCHAR, 
    token_hash VARCHAR NOT NULL, 
    token_prefix VARCHAR NOT NULL, 
    scopes JSONB NOT NULL, 
    created_at BIGINT NOT NULL, 
    expires_at BIGINT, 
    last_used_at BIGINT, 
    revoked_at BIGINT, 
    created_by VARCHAR, 
    PRIMARY KEY (id), 
    UNIQUE (token_hash)
);

CREATE INDEX idx_agno_service_accounts_created_at ON ai.agno_service_accounts (created_at);

CREATE INDEX idx_agno_service_accounts_token_hash ON ai.agno_service_accounts (token_hash);

CREATE UNIQUE INDEX agno_service_accounts_uq_active_name ON ai.agno_service_accounts (name) WHERE revoked_at IS NULL;

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_service_accounts_2_5_6') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_service_accounts', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_mcp_oauth_clients_2_5_6

CREATE TABLE ai.agno_mcp_oauth_clients (
    client_id VARCHAR NOT NULL, 
    client_metadata TEXT NOT NULL, 
    created_at BIGINT NOT NULL, 
    consumed_at BIGINT, 
    PRIMARY KEY (client_id)
);

CREATE INDEX idx_agno_mcp_oauth_clients_created_at ON ai.agno_mcp_oauth_clients (created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_clients_2_5_6') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_clients', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_mcp_oauth_transactions_2_5_6

CREATE TABLE ai.agno_mcp_oauth_transactions (
    txn_id VARCHAR NOT NULL, 
    client_id VARCHAR NOT NULL, 
    params TEXT NOT NULL, 
    expires_at BIGINT NOT NULL, 
    PRIMARY KEY (txn_id)
);

CREATE INDEX idx_agno_mcp_oauth_transactions_expires_at ON ai.agno_mcp_oauth_transactions (expires_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_transactions_2_5_6') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_transactions', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_mcp_oauth_codes_2_5_6

CREATE TABLE ai.agno_mcp_oauth_codes (
    code_hash VARCHAR NOT NULL, 
    payload TEXT NOT NULL, 
    expires_at BIGINT NOT NULL, 
    PRIMARY KEY (code_hash)
);

CREATE INDEX idx_agno_mcp_oauth_codes_expires_at ON ai.agno_mcp_oauth_codes (expires_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_codes_2_5_6') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_codes', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_mcp_oauth_refresh_tokens_2_5_6

CREATE TABLE ai.agno_mcp_oauth_refresh_tokens (
    token_hash VARCHAR NOT NULL, 
    client_id VARCHAR NOT NULL, 
    scopes TEXT NOT NULL, 
    expires_at BIGINT NOT NULL, 
    family_id VARCHAR NOT NULL, 
    PRIMARY KEY (token_hash)
);

CREATE INDEX idx_agno_mcp_oauth_refresh_tokens_expires_at ON ai.agno_mcp_oauth_refresh_tokens (expires_at);

CREATE INDEX idx_agno_mcp_oauth_refresh_tokens_family_id ON ai.agno_mcp_oauth_refresh_tokens (family_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_refresh_tokens_2_5_6') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_refresh_tokens', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_mcp_oauth_keys_2_5_6

CREATE TABLE ai.agno_mcp_oauth_keys (
    kid VARCHAR NOT NULL, 
    secret TEXT NOT NULL, 
    created_at BIGINT NOT NULL, 
    PRIMARY KEY (kid)
);

CREATE INDEX idx_agno_mcp_oauth_keys_created_at ON ai.agno_mcp_oauth_keys (created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_keys_2_5_6') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_keys', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_transcripts_3_0_0

CREATE TABLE ai.agno_transcripts (
    framework VARCHAR NOT NULL, 
    project_key VARCHAR NOT NULL, 
    session_id VARCHAR NOT NULL, 
    subpath VARCHAR NOT NULL, 
    position BIGINT NOT NULL, 
    entry_uuid VARCHAR, 
    entry VARCHAR NOT NULL, 
    agno_session_id VARCHAR NOT NULL, 
    created_at BIGINT NOT NULL, 
    PRIMARY KEY (framework, project_key, session_id, subpath, position), 
    CONSTRAINT agno_transcripts_uq_entry_uuid UNIQUE (framework, project_key, session_id, subpath, entry_uuid)
);

CREATE INDEX idx_agno_transcripts_agno_session_id ON ai.agno_transcripts (agno_session_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_transcripts_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_transcripts', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_sources_3_0_0

CREATE TABLE ai.agno_company_sources (
    id VARCHAR NOT NULL, 
    product_id VARCHAR NOT NULL, 
    reference TEXT NOT NULL, 
    type VARCHAR NOT NULL, 
    credential_ref VARCHAR, 
    user_id VARCHAR, 
    config JSONB, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_company_sources_created_at ON ai.agno_company_sources (created_at);

CREATE INDEX idx_agno_company_sources_product_id ON ai.agno_company_sources (product_id);

CREATE INDEX idx_agno_company_sources_user_id ON ai.agno_company_sources (user_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_sources_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_company_sources', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_products_3_0_0

CREATE TABLE ai.agno_company_products (
    id VARCHAR NOT NULL, 
    name VARCHAR, 
    purpose TEXT, 
    user_id VARCHAR, 
    metadata JSONB, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_company_products_created_at ON ai.agno_company_products (created_at);

CREATE INDEX idx_agno_company_products_name ON ai.agno_company_products (name);

CREATE INDEX idx_agno_company_products_user_id ON ai.agno_company_products (user_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_products_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_company_products', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_projects_3_0_0

CREATE TABLE ai.agno_company_projects (
    id VARCHAR NOT NULL, 
    name VARCHAR, 
    outcome TEXT, 
    user_id VARCHAR, 
    transitions JSONB, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    product_id VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    target_date BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_company_projects_created_at ON ai.agno_company_projects (created_at);

CREATE INDEX idx_agno_company_projects_name ON ai.agno_company_projects (name);

CREATE INDEX idx_agno_company_projects_product_id ON ai.agno_company_projects (product_id);

CREATE INDEX idx_agno_company_projects_status ON ai.agno_company_projects (status);

CREATE INDEX idx_agno_company_projects_user_id ON ai.agno_company_projects (user_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_projects_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_company_projects', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_tasks_3_0_0

CREATE TABLE ai.agno_company_tasks (
    id VARCHAR NOT NULL, 
    product_id VARCHAR NOT NULL, 
    project_id VARCHAR, 
    title VARCHAR, 
    brief TEXT, 
    status VARCHAR NOT NULL, 
    user_id VARCHAR, 
    executor_type VARCHAR, 
    executor_id VARCHAR, 
    accepted_by VARCHAR, 
    accepted_at BIGINT, 
    session_id VARCHAR, 
    job_id VARCHAR, 
    evidence JSONB, 
    result JSONB, 
    origin VARCHAR, 
    routine_id VARCHAR, 
    dedupe_key VARCHAR, 
    transitions JSONB, 
    metadata JSONB, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    PRIMARY KEY (id), 
    CONSTRAINT agno_company_tasks_uq_company_task_evidence UNIQUE (product_id, dedupe_key)
);

CREATE INDEX idx_agno_company_tasks_created_at ON ai.agno_company_tasks (created_at);

CREATE INDEX idx_agno_company_tasks_job_id ON ai.agno_company_tasks (job_id);

CREATE INDEX idx_agno_company_tasks_product_id ON ai.agno_company_tasks (product_id);

CREATE INDEX idx_agno_company_tasks_project_id ON ai.agno_company_tasks (project_id);

CREATE INDEX idx_agno_company_tasks_session_id ON ai.agno_company_tasks (session_id);

CREATE INDEX idx_agno_company_tasks_status ON ai.agno_company_tasks (status);

CREATE INDEX idx_agno_company_tasks_title ON ai.agno_company_tasks (title);

CREATE INDEX idx_agno_company_tasks_user_id ON ai.agno_company_tasks (user_id);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_tasks_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_company_tasks', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_tool_results_3_0_0

CREATE TABLE ai.agno_tool_results (
    result_id VARCHAR NOT NULL, 
    namespace VARCHAR NOT NULL, 
    path VARCHAR NOT NULL, 
    session_id VARCHAR NOT NULL, 
    run_id VARCHAR NOT NULL, 
    tool_call_id VARCHAR NOT NULL, 
    tool_name VARCHAR NOT NULL, 
    args_hash VARCHAR NOT NULL, 
    content_type VARCHAR NOT NULL, 
    size_bytes BIGINT NOT NULL, 
    line_count BIGINT NOT NULL, 
    preview TEXT NOT NULL, 
    user_id VARCHAR, 
    created_at BIGINT NOT NULL, 
    expires_at BIGINT, 
    PRIMARY KEY (result_id), 
    CONSTRAINT agno_tool_results_uq_tool_results_namespace_path UNIQUE (namespace, path)
);

CREATE INDEX idx_agno_tool_results_expires_at ON ai.agno_tool_results (expires_at);

CREATE INDEX idx_agno_tool_results_session_id_created_at ON ai.agno_tool_results (session_id, created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_tool_results_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_tool_results', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_compactions_3_0_0

CREATE TABLE ai.agno_compactions (
    compaction_id VARCHAR NOT NULL, 
    session_id VARCHAR NOT NULL, 
    run_id VARCHAR, 
    user_id VARCHAR, 
    first_kept_message_id VARCHAR, 
    summary VARCHAR, 
    archived_messages VARCHAR, 
    messages_compacted BIGINT, 
    tokens_before BIGINT, 
    tokens_after BIGINT, 
    created_at BIGINT NOT NULL, 
    PRIMARY KEY (compaction_id)
);

CREATE INDEX idx_agno_compactions_session_id_created_at ON ai.agno_compactions (session_id, created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_compactions_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_compactions', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_authz_policy_3_0_0

CREATE TABLE ai.agno_authz_policy (
    role VARCHAR NOT NULL, 
    resource VARCHAR NOT NULL, 
    action VARCHAR NOT NULL, 
    effect VARCHAR NOT NULL, 
    PRIMARY KEY (role, resource, action)
);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_policy_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_policy', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_authz_grouping_3_0_0

CREATE TABLE ai.agno_authz_grouping (
    subject VARCHAR NOT NULL, 
    role VARCHAR NOT NULL, 
    PRIMARY KEY (subject, role)
);

CREATE INDEX idx_agno_authz_grouping_role ON ai.agno_authz_grouping (role);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_grouping_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_grouping', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_authz_roles_3_0_0

CREATE TABLE ai.agno_authz_roles (
    slug VARCHAR NOT NULL, 
    name VARCHAR, 
    description TEXT, 
    is_default BOOLEAN NOT NULL, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT NOT NULL, 
    PRIMARY KEY (slug)
);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_roles_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_roles', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_authz_users_3_0_0

CREATE TABLE ai.agno_authz_users (
    id VARCHAR NOT NULL, 
    email VARCHAR, 
    name VARCHAR, 
    disabled BOOLEAN NOT NULL, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT NOT NULL, 
    user_metadata TEXT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_authz_users_created_at ON ai.agno_authz_users (created_at);

CREATE INDEX idx_agno_authz_users_updated_at ON ai.agno_authz_users (updated_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_users_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_users', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_authz_audit_3_0_0

CREATE TABLE ai.agno_authz_audit (
    event_id VARCHAR NOT NULL, 
    created_at BIGINT NOT NULL, 
    actor VARCHAR, 
    action VARCHAR NOT NULL, 
    target VARCHAR, 
    before TEXT, 
    after TEXT, 
    PRIMARY KEY (event_id)
);

CREATE INDEX idx_agno_authz_audit_created_at ON ai.agno_authz_audit (created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_audit_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_audit', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_authz_decisions_3_0_0

CREATE TABLE ai.agno_authz_decisions (
    event_id VARCHAR NOT NULL, 
    created_at BIGINT NOT NULL, 
    actor VARCHAR, 
    action VARCHAR NOT NULL, 
    target TEXT, 
    token_ref VARCHAR, 
    required TEXT, 
    scopes TEXT, 
    PRIMARY KEY (event_id)
);

CREATE INDEX idx_agno_authz_decisions_created_at ON ai.agno_authz_decisions (created_at);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_authz_decisions_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_decisions', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_jobs_3_0_0

CREATE TABLE ai.agno_jobs (
    id VARCHAR NOT NULL, 
    component_type VARCHAR NOT NULL, 
    job_type VARCHAR NOT NULL, 
    deployment_id VARCHAR, 
    component_id VARCHAR NOT NULL, 
    session_id VARCHAR NOT NULL, 
    user_id VARCHAR, 
    payload JSONB NOT NULL, 
    status VARCHAR NOT NULL, 
    attempt BIGINT NOT NULL, 
    max_attempts BIGINT NOT NULL, 
    idempotency_key VARCHAR, 
    available_at BIGINT NOT NULL, 
    locked_by VARCHAR, 
    locked_at BIGINT, 
    error TEXT, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    completed_at BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_jobs_component_id ON ai.agno_jobs (component_id);

CREATE INDEX idx_agno_jobs_created_at ON ai.agno_jobs (created_at);

CREATE INDEX idx_agno_jobs_session_id ON ai.agno_jobs (session_id);

CREATE INDEX idx_agno_jobs_status ON ai.agno_jobs (status);

CREATE INDEX idx_agno_jobs_status_available_at ON ai.agno_jobs (status, available_at);

CREATE UNIQUE INDEX agno_jobs_uq_jobs_idempotency_key ON ai.agno_jobs (idempotency_key, user_id) WHERE idempotency_key IS NOT NULL;

CREATE UNIQUE INDEX agno_jobs_uq_jobs_idempotency_key_anon ON ai.agno_jobs (idempotency_key) WHERE idempotency_key IS NOT NULL AND user_id IS NULL;

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_jobs_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_jobs', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_sandbox_bindings_3_0_0

CREATE TABLE ai.agno_sessions_sandbox_bindings (
    namespace VARCHAR NOT NULL, 
    session_id VARCHAR NOT NULL, 
    agent_id VARCHAR NOT NULL, 
    user_id VARCHAR, 
    epoch BIGINT NOT NULL, 
    owner VARCHAR, 
    run_id VARCHAR, 
    queue_attempt BIGINT, 
    expires_at TIMESTAMP WITH TIME ZONE, 
    record JSONB NOT NULL, 
    PRIMARY KEY (namespace, session_id), 
    FOREIGN KEY(run_id) REFERENCES ai.agno_runs (run_id), 
    FOREIGN KEY(session_id) REFERENCES ai.agno_sessions (session_id) ON DELETE CASCADE
);

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_sandbox_bindings_3_0_0') RETURNING ai.agno_alembic_version.version_num;

INSERT INTO ai.agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions_sandbox_bindings', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

COMMIT;

BEGIN;

-- Running upgrade  -> agno_vectors_2_0_0

-- vector tables: Agno's create() makes them with its embedder's dimensions; nothing to create;

INSERT INTO ai.agno_alembic_version (version_num) VALUES ('agno_vectors_2_0_0') RETURNING ai.agno_alembic_version.version_num;

COMMIT;

BEGIN;

-- Running upgrade agno_vectors_2_0_0 -> agno_vectors_3_0_0

-- vector tables are found by inspection, which needs a live connection; name them with -x vector_tables=a,b for a script;

UPDATE ai.agno_alembic_version SET version_num='agno_vectors_3_0_0' WHERE ai.agno_alembic_version.version_num = 'agno_vectors_2_0_0';

COMMIT;

