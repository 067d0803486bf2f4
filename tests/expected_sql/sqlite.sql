CREATE TABLE agno_alembic_version (
    version_num VARCHAR(128) NOT NULL, 
    CONSTRAINT agno_alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> agno_sessions_2_0_0

CREATE TABLE agno_sessions (
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
    PRIMARY KEY (session_id)
);

CREATE INDEX idx_agno_sessions_created_at ON agno_sessions (created_at);

CREATE INDEX idx_agno_sessions_session_type ON agno_sessions (session_type);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_sessions_2_0_0') RETURNING version_num;

-- agno_sessions is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade  -> agno_versions_2_3_0

CREATE TABLE agno_schema_versions (
    table_name VARCHAR NOT NULL, 
    version VARCHAR NOT NULL, 
    created_at VARCHAR NOT NULL, 
    updated_at VARCHAR, 
    PRIMARY KEY (table_name)
);

CREATE INDEX idx_agno_schema_versions_created_at ON agno_schema_versions (created_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_versions_2_3_0') RETURNING version_num;

-- Running upgrade agno_sessions_2_0_0 -> agno_sessions_2_3_0

DELETE FROM agno_alembic_version WHERE agno_alembic_version.version_num = 'agno_sessions_2_0_0';

UPDATE agno_alembic_version SET version_num='agno_sessions_2_3_0' WHERE agno_alembic_version.version_num = 'agno_versions_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '2.3.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_sessions_2_3_0 -> agno_sessions_2_5_0

-- agno_sessions: unique_session_ids (check) has nothing to do: the table holds no row;

UPDATE agno_alembic_version SET version_num='agno_sessions_2_5_0' WHERE agno_alembic_version.version_num = 'agno_sessions_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '2.5.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_sessions_2_5_0 -> agno_sessions_2_5_6

UPDATE agno_alembic_version SET version_num='agno_sessions_2_5_6' WHERE agno_alembic_version.version_num = 'agno_sessions_2_5_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_runs_3_0_0

CREATE TABLE agno_runs (
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
    run_data JSON NOT NULL, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (run_id), 
    FOREIGN KEY(session_id) REFERENCES agno_sessions (session_id) ON DELETE CASCADE
);

CREATE INDEX idx_agno_runs_agent_id ON agno_runs (agent_id);

CREATE INDEX idx_agno_runs_created_at ON agno_runs (created_at);

CREATE INDEX idx_agno_runs_run_type ON agno_runs (run_type);

CREATE INDEX idx_agno_runs_session_id ON agno_runs (session_id);

CREATE INDEX idx_agno_runs_session_id_run_index ON agno_runs (session_id, run_index);

CREATE INDEX idx_agno_runs_status ON agno_runs (status);

CREATE INDEX idx_agno_runs_team_id ON agno_runs (team_id);

CREATE INDEX idx_agno_runs_user_id ON agno_runs (user_id);

CREATE INDEX idx_agno_runs_workflow_id ON agno_runs (workflow_id);

UPDATE agno_alembic_version SET version_num='agno_runs_3_0_0' WHERE agno_alembic_version.version_num = 'agno_sessions_2_5_6';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_runs', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_sessions_2_5_6 -> agno_sessions_3_0_0

-- agno_sessions.runs -> agno_runs: nothing to copy, no session holds runs;

CREATE TABLE _agno_alembic_rebuild_agno_sessions (
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
    summary JSON, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (session_id)
);

INSERT INTO _agno_alembic_rebuild_agno_sessions (session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, agent_data, team_data, workflow_data, metadata, summary, created_at, updated_at) SELECT agno_sessions.session_id, agno_sessions.session_type, agno_sessions.agent_id, agno_sessions.team_id, agno_sessions.workflow_id, agno_sessions.user_id, agno_sessions.session_data, agno_sessions.agent_data, agno_sessions.team_data, agno_sessions.workflow_data, agno_sessions.metadata, agno_sessions.summary, agno_sessions.created_at, agno_sessions.updated_at 
FROM agno_sessions;

DROP TABLE agno_sessions;

ALTER TABLE _agno_alembic_rebuild_agno_sessions RENAME TO agno_sessions;

CREATE INDEX idx_agno_sessions_created_at ON agno_sessions (created_at);

CREATE INDEX idx_agno_sessions_session_type ON agno_sessions (session_type);

UPDATE agno_alembic_version SET version_num='agno_sessions_3_0_0' WHERE agno_alembic_version.version_num = 'agno_runs_3_0_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_sessions', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_memories_2_0_0

CREATE TABLE agno_memories (
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

CREATE INDEX idx_agno_memories_updated_at ON agno_memories (updated_at);

CREATE INDEX idx_agno_memories_user_id ON agno_memories (user_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_memories_2_0_0') RETURNING version_num;

-- agno_memories is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_memories_2_0_0 -> agno_memories_2_3_0

CREATE TABLE _agno_alembic_rebuild_agno_memories (
    memory_id VARCHAR NOT NULL, 
    memory JSON NOT NULL, 
    input VARCHAR, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    user_id VARCHAR, 
    topics JSON, 
    updated_at BIGINT, 
    feedback VARCHAR, 
    created_at BIGINT NOT NULL, 
    PRIMARY KEY (memory_id)
);

INSERT INTO _agno_alembic_rebuild_agno_memories (memory_id, memory, input, agent_id, team_id, user_id, topics, updated_at, created_at) SELECT agno_memories.memory_id, agno_memories.memory, agno_memories.input, agno_memories.agent_id, agno_memories.team_id, agno_memories.user_id, agno_memories.topics, agno_memories.updated_at, coalesce(agno_memories.updated_at, <epoch>) AS created_at 
FROM agno_memories;

DROP TABLE agno_memories;

ALTER TABLE _agno_alembic_rebuild_agno_memories RENAME TO agno_memories;

CREATE INDEX idx_agno_memories_created_at ON agno_memories (created_at);

CREATE INDEX idx_agno_memories_updated_at ON agno_memories (updated_at);

CREATE INDEX idx_agno_memories_user_id ON agno_memories (user_id);

UPDATE agno_alembic_version SET version_num='agno_memories_2_3_0' WHERE agno_alembic_version.version_num = 'agno_memories_2_0_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_memories', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_metrics_2_0_0

CREATE TABLE agno_metrics (
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

CREATE INDEX idx_agno_metrics_aggregation_period ON agno_metrics (aggregation_period);

CREATE INDEX idx_agno_metrics_date ON agno_metrics (date);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_metrics_2_0_0') RETURNING version_num;

-- agno_metrics is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_metrics_2_0_0 -> agno_metrics_2_3_0

UPDATE agno_alembic_version SET version_num='agno_metrics_2_3_0' WHERE agno_alembic_version.version_num = 'agno_metrics_2_0_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_metrics', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_metrics_2_3_0 -> agno_metrics_3_0_0

CREATE TABLE _agno_alembic_rebuild_agno_metrics (
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
    user_id VARCHAR NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT agno_metrics_uq_metrics_user_date_period UNIQUE (user_id, date, aggregation_period)
);

INSERT INTO _agno_alembic_rebuild_agno_metrics (id, agent_runs_count, team_runs_count, workflow_runs_count, agent_sessions_count, team_sessions_count, workflow_sessions_count, users_count, token_metrics, model_metrics, date, aggregation_period, created_at, updated_at, completed, user_id) SELECT agno_metrics.id, agno_metrics.agent_runs_count, agno_metrics.team_runs_count, agno_metrics.workflow_runs_count, agno_metrics.agent_sessions_count, agno_metrics.team_sessions_count, agno_metrics.workflow_sessions_count, agno_metrics.users_count, agno_metrics.token_metrics, agno_metrics.model_metrics, agno_metrics.date, agno_metrics.aggregation_period, agno_metrics.created_at, agno_metrics.updated_at, agno_metrics.completed, '' AS user_id 
FROM agno_metrics;

DROP TABLE agno_metrics;

ALTER TABLE _agno_alembic_rebuild_agno_metrics RENAME TO agno_metrics;

CREATE INDEX idx_agno_metrics_aggregation_period ON agno_metrics (aggregation_period);

CREATE INDEX idx_agno_metrics_date ON agno_metrics (date);

CREATE INDEX idx_agno_metrics_user_id ON agno_metrics (user_id);

-- agno_metrics: drop_newest_unfinished_metrics_day (data rule) has nothing to do: the table holds no row;

UPDATE agno_alembic_version SET version_num='agno_metrics_3_0_0' WHERE agno_alembic_version.version_num = 'agno_metrics_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_metrics', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_evals_2_0_0

CREATE TABLE agno_eval_runs (
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

CREATE INDEX idx_agno_eval_runs_created_at ON agno_eval_runs (created_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_evals_2_0_0') RETURNING version_num;

-- agno_eval_runs is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_evals_2_0_0 -> agno_evals_2_3_0

UPDATE agno_alembic_version SET version_num='agno_evals_2_3_0' WHERE agno_alembic_version.version_num = 'agno_evals_2_0_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_eval_runs', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_evals_2_3_0 -> agno_evals_3_0_0

ALTER TABLE agno_eval_runs ADD COLUMN user_id VARCHAR;

CREATE INDEX idx_agno_eval_runs_user_id ON agno_eval_runs (user_id);

UPDATE agno_alembic_version SET version_num='agno_evals_3_0_0' WHERE agno_alembic_version.version_num = 'agno_evals_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_eval_runs', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_knowledge_2_0_0

CREATE TABLE agno_knowledge (
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

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_knowledge_2_0_0') RETURNING version_num;

-- agno_knowledge is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_knowledge_2_0_0 -> agno_knowledge_2_3_0

UPDATE agno_alembic_version SET version_num='agno_knowledge_2_3_0' WHERE agno_alembic_version.version_num = 'agno_knowledge_2_0_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_knowledge', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_knowledge_2_3_0 -> agno_knowledge_3_0_0

ALTER TABLE agno_knowledge ADD COLUMN user_id VARCHAR;

CREATE INDEX idx_agno_knowledge_user_id ON agno_knowledge (user_id);

CREATE INDEX idx_agno_knowledge_user_id_linked_to ON agno_knowledge (user_id, linked_to);

UPDATE agno_alembic_version SET version_num='agno_knowledge_3_0_0' WHERE agno_alembic_version.version_num = 'agno_knowledge_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_knowledge', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_culture_2_0_0

CREATE TABLE agno_culture (
    id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    summary VARCHAR, 
    content JSON, 
    metadata JSON, 
    input VARCHAR, 
    created_at BIGINT, 
    updated_at BIGINT, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_culture_name ON agno_culture (name);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_culture_2_0_0') RETURNING version_num;

-- agno_culture is at 2.0.0: no row in agno_schema_versions (a missing row means 2.0.0)

-- Running upgrade agno_culture_2_0_0 -> agno_culture_2_3_0

UPDATE agno_alembic_version SET version_num='agno_culture_2_3_0' WHERE agno_alembic_version.version_num = 'agno_culture_2_0_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_culture', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_traces_2_3_0

CREATE TABLE agno_traces (
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

CREATE INDEX idx_agno_traces_agent_id ON agno_traces (agent_id);

CREATE INDEX idx_agno_traces_created_at ON agno_traces (created_at);

CREATE INDEX idx_agno_traces_run_id ON agno_traces (run_id);

CREATE INDEX idx_agno_traces_session_id ON agno_traces (session_id);

CREATE INDEX idx_agno_traces_start_time ON agno_traces (start_time);

CREATE INDEX idx_agno_traces_status ON agno_traces (status);

CREATE INDEX idx_agno_traces_team_id ON agno_traces (team_id);

CREATE INDEX idx_agno_traces_user_id ON agno_traces (user_id);

CREATE INDEX idx_agno_traces_workflow_id ON agno_traces (workflow_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_traces_2_3_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_traces', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_spans_2_3_0

CREATE TABLE agno_spans (
    span_id VARCHAR NOT NULL, 
    trace_id VARCHAR NOT NULL, 
    parent_span_id VARCHAR, 
    name VARCHAR NOT NULL, 
    span_kind VARCHAR NOT NULL, 
    status_code VARCHAR NOT NULL, 
    status_message VARCHAR, 
    start_time VARCHAR NOT NULL, 
    end_time VARCHAR NOT NULL, 
    duration_ms BIGINT NOT NULL, 
    attributes JSON, 
    created_at VARCHAR NOT NULL, 
    PRIMARY KEY (span_id), 
    FOREIGN KEY(trace_id) REFERENCES agno_traces (trace_id)
);

CREATE INDEX idx_agno_spans_created_at ON agno_spans (created_at);

CREATE INDEX idx_agno_spans_parent_span_id ON agno_spans (parent_span_id);

CREATE INDEX idx_agno_spans_start_time ON agno_spans (start_time);

CREATE INDEX idx_agno_spans_trace_id ON agno_spans (trace_id);

UPDATE agno_alembic_version SET version_num='agno_spans_2_3_0' WHERE agno_alembic_version.version_num = 'agno_traces_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_spans', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_components_2_3_0

CREATE TABLE agno_components (
    component_id VARCHAR NOT NULL, 
    component_type VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    description VARCHAR, 
    current_version BIGINT, 
    metadata JSON, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    PRIMARY KEY (component_id)
);

CREATE INDEX idx_agno_components_component_type ON agno_components (component_type);

CREATE INDEX idx_agno_components_created_at ON agno_components (created_at);

CREATE INDEX idx_agno_components_current_version ON agno_components (current_version);

CREATE INDEX idx_agno_components_name ON agno_components (name);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_components_2_3_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_components', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_components_2_3_0 -> agno_components_3_0_0

ALTER TABLE agno_components ADD COLUMN user_id VARCHAR;

CREATE INDEX idx_agno_components_user_id ON agno_components (user_id);

UPDATE agno_alembic_version SET version_num='agno_components_3_0_0' WHERE agno_alembic_version.version_num = 'agno_components_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_components', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_component_configs_2_3_0

CREATE TABLE agno_component_configs (
    component_id VARCHAR NOT NULL, 
    version BIGINT NOT NULL, 
    label VARCHAR, 
    stage VARCHAR NOT NULL, 
    config JSON NOT NULL, 
    notes VARCHAR, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    CONSTRAINT agno_component_configs_uq_config_component_version UNIQUE (component_id, version)
);

CREATE INDEX idx_agno_component_configs_created_at ON agno_component_configs (created_at);

CREATE INDEX idx_agno_component_configs_stage ON agno_component_configs (stage);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_component_configs_2_3_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_component_configs', '2.3.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_component_configs_2_3_0 -> agno_component_configs_2_5_0

CREATE TABLE _agno_alembic_rebuild_agno_component_configs (
    component_id VARCHAR NOT NULL, 
    version BIGINT NOT NULL, 
    label VARCHAR, 
    stage VARCHAR NOT NULL, 
    config JSON NOT NULL, 
    notes VARCHAR, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (component_id, version)
);

INSERT INTO _agno_alembic_rebuild_agno_component_configs (component_id, version, label, stage, config, notes, created_at, updated_at) SELECT agno_component_configs.component_id, agno_component_configs.version, agno_component_configs.label, agno_component_configs.stage, agno_component_configs.config, agno_component_configs.notes, agno_component_configs.created_at, agno_component_configs.updated_at 
FROM agno_component_configs;

DROP TABLE agno_component_configs;

ALTER TABLE _agno_alembic_rebuild_agno_component_configs RENAME TO agno_component_configs;

CREATE INDEX idx_agno_component_configs_created_at ON agno_component_configs (created_at);

CREATE INDEX idx_agno_component_configs_stage ON agno_component_configs (stage);

UPDATE agno_alembic_version SET version_num='agno_component_configs_2_5_0' WHERE agno_alembic_version.version_num = 'agno_component_configs_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_component_configs', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_component_links_2_3_0

CREATE TABLE agno_component_links (
    parent_component_id VARCHAR NOT NULL, 
    parent_version BIGINT NOT NULL, 
    link_kind VARCHAR NOT NULL, 
    link_key VARCHAR NOT NULL, 
    child_component_id VARCHAR NOT NULL, 
    child_version BIGINT, 
    position BIGINT NOT NULL, 
    meta JSON, 
    created_at BIGINT, 
    updated_at BIGINT, 
    CONSTRAINT agno_component_links_uq_link_parent_kind_key UNIQUE (parent_component_id, parent_version, link_kind, link_key)
);

CREATE INDEX idx_agno_component_links_created_at ON agno_component_links (created_at);

CREATE INDEX idx_agno_component_links_link_kind ON agno_component_links (link_kind);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_component_links_2_3_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_component_links', '2.3.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_component_links_2_3_0 -> agno_component_links_2_5_0

CREATE TABLE _agno_alembic_rebuild_agno_component_links (
    parent_component_id VARCHAR NOT NULL, 
    parent_version BIGINT NOT NULL, 
    link_kind VARCHAR NOT NULL, 
    link_key VARCHAR NOT NULL, 
    child_component_id VARCHAR NOT NULL, 
    child_version BIGINT, 
    position BIGINT NOT NULL, 
    meta JSON, 
    created_at BIGINT, 
    updated_at BIGINT, 
    PRIMARY KEY (parent_component_id, parent_version, link_kind, link_key)
);

INSERT INTO _agno_alembic_rebuild_agno_component_links (parent_component_id, parent_version, link_kind, link_key, child_component_id, child_version, position, meta, created_at, updated_at) SELECT agno_component_links.parent_component_id, agno_component_links.parent_version, agno_component_links.link_kind, agno_component_links.link_key, agno_component_links.child_component_id, agno_component_links.child_version, agno_component_links.position, agno_component_links.meta, agno_component_links.created_at, agno_component_links.updated_at 
FROM agno_component_links;

DROP TABLE agno_component_links;

ALTER TABLE _agno_alembic_rebuild_agno_component_links RENAME TO agno_component_links;

CREATE INDEX idx_agno_component_links_created_at ON agno_component_links (created_at);

CREATE INDEX idx_agno_component_links_link_kind ON agno_component_links (link_kind);

UPDATE agno_alembic_version SET version_num='agno_component_links_2_5_0' WHERE agno_alembic_version.version_num = 'agno_component_links_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_component_links', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_learnings_2_3_0

CREATE TABLE agno_learnings (
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
    content JSON NOT NULL, 
    metadata JSON, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (learning_id)
);

CREATE INDEX idx_agno_learnings_agent_id ON agno_learnings (agent_id);

CREATE INDEX idx_agno_learnings_created_at ON agno_learnings (created_at);

CREATE INDEX idx_agno_learnings_entity_id ON agno_learnings (entity_id);

CREATE INDEX idx_agno_learnings_entity_type ON agno_learnings (entity_type);

CREATE INDEX idx_agno_learnings_learning_type ON agno_learnings (learning_type);

CREATE INDEX idx_agno_learnings_namespace ON agno_learnings (namespace);

CREATE INDEX idx_agno_learnings_session_id ON agno_learnings (session_id);

CREATE INDEX idx_agno_learnings_team_id ON agno_learnings (team_id);

CREATE INDEX idx_agno_learnings_user_id ON agno_learnings (user_id);

CREATE INDEX idx_agno_learnings_workflow_id ON agno_learnings (workflow_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_learnings_2_3_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_learnings', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_learnings_2_3_0 -> agno_learnings_3_0_0

-- agno_learnings: rekey_entities (data rule) has nothing to do: the table holds no row;

UPDATE agno_alembic_version SET version_num='agno_learnings_3_0_0' WHERE agno_alembic_version.version_num = 'agno_learnings_2_3_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_learnings', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_schedules_2_5_0

CREATE TABLE agno_schedules (
    id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    description VARCHAR, 
    method VARCHAR NOT NULL, 
    endpoint VARCHAR NOT NULL, 
    payload JSON, 
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

CREATE INDEX idx_agno_schedules_created_at ON agno_schedules (created_at);

CREATE INDEX idx_agno_schedules_enabled_next_run_at ON agno_schedules (enabled, next_run_at);

CREATE INDEX idx_agno_schedules_name ON agno_schedules (name);

CREATE INDEX idx_agno_schedules_next_run_at ON agno_schedules (next_run_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_schedules_2_5_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_schedules', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_schedules_2_5_0 -> agno_schedules_3_0_0

-- agno_schedules: unique_schedule_names (check) has nothing to do: the table holds no row;

ALTER TABLE agno_schedules ADD COLUMN user_id VARCHAR;

ALTER TABLE agno_schedules ADD COLUMN managed_by VARCHAR;

ALTER TABLE agno_schedules ADD COLUMN target_type VARCHAR;

ALTER TABLE agno_schedules ADD COLUMN target_id VARCHAR;

ALTER TABLE agno_schedules ADD COLUMN created_by_run_id VARCHAR;

ALTER TABLE agno_schedules ADD COLUMN created_by_session_id VARCHAR;

ALTER TABLE agno_schedules ADD COLUMN updated_by_run_id VARCHAR;

ALTER TABLE agno_schedules ADD COLUMN updated_by_session_id VARCHAR;

ALTER TABLE agno_schedules ADD COLUMN disabled_reason VARCHAR;

CREATE INDEX idx_agno_schedules_managed_by ON agno_schedules (managed_by);

CREATE INDEX idx_agno_schedules_target_id ON agno_schedules (target_id);

CREATE INDEX idx_agno_schedules_user_id ON agno_schedules (user_id);

CREATE INDEX idx_agno_schedules_user_id_enabled_next_run_at ON agno_schedules (user_id, enabled, next_run_at);

CREATE UNIQUE INDEX agno_schedules_uq_unowned_name ON agno_schedules (name) WHERE user_id IS NULL;

CREATE UNIQUE INDEX agno_schedules_uq_user_name ON agno_schedules (user_id, name) WHERE user_id IS NOT NULL;

UPDATE agno_alembic_version SET version_num='agno_schedules_3_0_0' WHERE agno_alembic_version.version_num = 'agno_schedules_2_5_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_schedules', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_schedule_runs_2_5_0

CREATE TABLE agno_schedule_runs (
    id VARCHAR NOT NULL, 
    schedule_id VARCHAR NOT NULL, 
    attempt BIGINT NOT NULL, 
    triggered_at BIGINT, 
    completed_at BIGINT, 
    status VARCHAR NOT NULL, 
    status_code BIGINT, 
    run_id VARCHAR, 
    session_id VARCHAR, 
    error VARCHAR, 
    input JSON, 
    output JSON, 
    requirements JSON, 
    created_at BIGINT NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(schedule_id) REFERENCES agno_schedules (id) ON DELETE CASCADE
);

CREATE INDEX idx_agno_schedule_runs_created_at ON agno_schedule_runs (created_at);

CREATE INDEX idx_agno_schedule_runs_schedule_id ON agno_schedule_runs (schedule_id);

CREATE INDEX idx_agno_schedule_runs_status ON agno_schedule_runs (status);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_schedule_runs_2_5_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_schedule_runs', '2.5.6', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_schedule_runs_2_5_0 -> agno_schedule_runs_3_0_0

ALTER TABLE agno_schedule_runs ADD COLUMN user_id VARCHAR;

CREATE INDEX idx_agno_schedule_runs_user_id ON agno_schedule_runs (user_id);

UPDATE agno_alembic_version SET version_num='agno_schedule_runs_3_0_0' WHERE agno_alembic_version.version_num = 'agno_schedule_runs_2_5_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_schedule_runs', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_approvals_2_5_0

CREATE TABLE agno_approvals (
    id VARCHAR NOT NULL, 
    run_id VARCHAR NOT NULL, 
    session_id VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    source_type VARCHAR NOT NULL, 
    approval_type VARCHAR, 
    pause_type VARCHAR NOT NULL, 
    tool_name VARCHAR, 
    tool_args JSON, 
    expires_at BIGINT, 
    agent_id VARCHAR, 
    team_id VARCHAR, 
    workflow_id VARCHAR, 
    user_id VARCHAR, 
    schedule_id VARCHAR, 
    schedule_run_id VARCHAR, 
    source_name VARCHAR, 
    requirements JSON, 
    context JSON, 
    resolution_data JSON, 
    resolved_by VARCHAR, 
    resolved_at BIGINT, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_approvals_agent_id ON agno_approvals (agent_id);

CREATE INDEX idx_agno_approvals_approval_type ON agno_approvals (approval_type);

CREATE INDEX idx_agno_approvals_created_at ON agno_approvals (created_at);

CREATE INDEX idx_agno_approvals_pause_type ON agno_approvals (pause_type);

CREATE INDEX idx_agno_approvals_run_id ON agno_approvals (run_id);

CREATE INDEX idx_agno_approvals_schedule_id ON agno_approvals (schedule_id);

CREATE INDEX idx_agno_approvals_schedule_run_id ON agno_approvals (schedule_run_id);

CREATE INDEX idx_agno_approvals_session_id ON agno_approvals (session_id);

CREATE INDEX idx_agno_approvals_source_type ON agno_approvals (source_type);

CREATE INDEX idx_agno_approvals_status ON agno_approvals (status);

CREATE INDEX idx_agno_approvals_team_id ON agno_approvals (team_id);

CREATE INDEX idx_agno_approvals_user_id ON agno_approvals (user_id);

CREATE INDEX idx_agno_approvals_workflow_id ON agno_approvals (workflow_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_approvals_2_5_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_approvals', '2.5.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade agno_approvals_2_5_0 -> agno_approvals_2_5_6

ALTER TABLE agno_approvals ADD COLUMN run_status VARCHAR;

CREATE INDEX idx_agno_approvals_run_status ON agno_approvals (run_status);

UPDATE agno_alembic_version SET version_num='agno_approvals_2_5_6' WHERE agno_alembic_version.version_num = 'agno_approvals_2_5_0';

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_approvals', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_auth_tokens_2_5_6

CREATE TABLE agno_auth_tokens (
    id VARCHAR NOT NULL, 
    provider VARCHAR NOT NULL, 
    user_id VARCHAR NOT NULL, 
    service VARCHAR NOT NULL, 
    token_data JSON NOT NULL, 
    granted_scopes JSON, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    PRIMARY KEY (id), 
    CONSTRAINT agno_auth_tokens_uq_auth_token_provider_user_service UNIQUE (provider, user_id, service)
);

CREATE INDEX idx_agno_auth_tokens_created_at ON agno_auth_tokens (created_at);

CREATE INDEX idx_agno_auth_tokens_provider ON agno_auth_tokens (provider);

CREATE INDEX idx_agno_auth_tokens_service ON agno_auth_tokens (service);

CREATE INDEX idx_agno_auth_tokens_user_id ON agno_auth_tokens (user_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_auth_tokens_2_5_6') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_auth_tokens', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_service_accounts_2_5_6

CREATE TABLE agno_service_accounts (
    id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    user_id VARCHAR, 
    token_hash VARCHAR NOT NULL, 
    token_prefix VARCHAR NOT NULL, 
    scopes JSON NOT NULL, 
    created_at BIGINT NOT NULL, 
    expires_at BIGINT, 
    last_used_at BIGINT, 
    revoked_at BIGINT, 
    created_by VARCHAR, 
    PRIMARY KEY (id), 
    UNIQUE (token_hash)
);

CREATE INDEX idx_agno_service_accounts_created_at ON agno_service_accounts (created_at);

CREATE INDEX idx_agno_service_accounts_token_hash ON agno_service_accounts (token_hash);

CREATE UNIQUE INDEX agno_service_accounts_uq_active_name ON agno_service_accounts (name) WHERE revoked_at IS NULL;

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_service_accounts_2_5_6') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_service_accounts', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_mcp_oauth_clients_2_5_6

CREATE TABLE agno_mcp_oauth_clients (
    client_id VARCHAR NOT NULL, 
    client_metadata TEXT NOT NULL, 
    created_at BIGINT NOT NULL, 
    consumed_at BIGINT, 
    PRIMARY KEY (client_id)
);

CREATE INDEX idx_agno_mcp_oauth_clients_created_at ON agno_mcp_oauth_clients (created_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_clients_2_5_6') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_clients', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_mcp_oauth_transactions_2_5_6

CREATE TABLE agno_mcp_oauth_transactions (
    txn_id VARCHAR NOT NULL, 
    client_id VARCHAR NOT NULL, 
    params TEXT NOT NULL, 
    expires_at BIGINT NOT NULL, 
    PRIMARY KEY (txn_id)
);

CREATE INDEX idx_agno_mcp_oauth_transactions_expires_at ON agno_mcp_oauth_transactions (expires_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_transactions_2_5_6') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_transactions', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_mcp_oauth_codes_2_5_6

CREATE TABLE agno_mcp_oauth_codes (
    code_hash VARCHAR NOT NULL, 
    payload TEXT NOT NULL, 
    expires_at BIGINT NOT NULL, 
    PRIMARY KEY (code_hash)
);

CREATE INDEX idx_agno_mcp_oauth_codes_expires_at ON agno_mcp_oauth_codes (expires_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_codes_2_5_6') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_codes', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_mcp_oauth_refresh_tokens_2_5_6

CREATE TABLE agno_mcp_oauth_refresh_tokens (
    token_hash VARCHAR NOT NULL, 
    client_id VARCHAR NOT NULL, 
    scopes TEXT NOT NULL, 
    expires_at BIGINT NOT NULL, 
    family_id VARCHAR NOT NULL, 
    PRIMARY KEY (token_hash)
);

CREATE INDEX idx_agno_mcp_oauth_refresh_tokens_expires_at ON agno_mcp_oauth_refresh_tokens (expires_at);

CREATE INDEX idx_agno_mcp_oauth_refresh_tokens_family_id ON agno_mcp_oauth_refresh_tokens (family_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_refresh_tokens_2_5_6') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_refresh_tokens', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_mcp_oauth_keys_2_5_6

CREATE TABLE agno_mcp_oauth_keys (
    kid VARCHAR NOT NULL, 
    secret TEXT NOT NULL, 
    created_at BIGINT NOT NULL, 
    PRIMARY KEY (kid)
);

CREATE INDEX idx_agno_mcp_oauth_keys_created_at ON agno_mcp_oauth_keys (created_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_mcp_oauth_keys_2_5_6') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_mcp_oauth_keys', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_transcripts_3_0_0

CREATE TABLE agno_transcripts (
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

CREATE INDEX idx_agno_transcripts_agno_session_id ON agno_transcripts (agno_session_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_transcripts_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_transcripts', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_sources_3_0_0

CREATE TABLE agno_company_sources (
    id VARCHAR NOT NULL, 
    product_id VARCHAR NOT NULL, 
    reference TEXT NOT NULL, 
    type VARCHAR NOT NULL, 
    credential_ref VARCHAR, 
    user_id VARCHAR, 
    config JSON, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_company_sources_created_at ON agno_company_sources (created_at);

CREATE INDEX idx_agno_company_sources_product_id ON agno_company_sources (product_id);

CREATE INDEX idx_agno_company_sources_user_id ON agno_company_sources (user_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_sources_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_company_sources', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_products_3_0_0

CREATE TABLE agno_company_products (
    id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    purpose TEXT, 
    user_id VARCHAR, 
    metadata JSON, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_company_products_created_at ON agno_company_products (created_at);

CREATE INDEX idx_agno_company_products_name ON agno_company_products (name);

CREATE INDEX idx_agno_company_products_user_id ON agno_company_products (user_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_products_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_company_products', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_projects_3_0_0

CREATE TABLE agno_company_projects (
    id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    outcome TEXT, 
    user_id VARCHAR, 
    transitions JSON, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    product_id VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    target_date BIGINT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_company_projects_created_at ON agno_company_projects (created_at);

CREATE INDEX idx_agno_company_projects_name ON agno_company_projects (name);

CREATE INDEX idx_agno_company_projects_product_id ON agno_company_projects (product_id);

CREATE INDEX idx_agno_company_projects_status ON agno_company_projects (status);

CREATE INDEX idx_agno_company_projects_user_id ON agno_company_projects (user_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_projects_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_company_projects', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_tasks_3_0_0

CREATE TABLE agno_company_tasks (
    id VARCHAR NOT NULL, 
    product_id VARCHAR NOT NULL, 
    project_id VARCHAR, 
    title VARCHAR NOT NULL, 
    brief TEXT, 
    status VARCHAR NOT NULL, 
    user_id VARCHAR, 
    executor_type VARCHAR, 
    executor_id VARCHAR, 
    accepted_by VARCHAR, 
    accepted_at BIGINT, 
    session_id VARCHAR, 
    job_id VARCHAR, 
    evidence JSON, 
    result JSON, 
    origin VARCHAR, 
    routine_id VARCHAR, 
    dedupe_key VARCHAR, 
    transitions JSON, 
    metadata JSON, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT, 
    deleted_at BIGINT, 
    PRIMARY KEY (id), 
    CONSTRAINT agno_company_tasks_uq_company_task_evidence UNIQUE (product_id, dedupe_key)
);

CREATE INDEX idx_agno_company_tasks_created_at ON agno_company_tasks (created_at);

CREATE INDEX idx_agno_company_tasks_job_id ON agno_company_tasks (job_id);

CREATE INDEX idx_agno_company_tasks_product_id ON agno_company_tasks (product_id);

CREATE INDEX idx_agno_company_tasks_project_id ON agno_company_tasks (project_id);

CREATE INDEX idx_agno_company_tasks_session_id ON agno_company_tasks (session_id);

CREATE INDEX idx_agno_company_tasks_status ON agno_company_tasks (status);

CREATE INDEX idx_agno_company_tasks_title ON agno_company_tasks (title);

CREATE INDEX idx_agno_company_tasks_user_id ON agno_company_tasks (user_id);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_tasks_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_company_tasks', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_tool_results_3_0_0

CREATE TABLE agno_tool_results (
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
    preview VARCHAR NOT NULL, 
    user_id VARCHAR, 
    created_at BIGINT NOT NULL, 
    expires_at BIGINT, 
    PRIMARY KEY (result_id), 
    CONSTRAINT agno_tool_results_uq_tool_results_namespace_path UNIQUE (namespace, path)
);

CREATE INDEX idx_agno_tool_results_expires_at ON agno_tool_results (expires_at);

CREATE INDEX idx_agno_tool_results_session_id_created_at ON agno_tool_results (session_id, created_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_tool_results_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_tool_results', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_compactions_3_0_0

CREATE TABLE agno_compactions (
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

CREATE INDEX idx_agno_compactions_session_id_created_at ON agno_compactions (session_id, created_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_compactions_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_compactions', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_authz_policy_3_0_0

CREATE TABLE agno_authz_policy (
    role VARCHAR NOT NULL, 
    resource VARCHAR NOT NULL, 
    action VARCHAR NOT NULL, 
    effect VARCHAR NOT NULL, 
    PRIMARY KEY (role, resource, action)
);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_authz_policy_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_policy', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_authz_grouping_3_0_0

CREATE TABLE agno_authz_grouping (
    subject VARCHAR NOT NULL, 
    role VARCHAR NOT NULL, 
    PRIMARY KEY (subject, role)
);

CREATE INDEX idx_agno_authz_grouping_role ON agno_authz_grouping (role);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_authz_grouping_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_grouping', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_authz_roles_3_0_0

CREATE TABLE agno_authz_roles (
    slug VARCHAR NOT NULL, 
    name VARCHAR, 
    description TEXT, 
    is_default BOOLEAN NOT NULL, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT NOT NULL, 
    PRIMARY KEY (slug)
);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_authz_roles_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_roles', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_authz_users_3_0_0

CREATE TABLE agno_authz_users (
    id VARCHAR NOT NULL, 
    email VARCHAR, 
    name VARCHAR, 
    disabled BOOLEAN NOT NULL, 
    created_at BIGINT NOT NULL, 
    updated_at BIGINT NOT NULL, 
    user_metadata TEXT, 
    PRIMARY KEY (id)
);

CREATE INDEX idx_agno_authz_users_created_at ON agno_authz_users (created_at);

CREATE INDEX idx_agno_authz_users_updated_at ON agno_authz_users (updated_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_authz_users_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_users', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_authz_audit_3_0_0

CREATE TABLE agno_authz_audit (
    event_id VARCHAR NOT NULL, 
    created_at BIGINT NOT NULL, 
    actor VARCHAR, 
    action VARCHAR NOT NULL, 
    target VARCHAR, 
    "before" TEXT, 
    "after" TEXT, 
    PRIMARY KEY (event_id)
);

CREATE INDEX idx_agno_authz_audit_created_at ON agno_authz_audit (created_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_authz_audit_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_audit', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_authz_decisions_3_0_0

CREATE TABLE agno_authz_decisions (
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

CREATE INDEX idx_agno_authz_decisions_created_at ON agno_authz_decisions (created_at);

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_authz_decisions_3_0_0') RETURNING version_num;

INSERT INTO agno_schema_versions (table_name, version, created_at, updated_at) VALUES ('agno_authz_decisions', '3.0.0', '<now>', '<now>') ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;

-- Running upgrade  -> agno_jobs_3_0_0

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_jobs_3_0_0') RETURNING version_num;

-- Running upgrade  -> agno_sandbox_bindings_3_0_0

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_sandbox_bindings_3_0_0') RETURNING version_num;

-- Running upgrade  -> agno_vectors_2_0_0

INSERT INTO agno_alembic_version (version_num) VALUES ('agno_vectors_2_0_0') RETURNING version_num;

-- Running upgrade agno_vectors_2_0_0 -> agno_vectors_3_0_0

UPDATE agno_alembic_version SET version_num='agno_vectors_3_0_0' WHERE agno_alembic_version.version_num = 'agno_vectors_2_0_0';

