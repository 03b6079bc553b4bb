-- Approval before delivery and corrected versions (issue 15). Keep in step with the other
-- database's 0010.

-- A township list of a cycle is sent as version 1, then as 更正版 2, 3 … when a later run of
-- the same month changes it; each version has its own idempotency key.
-- Statuses now: waiting (for the operator's approval) | pending | delivered | dead |
-- superseded (an unsent version a later run replaced or found unchanged).
ALTER TABLE outbox ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX outbox_by_cycle ON outbox(cycle, kind, township_code, channel);

-- Who released a run's lists, when, and how many.
CREATE TABLE approvals (
    run_id      INTEGER PRIMARY KEY,
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,             -- RFC 3339, UTC, milliseconds (store::timestamp)
    lists       INTEGER NOT NULL
);
