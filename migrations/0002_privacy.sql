-- Consent is an append-only log: the current state of a purpose is its latest event.
CREATE TABLE consent_events (
    id              INTEGER PRIMARY KEY,
    visitor_id      INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('transcripts', 'analytics')),
    granted         INTEGER NOT NULL CHECK (granted IN (0, 1)),
    policy_version  TEXT NOT NULL,
    source          TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX consent_events_by_visitor ON consent_events(visitor_id, purpose, id);
CREATE TRIGGER consent_events_append_only BEFORE UPDATE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent events are append-only');
END;

-- Only scrubbed text is ever stored here, and only with consent to keep transcripts.
CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('visitor', 'bot')),
    text             TEXT NOT NULL,
    sources          TEXT NOT NULL DEFAULT '[]',
    confidence       REAL,
    handoff_offered  INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, created_at);
CREATE INDEX messages_by_time ON messages(created_at);

CREATE TABLE feedback (
    message_id  TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    rating      TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE handoffs (
    id               INTEGER PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'resolved')),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    resolved_at      TEXT
);
CREATE INDEX handoffs_by_conversation ON handoffs(conversation_id);

-- Same value, same placeholder within a conversation: keyed fingerprint → label, never the value.
CREATE TABLE placeholders (
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    fingerprint      TEXT NOT NULL,
    label            TEXT NOT NULL,
    PRIMARY KEY (conversation_id, fingerprint)
);

-- Keyed hashes (HMAC, server key) of identifiers a visitor typed, for data-subject lookups.
CREATE TABLE subject_keys (
    visitor_id   INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (visitor_id, fingerprint)
);
CREATE INDEX subject_keys_by_fingerprint ON subject_keys(fingerprint);

-- Retention counts from a visitor's last session, so an active visitor keeps their token.
ALTER TABLE visitors ADD COLUMN last_seen_at TEXT;
UPDATE visitors SET last_seen_at = created_at;
CREATE INDEX visitors_by_last_seen ON visitors(last_seen_at);
