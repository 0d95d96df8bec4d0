-- Knowledge gaps an admin dismissed from the console: the ids of the visitor questions that made up
-- the group, never their text. A group stays hidden while every question in it is listed here, so a
-- new question like them brings it back. Rows go with their message (erasure, retention).
CREATE TABLE gap_dismissals (
    message_id    TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    dismissed_by  INTEGER NOT NULL REFERENCES admin_users(id),
    dismissed_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Full-text search over the stored (scrubbed) messages for the console, inside the encrypted file.
-- External content: the index holds tokens only and reads the text from messages, and the triggers
-- keep it in step with every insert, change and delete, cascades from an erasure or a retention
-- purge included. `secure-delete` makes FTS5 remove a deleted row's tokens from the index at once;
-- without it they would stay in the shadow tables until segments happen to merge.
CREATE VIRTUAL TABLE messages_fts USING fts5(text, content = 'messages', content_rowid = 'rowid',
                                             tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
