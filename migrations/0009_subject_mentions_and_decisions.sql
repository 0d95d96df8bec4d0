-- A subject key now says where the identifier was typed (conversation and placeholder), so a
-- data-subject request can show the admin the very messages before anyone acts: a visitor who only
-- mentioned someone else's email must not be exported or erased as if they were that person.
-- Keys go with their conversation (retention, erasure).
CREATE TABLE subject_mentions (
    id               INTEGER PRIMARY KEY,
    visitor_id       INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    conversation_id  TEXT REFERENCES conversations(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    label            TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (visitor_id, fingerprint, conversation_id)
);
-- Until now a placeholder's fingerprint was the same HMAC as the subject key: link them up.
INSERT INTO subject_mentions (visitor_id, conversation_id, kind, fingerprint, label, created_at)
SELECT s.visitor_id, p.conversation_id, s.kind, s.fingerprint, p.label, s.created_at
FROM subject_keys s
LEFT JOIN placeholders p ON p.fingerprint = s.fingerprint
    AND p.conversation_id IN (SELECT id FROM conversations c WHERE c.visitor_id = s.visitor_id);
DROP TABLE subject_keys;
ALTER TABLE subject_mentions RENAME TO subject_keys;
CREATE INDEX subject_keys_by_fingerprint ON subject_keys(fingerprint);

-- The admin's decision, per matching visitor, whether they are the requester or only mentioned
-- the identifier. Export and erasure act on confirmed visitors only.
CREATE TABLE dsar_decisions (
    request_id  INTEGER NOT NULL REFERENCES dsar_requests(id) ON DELETE CASCADE,
    visitor_id  INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    decision    TEXT NOT NULL CHECK (decision IN ('confirmed', 'excluded')),
    decided_by  INTEGER NOT NULL REFERENCES admin_users(id),
    decided_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (request_id, visitor_id)
);
