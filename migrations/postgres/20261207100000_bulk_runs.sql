-- Bulk terminations as they run: a row when a run starts, updated in the transaction of each batch and
-- of the closing summary, so that a run stopped half-way (its process killed, its machine lost) stays
-- visible with what it did and did not do, and the next run or `warden sessions bulk-status` says so.
CREATE TABLE bulk_runs (
    id           uuid PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    actor_label  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    target       TEXT NOT NULL,
    matched      BIGINT NOT NULL,
    terminated   BIGINT NOT NULL DEFAULT 0,
    batches      INTEGER NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL,
    -- Set when the run closed: with its summary event, or as interrupted (then `interrupted` is true).
    finished_at  BIGINT,
    interrupted  BOOLEAN NOT NULL DEFAULT FALSE,
    summary_seq  BIGINT
);
CREATE INDEX bulk_runs_open ON bulk_runs (started_at) WHERE finished_at IS NULL;
