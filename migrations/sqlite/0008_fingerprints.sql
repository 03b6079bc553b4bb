-- A file feed's fingerprint (issue 13): 16 bytes of SHA-256 over its connector, the reader's
-- version and its files' bytes. A run whose files have the fingerprint of the last good
-- snapshot repeats that snapshot instead of reading the files again.
-- Keep in step with the other database's 0008_fingerprints.sql.
ALTER TABLE snapshots ADD COLUMN fingerprint BLOB;
