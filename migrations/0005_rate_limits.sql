-- Fixed one-minute windows of request counts, shared by every server worker. Buckets name a
-- visitor by internal id or a client address by its keyed hash (never the address itself); rows
-- older than the previous window are deleted as they are passed.
CREATE TABLE rate_windows (
    bucket  TEXT NOT NULL,
    window  INTEGER NOT NULL,
    hits    INTEGER NOT NULL,
    PRIMARY KEY (bucket, window)
) WITHOUT ROWID;
