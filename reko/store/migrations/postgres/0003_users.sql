-- Users of face collections (issue 7): a user id names one person in one collection; it goes with the collection.
CREATE TABLE users (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at_s DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, region, collection_id, user_id),
    FOREIGN KEY (account_id, region, collection_id)
        REFERENCES collections (account_id, region, collection_id) ON DELETE CASCADE
);

-- The user a face is associated with, NULL for none. No foreign key: SQLite cannot add one over (account, region,
-- collection, user) to an existing table and both databases keep one design, so DeleteUser clears its faces'
-- user_id in its own transaction.
ALTER TABLE faces ADD COLUMN user_id TEXT;

CREATE INDEX faces_by_user ON faces (account_id, region, collection_id, user_id);

-- ClientRequestToken of CreateUser, DeleteUser, AssociateFaces and DisassociateFaces: the first answer to a token,
-- kept for a while so a retry gets the same answer and a token reused with other parameters is refused.
-- `fingerprint` is a hash of the request's other members; `answer` is what the store returned, as JSON.
CREATE TABLE request_tokens (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    operation TEXT NOT NULL,
    token TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at_s DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, region, operation, token),
    FOREIGN KEY (account_id, region, collection_id)
        REFERENCES collections (account_id, region, collection_id) ON DELETE CASCADE
);

CREATE INDEX request_tokens_by_collection ON request_tokens (account_id, region, collection_id);
CREATE INDEX request_tokens_by_age ON request_tokens (created_at_s);
