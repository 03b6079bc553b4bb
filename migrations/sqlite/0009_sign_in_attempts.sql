-- Sign-in attempts (issue 14): each try is counted here before its password is checked, under
-- one lock, so parallel tries past the limit are refused unchecked and a lockout outlives a
-- restart. `scope` is `user` (the lower-cased username) or `ip` (the address, IPv6 by /64).
-- Nothing typed as a password is kept. Keep in step with the other database's 0009.
CREATE TABLE sign_in_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    attempted_at TEXT NOT NULL             -- RFC 3339, UTC, milliseconds (store::timestamp)
);
CREATE INDEX sign_in_attempts_by_key ON sign_in_attempts(scope, key, attempted_at);
CREATE INDEX sign_in_attempts_by_time ON sign_in_attempts(attempted_at);
