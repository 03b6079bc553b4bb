-- Leads across runs, townships' dispositions, and the delivery outbox (issue 5).
-- Keep in step with the other database's 0005_leads_outbox.sql.

-- What a run's lead is about (see screen::LeadKind); leads before this version were all
-- non-filing leads.
ALTER TABLE leads ADD COLUMN kind TEXT NOT NULL DEFAULT 'unfiled';

-- Every lead ever found and where it stands now (new | open | resolved | closed | reopened).
CREATE TABLE lead_states (
    lead_id       TEXT PRIMARY KEY,
    entity_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    township_code TEXT,
    first_seen    TEXT NOT NULL,
    opened_on     TEXT NOT NULL,
    closed_on     TEXT,
    close_reason  TEXT,
    last_run      INTEGER NOT NULL
);
CREATE INDEX lead_states_by_township ON lead_states(township_code, status);

-- Every change of a lead's status, for the periodic report.
CREATE TABLE lead_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL,
    happened_on TEXT NOT NULL,
    lead_id     TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX lead_events_by_date ON lead_events(happened_on);

-- What a township found when it checked a lead (核实情况).
CREATE TABLE dispositions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id       TEXT NOT NULL,
    township_code TEXT,
    kind          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    person        TEXT NOT NULL,
    signer        TEXT NOT NULL,
    decided_on    TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    origin        TEXT NOT NULL            -- file and row, or the API caller
);
CREATE INDEX dispositions_by_lead ON dispositions(lead_id, id);

-- One township list per (cycle, township, channel), written in the same transaction as the
-- leads; the delivery worker sends it with its idempotency key until it is delivered or dead.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           INTEGER NOT NULL,
    cycle            TEXT NOT NULL,
    township_code    TEXT,
    channel          TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,        -- list | alert
    payload          TEXT NOT NULL,        -- JSON
    status           TEXT NOT NULL,        -- pending | delivered | dead
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    progress         TEXT,                 -- JSON list of steps already done (WeCom)
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

-- Every delivery attempt: started, then finished with its outcome (ok | retry | failed).
-- An attempt left 'started' was cut off by a crash.
CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id   INTEGER NOT NULL REFERENCES outbox(id),
    attempt     INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX delivery_attempts_by_outbox ON delivery_attempts(outbox_id, attempt);
