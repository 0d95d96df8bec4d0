-- Analytics: daily aggregate counters, kept only for visitors who granted `analytics`. A row is a day
-- (no finer time), a metric and, for article use, the article's title: no visitor, conversation or
-- message id, no text a visitor typed. WITHOUT ROWID, so not even the order in which a day's rows were
-- first written (a rowid would keep it) says more than the day.
CREATE TABLE analytics_daily (
    day      TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    metric   TEXT NOT NULL CHECK (metric IN ('conversation', 'answered', 'unanswered', 'person', 'handoff',
                                             'thumbs_up', 'thumbs_down', 'article')),
    article  TEXT NOT NULL DEFAULT '' CHECK ((metric = 'article') = (article <> '')),
    count    INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (day, metric, article)
) WITHOUT ROWID;

-- A conversation is counted once, on the day of its first counted turn: this flag (not an id, not a
-- time) is all that records it, and it goes with the conversation when that is purged or erased.
ALTER TABLE conversations ADD COLUMN analytics_counted INTEGER NOT NULL DEFAULT 0
    CHECK (analytics_counted IN (0, 1));
