-- As sqlite/0002: a face's `seq` keys its vector in the search indexes, so a number is never given twice, even
-- after the face with the highest number is deleted. IndexFaces takes the next numbers with one UPDATE of this row,
-- whose row lock holds a concurrent IndexFaces (from this server or another) until the first commits.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO counters (name, value) SELECT 'face_seq', COALESCE(MAX(seq), 0) FROM faces;
