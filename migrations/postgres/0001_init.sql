-- yingbao schema v1 (PostgreSQL). Keep in step with migrations/sqlite/0001_init.sql.
CREATE TABLE runs (
    id          BIGSERIAL PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    as_of       TEXT NOT NULL,
    status      TEXT NOT NULL,             -- running | succeeded | failed
    summary     TEXT                       -- JSON
);

CREATE TABLE snapshots (
    id           BIGSERIAL PRIMARY KEY,
    run_id       BIGINT NOT NULL REFERENCES runs(id),
    source       TEXT NOT NULL,
    feed         TEXT NOT NULL,
    taken_at     TEXT NOT NULL,
    status       TEXT NOT NULL,            -- good | held
    records      BIGINT NOT NULL,
    rejects      BIGINT NOT NULL,
    invalid_uscc BIGINT NOT NULL,
    note         TEXT,
    files        TEXT                      -- JSON
);
CREATE INDEX snapshots_by_source ON snapshots(source, status, id);

-- Canonical observations of one snapshot. Never holds personal data (see ARCHITECTURE.md).
CREATE TABLE observations (
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id),
    seq         BIGINT NOT NULL,
    record_key  TEXT NOT NULL,
    uscc        TEXT,
    name        TEXT,
    data        TEXT NOT NULL,             -- JSON of the Observation
    PRIMARY KEY (snapshot_id, seq)
);

CREATE TABLE quarantine (
    id          BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id),
    source      TEXT NOT NULL,
    file        TEXT NOT NULL,
    row_number  BIGINT NOT NULL,
    column_name TEXT,
    value       TEXT,
    reason      TEXT NOT NULL,
    action      TEXT NOT NULL              -- row_rejected | field_dropped
);
CREATE INDEX quarantine_by_snapshot ON quarantine(snapshot_id);

CREATE TABLE entities (
    run_id        BIGINT NOT NULL REFERENCES runs(id),
    entity_id     TEXT NOT NULL,
    uscc          TEXT,
    name          TEXT NOT NULL,
    township_code TEXT,
    data          TEXT NOT NULL,           -- JSON of the MasterRecord + assessment + placement
    PRIMARY KEY (run_id, entity_id)
);

CREATE TABLE links (
    run_id     BIGINT NOT NULL REFERENCES runs(id),
    source     TEXT NOT NULL,
    record_key TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    method     TEXT NOT NULL
);
CREATE INDEX links_by_run ON links(run_id, source, record_key);

CREATE TABLE leads (
    run_id        BIGINT NOT NULL REFERENCES runs(id),
    lead_id       TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    township_code TEXT,
    rule_ids      TEXT NOT NULL,
    data          TEXT NOT NULL,           -- JSON of the LeadRow
    PRIMARY KEY (run_id, lead_id)
);
