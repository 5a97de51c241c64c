//! Request rate limits by key (an IP, an account): at most `max` hits per `window`, counted in fixed
//! windows that start with a key's first hit. The state lives in memory, per server process — it guards
//! against floods and guessing, while the durable lockout in [`crate::rules`] guards accounts across
//! restarts and servers. Time comes from the caller, so the arithmetic is exact in tests.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{Error, Millis, Result};

/// A limit: `max` hits per `window` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Millis,
}

impl Limit {
    /// Parses `N/DURATION`, e.g. `10/1m`, `100/1h` (durations as in the policy: `30s`, `15m`, `1h`).
    pub fn parse(field: &str, text: &str) -> Result<Limit> {
        let rule = "must be N/DURATION such as 10/1m (at most N requests per duration), N ≥ 1";
        let (n, d) = text.trim().split_once('/').ok_or_else(|| Error::invalid(field, rule))?;
        let max: u32 = n.trim().parse().map_err(|_| Error::invalid(field, rule))?;
        let window = crate::policy::Duration::parse(d.trim())
            .map(|d| d.as_millis())
            .ok_or_else(|| Error::invalid(field, rule))?;
        if max == 0 || window <= 0 {
            return Err(Error::invalid(field, rule));
        }
        Ok(Limit { max, window })
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started_at: Millis,
    hits: u32,
}

/// Above this many keys, windows that have ended are dropped on the next hit.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, Window>>,
}

impl RateLimiter {
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Counts a hit on `key`; `rate_limited` (with when to retry) once the window's budget is spent.
    /// A refused hit does not count, so a client that waits as told gets in.
    pub fn hit(&self, key: &str, limit: Limit, now: Millis) -> Result<()> {
        let mut map = self
            .windows
            .lock()
            .map_err(|_| Error::Unexpected("rate limiter poisoned".into()))?;
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, w| now - w.started_at < limit.window);
        }
        let w = map.entry(key.to_owned()).or_insert(Window {
            started_at: now,
            hits: 0,
        });
        if now - w.started_at >= limit.window || now < w.started_at {
            *w = Window {
                started_at: now,
                hits: 0,
            };
        }
        if w.hits >= limit.max {
            return Err(Error::RateLimited {
                retry_at: w.started_at + limit.window,
            });
        }
        w.hits += 1;
        Ok(())
    }

    /// Checks several keys at once: the hit counts on each only when all of them admit it.
    pub fn hit_all(&self, keys: &[(&str, Limit)], now: Millis) -> Result<()> {
        let map = self
            .windows
            .lock()
            .map_err(|_| Error::Unexpected("rate limiter poisoned".into()))?;
        let mut retry_at: Option<Millis> = None;
        for (key, limit) in keys {
            if let Some(w) = map.get(*key) {
                let live = now - w.started_at < limit.window && now >= w.started_at;
                if live && w.hits >= limit.max {
                    let at = w.started_at + limit.window;
                    retry_at = Some(retry_at.map_or(at, |r: Millis| r.max(at)));
                }
            }
        }
        if let Some(retry_at) = retry_at {
            return Err(Error::RateLimited { retry_at });
        }
        drop(map);
        for (key, limit) in keys {
            self.hit(key, *limit, now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    #[test]
    fn a_window_admits_max_hits_then_says_when_to_retry() {
        let rl = RateLimiter::new();
        let l = Limit { max: 3, window: MIN };
        for i in 0..3 {
            rl.hit("ip:1", l, 1_000 + i).expect("within the budget");
        }
        match rl.hit("ip:1", l, 2_000) {
            Err(Error::RateLimited { retry_at }) => assert_eq!(retry_at, 1_000 + MIN),
            other => panic!("the fourth hit in the window must be refused, got {other:?}"),
        }
        rl.hit("ip:2", l, 2_000).expect("another key has its own budget");
        rl.hit("ip:1", l, 1_000 + MIN)
            .expect("a new window starts when the old one ends");
    }

    #[test]
    fn hit_all_counts_nothing_when_one_key_refuses() {
        let rl = RateLimiter::new();
        let one = Limit { max: 1, window: MIN };
        let many = Limit { max: 10, window: MIN };
        rl.hit_all(&[("acct:a", one), ("ip:1", many)], 0).unwrap();
        assert_eq!(
            rl.hit_all(&[("acct:a", one), ("ip:1", many)], 1).unwrap_err().code(),
            "rate_limited"
        );
        for _ in 0..9 {
            rl.hit("ip:1", many, 2)
                .expect("the refused hit did not spend the IP's budget");
        }
    }

    #[test]
    fn limits_parse_with_policy_durations() {
        assert_eq!(Limit::parse("x", "10/1m").unwrap(), Limit { max: 10, window: MIN });
        for bad in ["", "10", "0/1m", "x/1m", "10/forever"] {
            assert_eq!(Limit::parse("x", bad).unwrap_err().field(), Some("x"), "{bad:?}");
        }
    }
}
