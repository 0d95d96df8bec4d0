-- A bot reply that asked which of several look-alike articles the visitor meant ("That depends on which
-- one you mean: …") answered nothing, but it is no knowledge gap either: the articles exist, the visitor
-- has to say which. Kept apart from "I don't know" so the gaps page and the unanswered counts leave it
-- out. Such replies stored before this column existed are the bot replies that offered a person and
-- listed sources (an "I don't know" lists none).
ALTER TABLE messages ADD COLUMN asked_which INTEGER NOT NULL DEFAULT 0 CHECK (asked_which IN (0, 1));
UPDATE messages SET asked_which = 1 WHERE role = 'bot' AND handoff_offered = 1 AND sources <> '[]';
