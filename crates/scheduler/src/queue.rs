//! The scheduling queue (upstream's `PriorityQueue`): activeQ ordered by priority then
//! time added; backoffQ for pods that failed recently (1 s doubling to 10 s); the
//! unschedulable pods, moved back when the cluster changes (node added or updated, pod
//! deleted) or after 5 minutes. Pure: every time-dependent call takes `now`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::cache::PodInfo;

/// upstream --pod-initial-backoff-seconds.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// upstream --pod-max-backoff-seconds.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// upstream podMaxInUnschedulablePodsDuration.
pub const MAX_IN_UNSCHEDULABLE: Duration = Duration::from_secs(300);

/// A pod waiting in the queue.
#[derive(Clone, Debug)]
pub struct QueuedPod {
    pub info: PodInfo,
    /// When it was (re)added; orders equal priorities.
    pub timestamp: Instant,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// When it was first added (for the end-to-end latency metric).
    pub initial: Instant,
    /// The cycle in which it was popped (set by pop).
    pub cycle: u64,
}

#[derive(Debug, PartialEq, Eq)]
struct HeapEntry {
    priority: i32,
    timestamp: Instant,
    seq: u64,
    key: String,
}

impl Ord for HeapEntry {
    fn cmp(&self, o: &Self) -> Ordering {
        // Max-heap: higher priority first, then older, then inserted first.
        self.priority
            .cmp(&o.priority)
            .then_with(|| o.timestamp.cmp(&self.timestamp))
            .then_with(|| o.seq.cmp(&self.seq))
    }
}

impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// upstream isPodUpdated: whether anything but status and bookkeeping changed.
fn spec_or_labels_changed(old: &PodInfo, new: &PodInfo) -> bool {
    old.pod.spec != new.pod.spec
        || old.pod.metadata.labels != new.pod.metadata.labels
        || old.pod.metadata.annotations != new.pod.metadata.annotations
}

/// Upstream's calculateBackoffDuration: 1 s, 2 s, 4 s, 8 s, 10 s, 10 s ...
pub fn backoff_duration(attempts: u32, initial: Duration, max: Duration) -> Duration {
    let mut d = initial;
    for _ in 1..attempts {
        d = d.saturating_mul(2);
        if d > max {
            return max;
        }
    }
    d.min(max)
}

#[derive(Debug)]
pub struct SchedulingQueue {
    heap: BinaryHeap<HeapEntry>,
    active: HashMap<String, (u64, QueuedPod)>,
    backoff: HashMap<String, QueuedPod>,
    unschedulable: HashMap<String, QueuedPod>,
    in_flight: HashSet<String>,
    seq: u64,
    scheduling_cycle: u64,
    move_request_cycle: u64,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for SchedulingQueue {
    fn default() -> Self {
        SchedulingQueue {
            heap: BinaryHeap::new(),
            active: HashMap::new(),
            backoff: HashMap::new(),
            unschedulable: HashMap::new(),
            in_flight: HashSet::new(),
            seq: 0,
            scheduling_cycle: 0,
            move_request_cycle: 0,
            initial_backoff: INITIAL_BACKOFF,
            max_backoff: MAX_BACKOFF,
        }
    }
}

impl SchedulingQueue {
    pub fn new() -> Self {
        Self::default()
    }

    fn push_active(&mut self, qp: QueuedPod) {
        self.seq += 1;
        self.heap.push(HeapEntry {
            priority: qp.info.priority,
            timestamp: qp.timestamp,
            seq: self.seq,
            key: qp.info.key.clone(),
        });
        self.active.insert(qp.info.key.clone(), (self.seq, qp));
    }

    fn backoff_expiry(&self, qp: &QueuedPod) -> Instant {
        qp.timestamp + backoff_duration(qp.attempts, self.initial_backoff, self.max_backoff)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.active.contains_key(key)
            || self.backoff.contains_key(key)
            || self.unschedulable.contains_key(key)
            || self.in_flight.contains(key)
    }

