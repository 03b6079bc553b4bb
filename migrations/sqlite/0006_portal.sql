-- The township portal (issue 6): accounts, sessions, API tokens, the audit log, and the
-- sign-off of dispositions. Keep in step with the other database's 0006_portal.sql.

-- A person who signs in: the county operator, or a township's staff (can_sign: its leader).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,             -- operator | township
    township_code TEXT,
    can_sign      INTEGER NOT NULL,
    password_hash TEXT NOT NULL,             -- argon2id PHC string
    disabled      INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);

-- Signed-in sessions; only the SHA-256 of the cookie's token is kept.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);

-- A township's API token (for its own systems); only its SHA-256 is kept.
CREATE TABLE api_tokens (
    token_hash    TEXT PRIMARY KEY,
    township_code TEXT NOT NULL,
    label         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    revoked       INTEGER NOT NULL
);

-- Who did what, when: every disposition, sign-off, override and account change.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL                     -- JSON: what changed
);
CREATE INDEX audit_log_by_target ON audit_log(target, id);

-- A disposition takes effect once the township's leader has signed it off.
ALTER TABLE dispositions ADD COLUMN signed_at TEXT;
ALTER TABLE dispositions ADD COLUMN transfer_to TEXT;

-- A lead moved to another township by a 不在本辖区 disposition is listed there from then on.
ALTER TABLE lead_states ADD COLUMN assigned_township TEXT;
