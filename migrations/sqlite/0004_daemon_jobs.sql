-- The daemon's scheduled jobs: when each last started, so that a run missed while the server
-- was down is caught up once after a restart.
CREATE TABLE daemon_jobs (
    job          TEXT PRIMARY KEY,
    last_started TEXT NOT NULL,
    last_outcome TEXT,                     -- ok | failed (NULL while running)
    last_error   TEXT
);
