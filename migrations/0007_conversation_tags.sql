-- Labels the support team puts on a conversation ("billing", "bug-report"). A tag is one short
-- lower-case word (hyphens allowed), so it cannot carry an email address or a sentence by accident;
-- tags are deleted with their conversation and included in the visitor's export.
CREATE TABLE conversation_tags (
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    tag              TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 32),
    tagged_by        INTEGER NOT NULL REFERENCES admin_users(id),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (conversation_id, tag)
);
CREATE INDEX conversation_tags_by_tag ON conversation_tags(tag);
