-- Connector state for incremental pulls (PostgreSQL). Keep in step with migrations/sqlite.
-- Written in the same transaction as the good snapshot it describes; never on a failed or
-- held pull.
CREATE TABLE connector_state (
    source          TEXT PRIMARY KEY,
    cursor          TEXT,                  -- the greatest cursor value in the last good pull
    full_refresh_at TEXT,                  -- when the last full (non-incremental) pull was taken
    updated_at      TEXT NOT NULL
);
