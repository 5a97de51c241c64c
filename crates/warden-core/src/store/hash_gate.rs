//! Bounds the argon2 work a process does at once. Every password hash and check goes through the
//! [`HashGate`] of its [`Db`](crate::store::Db) handle: at most `concurrency` run at a time (argon2 is CPU-bound,
//! so more than the cores only adds memory), and together they hold at most `memory_mib` of argon2
//! memory (each check weighs its `m` cost). A caller that cannot start within `max_wait` gets
//! [`Error::Overloaded`] with a time to retry, instead of queueing without end: a burst of sign-ins
//! then costs bounded memory and leaves the database pool and the session checks free.

use std::time::Duration;

use tokio::sync::Semaphore;

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::policy::PasswordPolicy;
use crate::model::secret::Secret;
use crate::rules::password;

/// How much argon2 work may run at once, and how long a caller may wait for its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Hashes running at once. Default: the number of cores.
    pub concurrency: usize,
    /// Argon2 memory all running hashes may hold together, in MiB. Default: 1024.
    pub memory_mib: u32,
    /// The longest a caller waits for its turn before it is told to retry. Default: 2 s.
    pub max_wait: Duration,
}

impl Default for HashLimits {
    fn default() -> HashLimits {
        HashLimits {
            concurrency: std::thread::available_parallelism().map_or(2, usize::from),
            memory_mib: 1024,
            max_wait: Duration::from_secs(2),
        }
    }
}

/// When a caller turned away may try again.
const RETRY_AFTER: Millis = 1_000;

#[derive(Debug)]
pub struct HashGate {
    limits: HashLimits,
    cpu: Semaphore,
    memory: Semaphore,
}

impl HashGate {
    pub fn new(limits: HashLimits) -> HashGate {
        let limits = HashLimits {
            concurrency: limits.concurrency.max(1),
            memory_mib: limits.memory_mib.max(1),
            ..limits
        };
        HashGate {
            cpu: Semaphore::new(limits.concurrency),
            memory: Semaphore::new(limits.memory_mib as usize),
            limits,
        }
    }

    pub fn limits(&self) -> HashLimits {
        self.limits
    }

    /// Runs `work` (one argon2 hash or check of `memory_kib`) on the blocking threads once a slot and its
    /// memory are free; `overloaded` when that takes longer than `max_wait`.
    async fn run<T: Send + 'static>(
        &self,
        memory_kib: u32,
        now: Millis,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        // A check larger than the whole budget runs alone rather than never.
        let weight = memory_kib.div_ceil(1024).clamp(1, self.limits.memory_mib);
        let turn = async {
            let cpu = self.cpu.acquire().await;
            let memory = self.memory.acquire_many(weight).await;
            (cpu, memory)
        };
        let (cpu, memory) = match tokio::time::timeout(self.limits.max_wait, turn).await {
            Ok((Ok(cpu), Ok(memory))) => (cpu, memory),
            Ok(_) => return Err(Error::Unexpected("the hash gate was closed".into())),
            Err(_) => {
                tracing::warn!(
                    concurrency = self.limits.concurrency,
                    memory_mib = self.limits.memory_mib,
                    "password checks saturated: a sign-in was turned away"
                );
                return Err(Error::Overloaded {
                    retry_at: now + RETRY_AFTER,
                });
            }
        };
        let out = tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Unexpected(format!("password hashing task: {e}")))?;
        drop((cpu, memory));
        Ok(out)
    }

    /// [`password::hash_password`] through the gate.
    pub async fn hash(&self, pw: &Secret, policy: &PasswordPolicy, now: Millis) -> Result<String> {
        let (pw, pp) = (pw.clone(), policy.clone());
        self.run(policy.argon2_memory_kib, now, move || password::hash_password(&pw, &pp))
            .await?
    }

    /// [`password::verify_password`] through the gate; the cost is read from the stored PHC string.
    pub async fn verify(&self, pw: &Secret, phc: &str, now: Millis) -> Result<bool> {
        let memory_kib = password::phc_memory_kib(phc).unwrap_or(self.limits.memory_mib.saturating_mul(1024));
        let (pw, phc) = (pw.clone(), phc.to_owned());
        self.run(memory_kib, now, move || password::verify_password(&pw, &phc))
            .await?
    }

    /// [`password::verify_dummy`] through the gate.
    pub async fn verify_dummy(&self, pw: &Secret, policy: &PasswordPolicy, now: Millis) -> Result<()> {
        let (pw, pp) = (pw.clone(), policy.clone());
        self.run(policy.argon2_memory_kib, now, move || password::verify_dummy(&pw, &pp))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordPolicy {
        PasswordPolicy {
            argon2_memory_kib: 8192,
            argon2_iterations: 1,
            ..PasswordPolicy::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_saturated_gate_turns_callers_away_with_a_time_to_retry() {
        let gate = std::sync::Arc::new(HashGate::new(HashLimits {
            concurrency: 1,
            memory_mib: 64,
            max_wait: Duration::from_millis(1),
        }));
        let pw = Secret::new("correct horse battery staple 42");
        let calls: Vec<_> = (0..12)
            .map(|_| {
                let (gate, pw) = (gate.clone(), pw.clone());
                tokio::spawn(async move { gate.hash(&pw, &cheap(), 5_000).await })
            })
            .collect();
        let mut turned_away = 0;
        for c in calls {
            match c.await.unwrap() {
                Ok(phc) => assert!(password::verify_password(&pw, &phc).unwrap()),
                Err(Error::Overloaded { retry_at }) => {
                    assert_eq!(retry_at, 5_000 + RETRY_AFTER);
                    turned_away += 1;
                }
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(
            turned_away > 0,
            "one slot and no patience: some of twelve are turned away"
        );
        assert!(turned_away < 12, "the first one runs");
    }

    #[tokio::test]
    async fn memory_bounds_how_many_run_at_once() {
        // Two slots by cores, but 8 MiB of memory for checks of 8 MiB each: one at a time.
        let gate = HashGate::new(HashLimits {
            concurrency: 2,
            memory_mib: 8,
            max_wait: Duration::from_secs(5),
        });
        let held = gate.memory.acquire_many(8).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(50), gate.hash(&Secret::new("x"), &cheap(), 0)).await;
        assert!(waiting.is_err(), "no memory left: the hash waits");
        drop(held);
        gate.hash(&Secret::new("x"), &cheap(), 0)
            .await
            .expect("runs once the memory is free");
    }
}
