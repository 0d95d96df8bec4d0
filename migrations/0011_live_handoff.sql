-- Live handoff (DESIGN §10): a person from the team writes in the conversation.

-- Messages gain the roles `agent` (a team member, shown by alias) and `notice` (what happened:
-- "<alias> joined", "<alias> closed this conversation"), and the alias they were written under.
-- SQLite cannot change a CHECK in place, so the table is rebuilt. Renaming it first makes
-- feedback follow it (foreign keys are on), so nothing cascades away; feedback is rebuilt to point
-- at the new table, then the old one goes.
ALTER TABLE messages RENAME TO messages_before_0011;
CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('visitor', 'bot', 'agent', 'notice')),
    text             TEXT NOT NULL,
    sources          TEXT NOT NULL DEFAULT '[]',
    confidence       REAL,
    handoff_offered  INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    vector           BLOB,
    author           TEXT
);
INSERT INTO messages (rowid, id, conversation_id, role, text, sources, confidence, handoff_offered, created_at,
                      vector)
SELECT rowid, id, conversation_id, role, text, sources, confidence, handoff_offered, created_at, vector
FROM messages_before_0011;
ALTER TABLE feedback RENAME TO feedback_before_0011;
CREATE TABLE feedback (
    message_id  TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    rating      TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO feedback SELECT message_id, rating, created_at FROM feedback_before_0011;
DROP TABLE feedback_before_0011;
DROP TABLE messages_before_0011;
CREATE INDEX messages_by_conversation ON messages(conversation_id, created_at);
CREATE INDEX messages_by_time ON messages(created_at);

-- Consent gains the purpose `contact`: keep an email address the visitor leaves for a reply.
ALTER TABLE consent_events RENAME TO consent_events_before_0011;
CREATE TABLE consent_events (
    id              INTEGER PRIMARY KEY,
    visitor_id      INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('transcripts', 'analytics', 'contact')),
    granted         INTEGER NOT NULL CHECK (granted IN (0, 1)),
    policy_version  TEXT NOT NULL,
    source          TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO consent_events SELECT * FROM consent_events_before_0011;
DROP TABLE consent_events_before_0011;
CREATE INDEX consent_events_by_visitor ON consent_events(visitor_id, purpose, id);
CREATE TRIGGER consent_events_append_only BEFORE UPDATE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent events are append-only');
END;

-- The name a team member is shown under to visitors (never their email).
ALTER TABLE admin_users ADD COLUMN alias TEXT NOT NULL DEFAULT '';
UPDATE admin_users SET alias = 'Agent ' || id;

-- Waiting time is request → first agent reply; a visitor may end the handoff themselves.
ALTER TABLE handoffs ADD COLUMN first_reply_at TEXT;
ALTER TABLE handoffs ADD COLUMN ended_by_visitor INTEGER NOT NULL DEFAULT 0;

-- The only original identifier Quietdesk keeps: an email address a visitor left for a reply when
-- nobody could answer, with the `contact` consent. Deleted CONTACT_RETENTION_DAYS after its handoff
-- is resolved, or with the visitor. Its keyed hash joins subject_keys for data-subject requests.
CREATE TABLE contacts (
    id               INTEGER PRIMARY KEY,
    visitor_id       INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    handoff_id       INTEGER NOT NULL UNIQUE REFERENCES handoffs(id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX contacts_by_visitor ON contacts(visitor_id);
