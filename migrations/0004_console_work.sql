-- Who took a handoff and who closed it (console users; accounts are disabled, never deleted).
ALTER TABLE handoffs ADD COLUMN claimed_by INTEGER REFERENCES admin_users(id);
ALTER TABLE handoffs ADD COLUMN claimed_at TEXT;
ALTER TABLE handoffs ADD COLUMN resolved_by INTEGER REFERENCES admin_users(id);
CREATE INDEX handoffs_by_status ON handoffs(status, created_at);

-- Data-subject requests received by the privacy team. The identifier the customer gave is never
-- stored: only its keyed fingerprint (the same HMAC as subject_keys), so the request can be matched
-- again until it is closed. Due dates follow the law: 30 days (GDPR Art. 12(3)), 45 days (CCPA).
CREATE TABLE dsar_requests (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('access', 'erasure')),
    law              TEXT NOT NULL CHECK (law IN ('gdpr', 'ccpa')),
    identifier_kind  TEXT NOT NULL CHECK (identifier_kind IN ('EMAIL_ADDRESS', 'PHONE_NUMBER')),
    fingerprint      TEXT NOT NULL,
    reason           TEXT NOT NULL,
    received_on      TEXT NOT NULL,
    due_on           TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'rejected')),
    outcome          TEXT NOT NULL DEFAULT '',
    opened_by        INTEGER NOT NULL REFERENCES admin_users(id),
    closed_by        INTEGER REFERENCES admin_users(id),
    closed_at        TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX dsar_requests_by_status ON dsar_requests(status, due_on);

-- Index rebuilds asked for from the console, so every worker can show the latest one's state.
CREATE TABLE index_builds (
    id            INTEGER PRIMARY KEY,
    requested_by  INTEGER NOT NULL REFERENCES admin_users(id),
    status        TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    message       TEXT NOT NULL DEFAULT '',
    started_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at   TEXT
);
