//! Brute-force protection: failed logins counted per client address and per user name. After
//! [`Policy::free_failures`] failures, each further failure locks the key out for a delay that
//! doubles up to [`Policy::max_lock`]; a success clears the user's and the address's record.
//! A locked-out attempt is answered exactly like a wrong password.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The lock-out rules.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed before the first lock.
    pub free_failures: u32,
    /// The first lock; each further failure doubles it.
    pub first_lock: Duration,
    pub max_lock: Duration,
    /// A record with no failure for this long is forgotten.
    pub forget_after: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            free_failures: 5,
            first_lock: Duration::from_secs(30),
            max_lock: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(60 * 60),
        }
    }
}

/// Records kept per table at most, so that a flood of made-up names cannot exhaust memory.
const MAX_RECORDS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

struct Table<K> {
    records: HashMap<K, Record>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new() -> Self {
        Self {
            records: HashMap::new(),
        }
    }

    fn locked(&self, key: &K, now: Instant) -> Option<Duration> {
        let until = self.records.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    fn fail(&mut self, key: K, now: Instant, policy: &Policy) {
        if self.records.len() >= MAX_RECORDS {
            self.records
                .retain(|_, r| now.duration_since(r.last_failure) < policy.forget_after);
            if self.records.len() >= MAX_RECORDS {
                // Still full of fresh records: make room by dropping an arbitrary one.
                if let Some(k) = self.records.keys().next().cloned() {
                    self.records.remove(&k);
                }
            }
        }
        let r = self.records.entry(key).or_insert(Record {
            failures: 0,
            last_failure: now,
            locked_until: None,
        });
        if now.duration_since(r.last_failure) >= policy.forget_after {
            r.failures = 0;
        }
        r.failures += 1;
        r.last_failure = now;
        if r.failures > policy.free_failures {
            let doublings = (r.failures - policy.free_failures - 1).min(16);
            let lock = policy
                .first_lock
                .saturating_mul(1 << doublings)
                .min(policy.max_lock);
            r.locked_until = Some(now + lock);
        }
    }

    fn clear(&mut self, key: &K) {
        self.records.remove(key);
    }
}

/// Failed-login bookkeeping for every door (text, JSON, web).
pub struct Lockout {
    policy: Policy,
    tables: Mutex<(Table<IpAddr>, Table<String>)>,
}

impl Lockout {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            tables: Mutex::new((Table::new(), Table::new())),
        }
    }

    /// How long `user` from `ip` must still wait, if either is locked out.
    pub fn locked(&self, ip: IpAddr, user: &str) -> Option<Duration> {
        let now = Instant::now();
        let t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        match (t.0.locked(&ip, now), t.1.locked(&user.to_owned(), now)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn failed(&self, ip: IpAddr, user: &str) {
        let now = Instant::now();
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        t.0.fail(ip, now, &self.policy);
        t.1.fail(user.to_owned(), now, &self.policy);
    }

    pub fn succeeded(&self, ip: IpAddr, user: &str) {
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        t.0.clear(&ip);
        t.1.clear(&user.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> Policy {
        Policy {
            free_failures: 3,
            first_lock: Duration::from_secs(60),
            ..Default::default()
        }
    }

    #[test]
    fn locks_after_the_free_failures_per_address_and_per_user() {
        let l = Lockout::new(quick());
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        for _ in 0..3 {
            l.failed(a, "admin");
            assert!(l.locked(a, "admin").is_none());
        }
        l.failed(a, "admin");
        assert!(l.locked(a, "admin").is_some());
        assert!(
            l.locked(a, "other").is_some(),
            "the address is locked for every user"
        );
        assert!(
            l.locked(b, "admin").is_some(),
            "the user is locked from every address"
        );
        assert!(l.locked(b, "other").is_none(), "others are not slowed");
    }

    #[test]
    fn locks_grow_and_are_capped() {
        let l = Lockout::new(quick());
        let a: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..4 {
            l.failed(a, "u");
        }
        let first = l.locked(a, "u").expect("locked");
        l.failed(a, "u");
        let second = l.locked(a, "u").expect("locked");
        assert!(second > first + Duration::from_secs(30));
        for _ in 0..40 {
            l.failed(a, "u");
        }
        assert!(l.locked(a, "u").expect("locked") <= Duration::from_secs(15 * 60));
    }

    #[test]
    fn success_clears_the_record() {
        let l = Lockout::new(quick());
        let a: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..3 {
            l.failed(a, "u");
        }
        l.succeeded(a, "u");
        l.failed(a, "u");
        assert!(l.locked(a, "u").is_none());
    }
}