    /// A new pending pod (or an update to one already queued).
    pub fn add(&mut self, info: PodInfo, now: Instant) {
        let key = info.key.clone();
        if let Some((_, qp)) = self.active.remove(&key) {
            // Re-push with the new priority; the old heap entry goes stale.
            self.push_active(QueuedPod { info, ..qp });
        } else if let Some(qp) = self.backoff.get_mut(&key) {
            qp.info = info;
        } else if let Some(old) = self.unschedulable.get_mut(&key) {
            // A status-only update (our own PodScheduled condition) changes nothing.
            if !spec_or_labels_changed(&old.info, &info) {
                old.info = info;
                return;
            }
            let Some(qp) = self.unschedulable.remove(&key) else {
                return;
            };
            // An updated pod may now fit: retry it (after its backoff).
            let qp = QueuedPod { info, ..qp };
            if self.backoff_expiry(&qp) > now {
                self.backoff.insert(key, qp);
            } else {
                self.push_active(QueuedPod {
                    timestamp: now,
                    ..qp
                });
            }
        } else if !self.in_flight.contains(&key) {
            self.push_active(QueuedPod {
                info,
                timestamp: now,
                attempts: 0,
                initial: now,
                cycle: 0,
            });
        }
    }

    pub fn delete(&mut self, key: &str) {
        self.active.remove(key);
        self.backoff.remove(key);
        self.unschedulable.remove(key);
    }

    /// The next pod to schedule, if any is active.
    pub fn pop(&mut self) -> Option<QueuedPod> {
        while let Some(e) = self.heap.pop() {
            let current = self.active.get(&e.key).map(|(s, _)| *s);
            if current != Some(e.seq) {
                continue;
            }
            let Some((_, mut qp)) = self.active.remove(&e.key) else {
                continue;
            };
            self.scheduling_cycle += 1;
            qp.attempts += 1;
            qp.cycle = self.scheduling_cycle;
            self.in_flight.insert(e.key);
            return Some(qp);
        }
        None
    }

    /// The pod left the scheduling cycle (bound, or re-queued).
    pub fn done(&mut self, key: &str) {
        self.in_flight.remove(key);
    }

    /// A failed attempt: `unschedulable` (no node fits) waits for a cluster event
    /// unless one already happened during its cycle; other errors back off.
    pub fn requeue(&mut self, mut qp: QueuedPod, unschedulable: bool, now: Instant) {
        let key = qp.info.key.clone();
        self.in_flight.remove(&key);
        if self.contains(&key) {
            return;
        }
        qp.timestamp = now;
        if !unschedulable || self.move_request_cycle >= qp.cycle {
            self.backoff.insert(key, qp);
        } else {
            self.unschedulable.insert(key, qp);
        }
    }

    /// A cluster event that may make unschedulable pods fit (upstream
    /// MoveAllToActiveOrBackoffQueue).
    pub fn move_all_to_active_or_backoff(&mut self, now: Instant) {
        let pods: Vec<QueuedPod> = self.unschedulable.drain().map(|(_, v)| v).collect();
        for qp in pods {
            if self.backoff_expiry(&qp) > now {
                self.backoff.insert(qp.info.key.clone(), qp);
            } else {
                self.push_active(QueuedPod {
                    timestamp: now,
                    ..qp
                });
            }
        }
        self.move_request_cycle = self.scheduling_cycle;
    }

    /// Moves pods whose backoff is over to activeQ (upstream runs this every second).
    pub fn flush_backoff_completed(&mut self, now: Instant) -> usize {
        let done: Vec<String> = self
            .backoff
            .iter()
            .filter(|(_, qp)| self.backoff_expiry(qp) <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &done {
            if let Some(qp) = self.backoff.remove(k) {
                self.push_active(qp);
            }
        }
        done.len()
    }

    /// Retries pods unschedulable for longer than 5 minutes (upstream runs this every
    /// 30 s).
    pub fn flush_unschedulable_leftover(&mut self, now: Instant, max: Duration) -> usize {
        let old: Vec<String> = self
            .unschedulable
            .iter()
            .filter(|(_, qp)| now.duration_since(qp.timestamp) >= max)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &old {
            if let Some(qp) = self.unschedulable.remove(k) {
                if self.backoff_expiry(&qp) > now {
                    self.backoff.insert(k.clone(), qp);
                } else {
                    self.push_active(QueuedPod {
                        timestamp: now,
                        ..qp
                    });
                }
            }
        }
        old.len()
    }

    /// (active, backoff, unschedulable) lengths for scheduler_pending_pods.
    pub fn lengths(&self) -> (usize, usize, usize) {
        (
            self.active.len(),
            self.backoff.len(),
            self.unschedulable.len(),
        )
    }
}

/// The queue shared by the watch handlers and the scheduling loop.
#[derive(Default)]
pub struct SharedQueue {
    pub inner: Mutex<SchedulingQueue>,
    notify: Notify,
}

impl SharedQueue {
    pub fn new(queue: SchedulingQueue) -> SharedQueue {
        SharedQueue {
            inner: Mutex::new(queue),
            notify: Notify::new(),
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut SchedulingQueue) -> R) -> R {
        let mut q = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let r = f(&mut q);
        if q.lengths().0 > 0 {
            self.notify.notify_one();
        }
        r
    }

