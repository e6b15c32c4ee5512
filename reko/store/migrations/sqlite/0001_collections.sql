-- Face collections (issue 7): a collection belongs to one account in one region, its faces and tags go with it.
CREATE TABLE collections (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_at_s REAL NOT NULL,
    face_model_version TEXT NOT NULL,
    PRIMARY KEY (account_id, region, collection_id)
);

CREATE TABLE collection_tags (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (account_id, region, collection_id, tag_key),
    FOREIGN KEY (account_id, region, collection_id)
        REFERENCES collections (account_id, region, collection_id) ON DELETE CASCADE
);

-- One row per indexed face: `embedding` is the unit SFace vector, 128 little-endian float32 (512 bytes).
CREATE TABLE faces (
    face_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    image_id TEXT NOT NULL,
    external_image_id TEXT,
    box_left REAL NOT NULL,
    box_top REAL NOT NULL,
    box_width REAL NOT NULL,
    box_height REAL NOT NULL,
    confidence REAL NOT NULL,
    embedding BLOB NOT NULL,
    FOREIGN KEY (account_id, region, collection_id)
        REFERENCES collections (account_id, region, collection_id) ON DELETE CASCADE
);

CREATE INDEX faces_by_collection ON faces (account_id, region, collection_id, face_id);
