//! Container restart back-off, upstream's `flowcontrol.Backoff` as the kubelet uses it
//! for CrashLoopBackOff: 10 s after the second failure, doubling to 5 min; an entry not
//! touched for twice the maximum (10 min, e.g. a container that ran that long) starts
//! over. The first restart is immediate (no entry yet).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Upstream's kubelet defaults (`backOffPeriod`, `MaxContainerBackOff`).
pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    backoff: Duration,
    last_update: Instant,
}

/// Back-off per key (the kubelet keys by pod + container).
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    entries: HashMap<String, Entry>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(INITIAL, MAX)
    }
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            entries: HashMap::new(),
        }
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(e.last_update) > self.max * 2
    }

    /// The current delay for `key` (zero without an entry).
    pub fn get(&self, key: &str) -> Duration {
        self.entries.get(key).map(|e| e.backoff).unwrap_or_default()
    }

    /// Records a restart: a fresh or expired entry starts at the initial delay, otherwise
    /// the delay doubles up to the maximum.
    pub fn next(&mut self, key: &str, now: Instant) {
        let fresh = Entry {
            backoff: self.initial,
            last_update: now,
        };
        let entry = match self.entries.get(key) {
            Some(e) if !self.expired(e, now) => Entry {
                backoff: (e.backoff * 2).min(self.max),
                last_update: now,
            },
            _ => fresh,
        };
        self.entries.insert(key.to_string(), entry);
    }

    /// Whether a container that finished at `event_time` must still wait.
    pub fn in_backoff_since(&self, key: &str, event_time: Instant, now: Instant) -> bool {
        let Some(e) = self.entries.get(key) else {
            return false;
        };
        if event_time.saturating_duration_since(e.last_update) > self.max * 2 {
            return false;
        }
        now.saturating_duration_since(event_time) < e.backoff
    }

    /// When the container that finished at `event_time` may restart.
    pub fn ready_at(&self, key: &str, event_time: Instant) -> Instant {
        event_time + self.get(key)
    }

    /// Forgets `key` (the pod is gone).
    pub fn reset(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

/// Upstream's CrashLoopBackOff waiting message.
pub fn crash_loop_message(
    delay: Duration,
    container: &str,
    pod: &str,
    ns: &str,
    uid: &str,
) -> String {
    format!(
        "back-off {} restarting failed container={container} pod={pod}_{ns}({uid})",
        go_duration(delay)
    )
}

/// Go's `time.Duration.String()` for whole seconds: `10s`, `1m20s`, `5m0s`.
pub fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{}h{}m{}s", secs / 3600, secs % 3600 / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_max_and_resets_after_idle() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        assert!(
            !b.in_backoff_since("c", t0, t0),
            "first restart is immediate"
        );
        b.next("c", t0);
        assert_eq!(b.get("c"), INITIAL);
        assert!(b.in_backoff_since("c", t0, t0 + Duration::from_secs(9)));
        assert!(!b.in_backoff_since("c", t0, t0 + Duration::from_secs(10)));
        let mut t = t0;
        let mut seen = Vec::new();
        for _ in 0..7 {
            t += Duration::from_secs(1);
            b.next("c", t);
            seen.push(b.get("c").as_secs());
        }
        assert_eq!(seen, [20, 40, 80, 160, 300, 300, 300]);
        // Ran for more than 10 minutes: back to the initial delay.
        let later = t + Duration::from_secs(601);
        assert!(!b.in_backoff_since("c", later, later));
        b.next("c", later);
        assert_eq!(b.get("c"), INITIAL);
        b.reset("c");
        assert_eq!(b.get("c"), Duration::ZERO);
    }

    #[test]
    fn messages() {
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_secs(80)), "1m20s");
        assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(
            crash_loop_message(Duration::from_secs(20), "app", "web", "default", "u-1"),
            "back-off 20s restarting failed container=app pod=web_default(u-1)"
        );
    }
}