    /// Waits for the next active pod.
    pub async fn pop(&self) -> QueuedPod {
        loop {
            let notified = self.notify.notified();
            if let Some(qp) = self.with(|q| q.pop()) {
                return qp;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::pod;
    use std::sync::Arc;

    fn info(name: &str, priority: i32) -> PodInfo {
        let mut p = pod("ns", name, None, "100m");
        if let Some(s) = p.spec.as_mut() {
            s.priority = Some(priority);
        }
        PodInfo::new(Arc::new(p))
    }

    #[test]
    fn backoff_doubles_from_one_to_ten_seconds() {
        let d = |a| backoff_duration(a, INITIAL_BACKOFF, MAX_BACKOFF).as_secs();
        assert_eq!([d(1), d(2), d(3), d(4), d(5), d(9)], [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn active_queue_orders_by_priority_then_time() {
        let mut q = SchedulingQueue::new();
        let t = Instant::now();
        q.add(info("low-old", 0), t);
        q.add(info("high", 100), t + Duration::from_secs(2));
        q.add(info("low-new", 0), t + Duration::from_secs(1));
        let order: Vec<String> = std::iter::from_fn(|| q.pop()).map(|p| p.info.key).collect();
        assert_eq!(order, ["ns/high", "ns/low-old", "ns/low-new"]);
    }

    #[test]
    fn unschedulable_pods_wait_for_an_event_then_back_off() {
        let mut q = SchedulingQueue::new();
        let t = Instant::now();
        q.add(info("p", 0), t);
        let qp = q.pop().expect("popped");
        q.requeue(qp, true, t);
        assert_eq!(q.lengths(), (0, 0, 1));
        assert!(q.pop().is_none());
        // A node is added: still inside its 1 s backoff -> backoffQ.
        q.move_all_to_active_or_backoff(t + Duration::from_millis(500));
        assert_eq!(q.lengths(), (0, 1, 0));
        assert_eq!(q.flush_backoff_completed(t + Duration::from_millis(900)), 0);
        assert_eq!(q.flush_backoff_completed(t + Duration::from_secs(1)), 1);
        let qp = q.pop().expect("popped again");
        assert_eq!(qp.attempts, 2);
        // Second failure: 2 s backoff, and after 5 minutes it is retried anyway.
        q.requeue(qp, true, t + Duration::from_secs(1));
        assert_eq!(
            q.flush_unschedulable_leftover(t + Duration::from_secs(60), MAX_IN_UNSCHEDULABLE),
            0
        );
        assert_eq!(
            q.flush_unschedulable_leftover(t + Duration::from_secs(302), MAX_IN_UNSCHEDULABLE),
            1
        );
        assert_eq!(q.lengths(), (1, 0, 0));
    }

    #[test]
    fn an_event_during_the_cycle_sends_the_pod_to_backoff() {
        let mut q = SchedulingQueue::new();
        let t = Instant::now();
        q.add(info("p", 0), t);
        let qp = q.pop().expect("popped");
        q.move_all_to_active_or_backoff(t);
        q.requeue(qp, true, t);
        assert_eq!(q.lengths(), (0, 1, 0));
    }

    #[test]
    fn delete_and_update() {
        let mut q = SchedulingQueue::new();
        let t = Instant::now();
        q.add(info("a", 0), t);
        q.add(info("b", 0), t);
        q.delete("ns/a");
        q.add(info("b", 50), t);
        let qp = q.pop().expect("b");
        assert_eq!(qp.info.priority, 50);
        assert!(q.pop().is_none());
        // A status-only update leaves an unschedulable pod waiting; a spec update
        // retries it.
        q.requeue(qp, true, t);
        q.add(info("b", 50), t + Duration::from_secs(5));
        assert_eq!(q.lengths(), (0, 0, 1));
        q.add(info("b", 60), t + Duration::from_secs(5));
        assert_eq!(q.lengths(), (1, 0, 0));
    }
}
