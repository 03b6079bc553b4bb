-- yingbao schema v1 (SQLite). Keep in step with migrations/postgres/0001_init.sql.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    as_of       TEXT NOT NULL,
    status      TEXT NOT NULL,             -- running | succeeded | failed
    summary     TEXT                       -- JSON
);

CREATE TABLE snapshots (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    source       TEXT NOT NULL,
    feed         TEXT NOT NULL,
    taken_at     TEXT NOT NULL,
    status       TEXT NOT NULL,            -- good | held
    records      INTEGER NOT NULL,
    rejects      INTEGER NOT NULL,
    invalid_uscc INTEGER NOT NULL,
    note         TEXT,
    files        TEXT                      -- JSON
);
CREATE INDEX snapshots_by_source ON snapshots(source, status, id);

-- Canonical observations of one snapshot. Never holds personal data (see ARCHITECTURE.md).
CREATE TABLE observations (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    seq         INTEGER NOT NULL,
    record_key  TEXT NOT NULL,
    uscc        TEXT,
    name        TEXT,
    data        TEXT NOT NULL,             -- JSON of the Observation
    PRIMARY KEY (snapshot_id, seq)
);

CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    source      TEXT NOT NULL,
    file        TEXT NOT NULL,
    row_number  INTEGER NOT NULL,
    column_name TEXT,
    value       TEXT,
    reason      TEXT NOT NULL,
    action      TEXT NOT NULL              -- row_rejected | field_dropped
);
CREATE INDEX quarantine_by_snapshot ON quarantine(snapshot_id);

CREATE TABLE entities (
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    entity_id     TEXT NOT NULL,
    uscc          TEXT,
    name          TEXT NOT NULL,
    township_code TEXT,
    data          TEXT NOT NULL,           -- JSON of the MasterRecord + assessment + placement
    PRIMARY KEY (run_id, entity_id)
);

CREATE TABLE links (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    source     TEXT NOT NULL,
    record_key TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    method     TEXT NOT NULL
);
CREATE INDEX links_by_run ON links(run_id, source, record_key);

CREATE TABLE leads (
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    lead_id       TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    township_code TEXT,
    rule_ids      TEXT NOT NULL,
    data          TEXT NOT NULL,           -- JSON of the LeadRow
    PRIMARY KEY (run_id, lead_id)
);
