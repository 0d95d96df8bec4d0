-- Visitors are known only by the SHA-256 of their bearer token; the token itself is never stored.
CREATE TABLE visitors (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Conversation ids are random and public (they appear in URLs); ownership is checked per request.
CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    visitor_id  INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX conversations_by_visitor ON conversations(visitor_id, created_at);
