-- Support-team accounts. session_version changes on logout, disable and password reset, which
-- invalidates every session cookie issued before (server-side logout).
CREATE TABLE admin_users (
    id               INTEGER PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash    TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'reviewer')),
    disabled         INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    session_version  INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Failed logins, counted in the database so throttling holds across server workers.
CREATE TABLE login_failures (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL COLLATE NOCASE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX login_failures_by_email ON login_failures(email, created_at);

-- Every admin access to customer data. Each row's hash covers its content and the previous
-- row's hash, so editing or deleting a row breaks the chain from there on. No PII: subjects are
-- named by internal ids only.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
