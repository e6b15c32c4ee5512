-- Face collections (issue 7), as sqlite/0001: a collection belongs to one account in one region, its faces and
-- tags go with it. Text keys sort by code point (COLLATE "C"), as in SQLite, so pages come in the same order on
-- both databases whatever locale the cluster was made with; times and boxes are 8-byte floats like SQLite's REAL
-- (PostgreSQL's REAL is 4 bytes: seconds since the epoch would lose two minutes of precision).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE collections (
    account_id TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    collection_id TEXT COLLATE "C" NOT NULL,
    arn TEXT NOT NULL,
    created_at_s DOUBLE PRECISION NOT NULL,
    face_model_version TEXT NOT NULL,
    PRIMARY KEY (account_id, region, collection_id)
);

CREATE TABLE collection_tags (
    account_id TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    collection_id TEXT COLLATE "C" NOT NULL,
    tag_key TEXT COLLATE "C" NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (account_id, region, collection_id, tag_key),
    FOREIGN KEY (account_id, region, collection_id)
        REFERENCES collections (account_id, region, collection_id) ON DELETE CASCADE
);

-- One row per indexed face: `embedding` is the unit SFace vector. Each collection's vectors are searched through
-- its own HNSW partial index, made when the collection is created (reko/store/pgvector_search.py).
CREATE TABLE faces (
    face_id TEXT COLLATE "C" PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    account_id TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    collection_id TEXT COLLATE "C" NOT NULL,
    image_id TEXT NOT NULL,
    external_image_id TEXT,
    box_left DOUBLE PRECISION NOT NULL,
    box_top DOUBLE PRECISION NOT NULL,
    box_width DOUBLE PRECISION NOT NULL,
    box_height DOUBLE PRECISION NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    embedding vector(128) NOT NULL,
    FOREIGN KEY (account_id, region, collection_id)
        REFERENCES collections (account_id, region, collection_id) ON DELETE CASCADE
);

CREATE INDEX faces_by_collection ON faces (account_id, region, collection_id, face_id);
