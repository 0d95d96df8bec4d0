-- The sentence vector the chat already computed for a (scrubbed) visitor message, kept with it so
-- the console's knowledge-gaps page groups questions without re-encoding them. Derived from the
-- scrubbed text only; deleted with the message.
ALTER TABLE messages ADD COLUMN vector BLOB;
