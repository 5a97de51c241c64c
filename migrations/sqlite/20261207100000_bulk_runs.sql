-- Bulk terminations as they run: a row when a run starts, updated in the transaction of each batch and
-- of the closing summary, so that a run stopped half-way (its process killed, its machine lost) stays
-- visible with what it did and did not do, and the next run or `warden sessions bulk-status` says so.
CREATE TABLE bulk_runs (
    id           BLOB PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    actor_label  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    target       TEXT NOT NULL,
    matched      INTEGER NOT NULL,
    terminated   INTEGER NOT NULL DEFAULT 0,
    batches      INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL,
    -- Set when the run closed: with its summary event, or as interrupted (then `interrupted` is true).
    finished_at  INTEGER,
    interrupted  INTEGER NOT NULL DEFAULT 0,
    summary_seq  INTEGER
);
CREATE INDEX bulk_runs_open ON bulk_runs (started_at) WHERE finished_at IS NULL;
