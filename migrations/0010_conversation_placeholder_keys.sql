-- Placeholders are numbered by an HMAC under a random key of their own conversation, which dies
-- with it; before, they used the long-lived subject key, so anyone holding the instance keys could
-- recover a masked date of birth, SSN or card number by guessing.
ALTER TABLE conversations ADD COLUMN placeholder_key BLOB;
UPDATE conversations SET placeholder_key = randomblob(32);
-- Retire the old fingerprints: the labels stay taken (numbering goes on), nothing links them to a value.
UPDATE placeholders SET fingerprint = 'retired:' || lower(hex(randomblob(16)));
