-- Match evidence and operator decisions (PostgreSQL). Keep in step with migrations/sqlite.
CREATE TABLE match_pairs (
    id           BIGSERIAL PRIMARY KEY,
    run_id       BIGINT NOT NULL REFERENCES runs(id),
    decision     TEXT NOT NULL,            -- merge | review
    source       TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    other_source TEXT NOT NULL,
    other_key    TEXT NOT NULL,
    probability  DOUBLE PRECISION NOT NULL,
    detail       TEXT NOT NULL             -- JSON of the PairEvidence (per-field weights)
);
CREATE INDEX match_pairs_by_run ON match_pairs(run_id, decision);
CREATE INDEX match_pairs_by_record ON match_pairs(run_id, source, record_key);

-- An operator's decision about two records; binds every later run.
CREATE TABLE overrides (
    id          BIGSERIAL PRIMARY KEY,
    source_a    TEXT NOT NULL,
    key_a       TEXT NOT NULL,
    source_b    TEXT NOT NULL,
    key_b       TEXT NOT NULL,
    same        BIGINT NOT NULL,          -- 1 = same employer, 0 = different
    decided_by  TEXT NOT NULL,
    decided_at  TEXT NOT NULL,
    note        TEXT
);
