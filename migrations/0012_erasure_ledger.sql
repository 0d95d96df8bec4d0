-- The erasure ledger: the internal id of every visitor erased (at their request, on a data-subject
-- request in the console, or by retention) and when, never an identifier or a token hash. A restore
-- reads these rows from the file it replaces, deletes those visitors again from the restored copy and
-- keeps the rows, so a backup never brings an erased visitor back. New visitor ids are allocated
-- above the highest id here (visitors.id is a plain INTEGER PRIMARY KEY, which would reuse the id of
-- the newest visitor once erased), so a ledgered id never names anyone else.
CREATE TABLE erasure_ledger (
    visitor_id  INTEGER PRIMARY KEY,
    reason      TEXT NOT NULL CHECK (reason IN ('erasure', 'retention')),
    erased_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
