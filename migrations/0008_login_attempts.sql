-- Failed console sign-ins, counted per client address and per account from one address, so a
-- stranger's wrong guesses refuse only the stranger. Both are keyed hashes (HMAC with the subject
-- key) of the lower-cased typed email and of the client address, never the values themselves.
CREATE TABLE login_attempts (
    id          INTEGER PRIMARY KEY,
    account     TEXT NOT NULL,
    address     TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX login_attempts_by_address ON login_attempts(address, created_at);

-- login_failures held typed emails and locked an account for everyone; its rows go with it
-- (secure_delete overwrites them).
DROP TABLE login_failures;
