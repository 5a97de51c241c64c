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
    /// When this key's window ends: each key keeps its own length, so pruning never ends a long
    /// window early because a short one is being counted.
    ends_at: Millis,
    hits: u32,
}

impl Window {
    fn live(&self, now: Millis) -> bool {
        now >= self.started_at && now < self.ends_at
    }
}

/// Above this many keys, windows that have ended are dropped (at most once a second).
const PRUNE_ABOVE: usize = 10_000;
/// The most keys kept: past it, after pruning, the windows that end soonest are dropped first. A
/// flood from more addresses than this can only forget counts that were about to lapse anyway.
const MAX_KEYS: usize = 200_000;

#[derive(Debug, Default)]
struct Windows {
    map: HashMap<String, Window>,
    pruned_at: Millis,
}

impl Windows {
    fn prune(&mut self, now: Millis) {
        if self.map.len() <= PRUNE_ABOVE || (now - self.pruned_at).abs() < 1_000 {
            return;
        }
        self.pruned_at = now;
        self.map.retain(|_, w| w.live(now));
        if self.map.len() > MAX_KEYS {
            let mut ends: Vec<Millis> = self.map.values().map(|w| w.ends_at).collect();
            let cut = self.map.len() - MAX_KEYS * 9 / 10;
            let (_, nth, _) = ends.select_nth_unstable(cut);
            let nth = *nth;
            self.map.retain(|_, w| w.ends_at > nth);
        }
    }

    /// When `key` may be hit again, if its budget under `limit` is spent now.
    fn refused(&self, key: &str, limit: Limit, now: Millis) -> Option<Millis> {
        self.map
            .get(key)
            .filter(|w| w.live(now) && w.hits >= limit.max)
            .map(|w| w.ends_at)
    }

    fn count(&mut self, key: &str, limit: Limit, now: Millis) {
        let fresh = Window {
            started_at: now,
            ends_at: now + limit.window,
            hits: 0,
        };
        let w = self.map.entry(key.to_owned()).or_insert(fresh);
        if !w.live(now) {
            *w = fresh;
        }
        w.hits += 1;
    }
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<Windows>,
}

impl RateLimiter {
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Counts a hit on `key`; `rate_limited` (with when to retry) once the window's budget is spent.
    /// A refused hit does not count, so a client that waits as told gets in.
    pub fn hit(&self, key: &str, limit: Limit, now: Millis) -> Result<()> {
        self.hit_all(&[(key, limit)], now)
    }

    /// Checks several keys at once, under one lock: the hit counts on each only when all of them admit
    /// it; when one refuses, the answer is the latest time any of them allows again.
    pub fn hit_all(&self, keys: &[(&str, Limit)], now: Millis) -> Result<()> {
        let mut w = self
            .windows
            .lock()
            .map_err(|_| Error::Unexpected("rate limiter poisoned".into()))?;
        w.prune(now);
        if let Some(retry_at) = keys.iter().filter_map(|(k, l)| w.refused(k, *l, now)).max() {
            return Err(Error::RateLimited { retry_at });
        }
        for (key, limit) in keys {
            w.count(key, *limit, now);
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
    fn pruning_keeps_each_key_to_its_own_window() {
        let rl = RateLimiter::new();
        let long = Limit {
            max: 1,
            window: 15 * MIN,
        };
        let short = Limit { max: 100, window: MIN };
        rl.hit("verify:acct:a", long, 0).unwrap();
        // Many short-window keys, then a hit two minutes later prunes: the long window must survive.
        for i in 0..(PRUNE_ABOVE as i64 + 10) {
            rl.hit(&format!("ip:{i}"), short, 0).unwrap();
        }
        rl.hit("ip:late", short, 2 * MIN).unwrap();
        assert_eq!(
            rl.hit("verify:acct:a", long, 2 * MIN).unwrap_err().code(),
            "rate_limited",
            "a 1-minute key's pruning did not end the 15-minute window"
        );
        assert!(
            rl.windows.lock().unwrap().map.len() < 100,
            "the ended short windows are gone"
        );
    }

    #[test]
    fn a_flood_of_keys_is_bounded() {
        let rl = RateLimiter::new();
        let l = Limit {
            max: 5,
            window: 60 * MIN,
        };
        for i in 0..(MAX_KEYS as i64 + 5_000) {
            // One new key a millisecond, each pruning pass at least a second apart.
            rl.hit(&format!("ip:{i}"), l, i).unwrap();
        }
        assert!(rl.windows.lock().unwrap().map.len() <= MAX_KEYS + 1_000);
    }

    #[test]
    fn limits_parse_with_policy_durations() {
        assert_eq!(Limit::parse("x", "10/1m").unwrap(), Limit { max: 10, window: MIN });
        for bad in ["", "10", "0/1m", "x/1m", "10/forever"] {
            assert_eq!(Limit::parse("x", bad).unwrap_err().field(), Some("x"), "{bad:?}");
        }
    }
}
