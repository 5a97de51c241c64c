//! Request rate limits by key (an IP, an account), kept in `rate_limit_windows` so that every server
//! process on the database shares one budget: at most `max` hits per `window`, counted in fixed windows
//! that start with a key's first hit. The door decides the keys and the limits; this counts them.

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::store::{Db, Tx};
use crate::with_tx;

/// At most `max` hits per `window` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Millis,
}

/// One key's window as stored.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
struct Window {
    started_at: Millis,
    /// When this key's window ends: each key keeps its own length.
    ends_at: Millis,
    hits: i32,
}

impl Window {
    fn live(&self, now: Millis) -> bool {
        now >= self.started_at && now < self.ends_at
    }
}

/// About one call in this many also deletes the windows that have ended.
const PRUNE_ONE_IN: u32 = 256;

/// Counts a hit on `key`; `rate_limited` (with when to retry) once the window's budget is spent.
/// A refused hit does not count, so a client that waits as told gets in.
pub async fn hit(db: &Db, key: &str, limit: Limit, now: Millis) -> Result<()> {
    hit_all(db, &[(key, limit)], now).await
}

/// Checks several keys at once, in one transaction: the hit counts on each only when all of them admit
/// it; when one refuses, the answer is the latest time any of them allows again. The keys' rows are
/// taken in key order and held until the transaction ends (an upsert locks the row on PostgreSQL; a
/// SQLite write transaction holds the database), so concurrent hits from any process count one after
/// the other.
pub async fn hit_all(db: &Db, keys: &[(&str, Limit)], now: Millis) -> Result<()> {
    let mut keys: Vec<(&str, Limit)> = keys.to_vec();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    keys.dedup_by(|a, b| a.0 == b.0);
    let mut tx = db.begin().await?;
    let mut windows = Vec::with_capacity(keys.len());
    for (key, limit) in &keys {
        let w: Window = with_tx!(&mut tx, |c| sqlx::query_as(
            "INSERT INTO rate_limit_windows (key, started_at, ends_at, hits) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING started_at, ends_at, hits"
        )
        .bind(*key)
        .bind(now)
        .bind(now.saturating_add(limit.window))
        .fetch_one(c)
        .await?);
        windows.push(w);
    }
    let refused = keys
        .iter()
        .zip(&windows)
        .filter(|((_, l), w)| w.live(now) && w.hits >= i32::try_from(l.max).unwrap_or(i32::MAX))
        .map(|(_, w)| w.ends_at)
        .max();
    if let Some(retry_at) = refused {
        // Nothing counts: the transaction (and any row it made) is dropped.
        return Err(Error::RateLimited { retry_at });
    }
    for ((key, limit), w) in keys.iter().zip(&windows) {
        let (started_at, ends_at, hits) = if w.live(now) {
            (w.started_at, w.ends_at, w.hits.saturating_add(1))
        } else {
            (now, now.saturating_add(limit.window), 1)
        };
        with_tx!(&mut tx, |c| sqlx::query(
            "UPDATE rate_limit_windows SET started_at = $2, ends_at = $3, hits = $4 WHERE key = $1"
        )
        .bind(*key)
        .bind(started_at)
        .bind(ends_at)
        .bind(hits)
        .execute(c)
        .await?
        .rows_affected());
    }
    if rand::random::<u32>() % PRUNE_ONE_IN == 0 {
        prune_in(&mut tx, now).await?;
    }
    tx.commit().await
}

/// Deletes the windows that have ended by `now`; returns how many.
pub async fn prune(db: &Db, now: Millis) -> Result<u64> {
    let mut tx = db.begin().await?;
    let n = prune_in(&mut tx, now).await?;
    tx.commit().await?;
    Ok(n)
}

async fn prune_in(tx: &mut Tx, now: Millis) -> Result<u64> {
    Ok(with_tx!(tx, |c| sqlx::query(
        "DELETE FROM rate_limit_windows WHERE ends_at <= $1"
    )
    .bind(now)
    .execute(c)
    .await?
    .rows_affected()))
}
