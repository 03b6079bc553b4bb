-- Snapshots as changes, run detail as versions, retention (issue 13).
-- Keep in step with the other database's 0007_changes.sql.

-- A source's record by content, written once however many snapshots hold it. Never holds
-- personal data (see ARCHITECTURE.md).
CREATE TABLE records (
    hash       BLOB PRIMARY KEY,           -- first 16 bytes of SHA-256 over source and data
    source     TEXT NOT NULL,
    record_key TEXT NOT NULL,
    uscc       TEXT,
    name       TEXT,
    data       TEXT NOT NULL               -- JSON of the Observation
);

-- The records a snapshot holds, in the order read. Written only for a snapshot whose list
-- differs from its source's earlier ones; an identical snapshot shares that list.
CREATE TABLE snapshot_records (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    seq         INTEGER NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (snapshot_id, seq)
);

-- records_of: the snapshot whose list this one holds (itself when it wrote its own; NULL:
-- written before this version, its records in `observations`). digest: SHA-256 of its
-- records' hashes in order. compacted: 1 once retention dropped its records.
ALTER TABLE snapshots ADD COLUMN records_of INTEGER;
ALTER TABLE snapshots ADD COLUMN digest BLOB;
ALTER TABLE snapshots ADD COLUMN compacted INTEGER NOT NULL DEFAULT 0;

-- A run's entities, links, leads and pairs are versions: a row written by run `run_id`
-- holds for every run from it until `to_run` (exclusive; NULL: still current). A run writes
-- only the rows that changed. `digest`: first 16 bytes of SHA-256 over the row's values.
ALTER TABLE entities ADD COLUMN to_run INTEGER;
ALTER TABLE entities ADD COLUMN digest BLOB;
ALTER TABLE links ADD COLUMN to_run INTEGER;
ALTER TABLE leads ADD COLUMN to_run INTEGER;
ALTER TABLE leads ADD COLUMN digest BLOB;
ALTER TABLE match_pairs ADD COLUMN to_run INTEGER;
ALTER TABLE match_pairs ADD COLUMN digest BLOB;

-- The digest of each versioned table's current set of rows (see store::versions::set_digest):
-- a run whose set is the same leaves the table alone.
CREATE TABLE version_sets (
    name   TEXT PRIMARY KEY,               -- entities | links | leads | match_pairs
    digest BLOB NOT NULL
);

-- Rows written before this version were full copies per run: each holds until the next
-- succeeded run.
UPDATE entities SET to_run = (SELECT MIN(r.id) FROM runs r WHERE r.id > entities.run_id AND r.status = 'succeeded');
UPDATE links SET to_run = (SELECT MIN(r.id) FROM runs r WHERE r.id > links.run_id AND r.status = 'succeeded');
UPDATE leads SET to_run = (SELECT MIN(r.id) FROM runs r WHERE r.id > leads.run_id AND r.status = 'succeeded');
UPDATE match_pairs SET to_run = (SELECT MIN(r.id) FROM runs r WHERE r.id > match_pairs.run_id AND r.status = 'succeeded');

-- Closed versions, for retention's deletes (current rows, most of each table, are not in them).
CREATE INDEX entities_closed ON entities(to_run) WHERE to_run IS NOT NULL;
CREATE INDEX links_closed ON links(to_run) WHERE to_run IS NOT NULL;
CREATE INDEX leads_closed ON leads(to_run) WHERE to_run IS NOT NULL;
CREATE INDEX match_pairs_closed ON match_pairs(to_run) WHERE to_run IS NOT NULL;
CREATE INDEX entities_by_entity ON entities(entity_id);
CREATE INDEX leads_by_lead ON leads(lead_id);
DROP INDEX links_by_run;
CREATE INDEX links_by_record ON links(source, record_key);
DROP INDEX match_pairs_by_record;
CREATE INDEX match_pairs_by_record ON match_pairs(source, record_key);

-- Retention: 1 once a run's detail (entities, links, leads, pairs, records) was dropped.
ALTER TABLE runs ADD COLUMN compacted INTEGER NOT NULL DEFAULT 0;
