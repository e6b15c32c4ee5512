-- Custom Labels (issue 10): projects, their datasets and entries, model versions and the training queue.
-- Every row is keyed by (account_id, region) like the collections; a project goes with its datasets, versions and
-- jobs (ON DELETE CASCADE), though DeleteProject refuses while versions exist.
CREATE TABLE projects (
    account_id TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    project_name TEXT COLLATE "C" NOT NULL,
    arn TEXT NOT NULL,
    created_at_s DOUBLE PRECISION NOT NULL,
    feature TEXT NOT NULL,
    auto_update TEXT,
    PRIMARY KEY (account_id, region, project_name)
);

-- One TRAIN and one TEST dataset at most a project. Datasets are built in the call that creates them, so `status`
-- only ever reads *_COMPLETE; the column keeps Rekognition's field for an asynchronous build.
CREATE TABLE datasets (
    account_id TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    project_name TEXT COLLATE "C" NOT NULL,
    dataset_type TEXT COLLATE "C" NOT NULL,
    arn TEXT NOT NULL,
    created_at_s DOUBLE PRECISION NOT NULL,
    updated_at_s DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (account_id, region, project_name, dataset_type),
    FOREIGN KEY (account_id, region, project_name)
        REFERENCES projects (account_id, region, project_name) ON DELETE CASCADE
);

-- One image of a dataset: its SageMaker Ground Truth JSON line, kept as given (normalised), keyed by source-ref.
-- `labels` is the entry's label names as a JSON list, `box_count` its bounding boxes, for listings and stats.
CREATE TABLE dataset_entries (
    account_id TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    project_name TEXT COLLATE "C" NOT NULL,
    dataset_type TEXT COLLATE "C" NOT NULL,
    source_ref TEXT COLLATE "C" NOT NULL,
    entry TEXT NOT NULL,
    labels TEXT NOT NULL,
    box_count INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, project_name, dataset_type, source_ref),
    FOREIGN KEY (account_id, region, project_name, dataset_type)
        REFERENCES datasets (account_id, region, project_name, dataset_type) ON DELETE CASCADE
);

-- A model version: its lifecycle (`status`), what training wrote (`description`: JSON of the evaluation, results
-- and timings) and the trained head (`artefact`, an .npz; a copy lies in the data folder).
CREATE TABLE project_versions (
    account_id TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    project_name TEXT COLLATE "C" NOT NULL,
    version_name TEXT COLLATE "C" NOT NULL,
    arn TEXT NOT NULL,
    created_at_s DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT NOT NULL,
    request TEXT NOT NULL,
    description TEXT NOT NULL,
    progress_percent DOUBLE PRECISION NOT NULL,
    min_inference_units INTEGER,
    artefact BYTEA,
    PRIMARY KEY (account_id, region, project_name, version_name),
    FOREIGN KEY (account_id, region, project_name)
        REFERENCES projects (account_id, region, project_name) ON DELETE CASCADE
);

-- The training queue: one row a version still to train. A worker claims a row (`claimed_by`, `heartbeat_at_s`)
-- and keeps the heartbeat fresh; a row whose heartbeat is stale was left by a worker that died and is claimed
-- again (`attempts` counts claims). `entries` is the training and test data as it was at CreateProjectVersion.
CREATE TABLE training_jobs (
    account_id TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    project_name TEXT COLLATE "C" NOT NULL,
    version_name TEXT COLLATE "C" NOT NULL,
    queued_at_s DOUBLE PRECISION NOT NULL,
    entries TEXT NOT NULL,
    claimed_by TEXT,
    heartbeat_at_s DOUBLE PRECISION,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, region, project_name, version_name),
    FOREIGN KEY (account_id, region, project_name, version_name)
        REFERENCES project_versions (account_id, region, project_name, version_name) ON DELETE CASCADE
);

CREATE INDEX training_jobs_by_age ON training_jobs (queued_at_s);
