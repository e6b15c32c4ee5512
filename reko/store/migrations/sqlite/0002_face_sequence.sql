-- A face's `seq` keys its vector in the search indexes, so a number is never given twice, even after the face with
-- the highest number is deleted (MAX(seq) + 1 would reuse it and a stale index entry would answer for the new face).
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

INSERT INTO counters (name, value) SELECT 'face_seq', COALESCE(MAX(seq), 0) FROM faces;
