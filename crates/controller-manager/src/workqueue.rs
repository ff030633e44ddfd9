//! A rate-limited work queue with client-go's semantics and metric names: a key is
//! queued at most once; a key being processed that is added again is processed once
//! more after `done`; failures back off per key (5 ms doubling to 1000 s, like
//! client-go's default controller rate limiter); `forget` resets the backoff.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};
use tokio::sync::Notify;

/// The workqueue_* families, labelled by queue name as upstream.
#[derive(Clone)]
pub struct WorkqueueMetrics {
    depth: IntGaugeVec,
    adds: IntCounterVec,
    queue_duration: HistogramVec,
    work_duration: HistogramVec,
    retries: IntCounterVec,
}

fn buckets() -> Vec<f64> {
    // client-go: ExponentialBuckets(10e-9, 10, 10).
    (0..10).map(|i| 1e-8 * 10f64.powi(i)).collect()
}

impl WorkqueueMetrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let depth = IntGaugeVec::new(
            Opts::new("workqueue_depth", "Current depth of workqueue"),
            &["name"],
        )?;
        let adds = IntCounterVec::new(
            Opts::new(
                "workqueue_adds_total",
                "Total number of adds handled by workqueue",
            ),
            &["name"],
        )?;
        let queue_duration = HistogramVec::new(
            HistogramOpts::new(
                "workqueue_queue_duration_seconds",
                "How long in seconds an item stays in workqueue before being requested.",
            )
            .buckets(buckets()),
            &["name"],
        )?;
        let work_duration = HistogramVec::new(
            HistogramOpts::new(
                "workqueue_work_duration_seconds",
                "How long in seconds processing an item from workqueue takes.",
            )
            .buckets(buckets()),
            &["name"],
        )?;
        let retries = IntCounterVec::new(
            Opts::new(
                "workqueue_retries_total",
                "Total number of retries handled by workqueue",
            ),
            &["name"],
        )?;
        registry.register(Box::new(depth.clone()))?;
        registry.register(Box::new(adds.clone()))?;
        registry.register(Box::new(queue_duration.clone()))?;
        registry.register(Box::new(work_duration.clone()))?;
        registry.register(Box::new(retries.clone()))?;
        Ok(WorkqueueMetrics {
            depth,
            adds,
            queue_duration,
            work_duration,
            retries,
        })
    }
}

struct State<K> {
    queue: VecDeque<K>,
    /// Keys waiting to be processed (queued, or re-added while processing).
    dirty: HashSet<K>,
    processing: HashMap<K, Instant>,
    added_at: HashMap<K, Instant>,
    failures: HashMap<K, u32>,
    shutting_down: bool,
}

struct Inner<K> {
    name: String,
    state: Mutex<State<K>>,
    notify: Notify,
    metrics: WorkqueueMetrics,
}

pub struct WorkQueue<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        WorkQueue {
            inner: self.inner.clone(),
        }
    }
}

const BASE_DELAY: Duration = Duration::from_millis(5);
const MAX_DELAY: Duration = Duration::from_secs(1000);

/// client-go's ItemExponentialFailureRateLimiter delay for the n-th failure (0-based).
pub fn backoff_delay(failures: u32) -> Duration {
    let factor = 2u64.saturating_pow(failures.min(40));
    BASE_DELAY
        .checked_mul(u32::try_from(factor).unwrap_or(u32::MAX))
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

impl<K: Clone + Eq + Hash + Send + Sync + 'static> WorkQueue<K> {
    pub fn new(name: &str, metrics: &WorkqueueMetrics) -> Self {
        WorkQueue {
            inner: Arc::new(Inner {
                name: name.to_string(),
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    dirty: HashSet::new(),
                    processing: HashMap::new(),
                    added_at: HashMap::new(),
                    failures: HashMap::new(),
                    shutting_down: false,
                }),
                notify: Notify::new(),
                metrics: metrics.clone(),
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<K>> {
        // A panic while holding the lock leaves plain data behind; keep going.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, key: K) {
        let mut s = self.lock();
        if s.shutting_down || s.dirty.contains(&key) {
            return;
        }
        self.inner
            .metrics
            .adds
            .with_label_values(&[&self.inner.name])
            .inc();
        s.dirty.insert(key.clone());
        s.added_at.insert(key.clone(), Instant::now());
        if s.processing.contains_key(&key) {
            return;
        }
        s.queue.push_back(key);
        self.inner
            .metrics
            .depth
            .with_label_values(&[&self.inner.name])
            .set(s.queue.len() as i64);
        drop(s);
        self.inner.notify.notify_one();
    }

    /// Adds `key` once `delay` has passed (a tokio timer).
    pub fn add_after(&self, key: K, delay: Duration) {
        if delay.is_zero() {
            self.add(key);
            return;
        }
        let q = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            q.add(key);
        });
    }

    /// Re-queues a failed key after its per-key backoff.
    pub fn add_rate_limited(&self, key: K) {
        let delay = {
            let mut s = self.lock();
            let n = s.failures.entry(key.clone()).or_insert(0);
            let d = backoff_delay(*n);
            *n = n.saturating_add(1);
            d
        };
        self.inner
            .metrics
            .retries
            .with_label_values(&[&self.inner.name])
            .inc();
        self.add_after(key, delay);
    }

    /// Stops tracking `key`'s failures (call after a successful sync).
    pub fn forget(&self, key: &K) {
        self.lock().failures.remove(key);
    }

    pub fn num_requeues(&self, key: &K) -> u32 {
        self.lock().failures.get(key).copied().unwrap_or(0)
    }

    /// The next key, waiting for one; None once the queue is shut down and drained.
    pub async fn get(&self) -> Option<K> {
        loop {
            let notified = self.inner.notify.notified();
            {
                let mut s = self.lock();
                if let Some(key) = s.queue.pop_front() {
                    let now = Instant::now();
                    if let Some(at) = s.added_at.remove(&key) {
                        self.inner
                            .metrics
                            .queue_duration
                            .with_label_values(&[&self.inner.name])
                            .observe(now.duration_since(at).as_secs_f64());
                    }
                    s.dirty.remove(&key);
                    s.processing.insert(key.clone(), now);
                    self.inner
                        .metrics
                        .depth
                        .with_label_values(&[&self.inner.name])
                        .set(s.queue.len() as i64);
                    return Some(key);
                }
                if s.shutting_down {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Marks `key` processed; if it was added meanwhile it is queued again.
    pub fn done(&self, key: &K) {
        let mut s = self.lock();
        if let Some(started) = s.processing.remove(key) {
            self.inner
                .metrics
                .work_duration
                .with_label_values(&[&self.inner.name])
                .observe(started.elapsed().as_secs_f64());
        }
        if s.dirty.contains(key) {
            s.queue.push_back(key.clone());
            self.inner
                .metrics
                .depth
                .with_label_values(&[&self.inner.name])
                .set(s.queue.len() as i64);
            drop(s);
            self.inner.notify.notify_one();
        }
    }

    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wakes every waiting `get`, which return None once the queue is drained.
    pub fn shut_down(&self) {
        self.lock().shutting_down = true;
        self.inner.notify.notify_waiters();
    }
}

/// Runs `workers` tasks that take keys and call `sync`; a failed sync is logged and
/// retried with backoff, a successful one forgets the key's failures. Returns when the
/// queue shuts down.
pub async fn run_workers<K, F, Fut>(queue: WorkQueue<K>, workers: usize, sync: F)
where
    K: Clone + Eq + Hash + Send + Sync + std::fmt::Debug + 'static,
    F: Fn(K) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let mut tasks = Vec::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let sync = sync.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(key) = queue.get().await {
                match sync(key.clone()).await {
                    Ok(()) => queue.forget(&key),
                    Err(e) => {
                        tracing::warn!(queue = queue.name(), key = ?key, error = %format!("{e:#}"), "sync failed, requeuing");
                        queue.add_rate_limited(key.clone());
                    }
                }
                queue.done(&key);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> WorkQueue<String> {
        let m = WorkqueueMetrics::register(&Registry::new()).unwrap();
        WorkQueue::new("test", &m)
    }

    #[tokio::test]
    async fn a_key_is_queued_once() {
        let q = queue();
        q.add("a".into());
        q.add("a".into());
        q.add("b".into());
        assert_eq!(q.len(), 2);
        assert_eq!(q.get().await.as_deref(), Some("a"));
        assert_eq!(q.get().await.as_deref(), Some("b"));
    }

    #[tokio::test]
    async fn re_added_while_processing_is_processed_again_after_done() {
        let q = queue();
        q.add("a".into());
        let k = q.get().await.unwrap();
        q.add("a".into());
        assert_eq!(q.len(), 0, "not handed out twice at once");
        q.done(&k);
        assert_eq!(q.len(), 1);
    }

    #[tokio::test]
    async fn shut_down_drains_then_ends() {
        let q = queue();
        q.add("a".into());
        q.shut_down();
        assert_eq!(q.get().await.as_deref(), Some("a"));
        assert_eq!(q.get().await, None);
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        assert_eq!(backoff_delay(0), Duration::from_millis(5));
        assert_eq!(backoff_delay(1), Duration::from_millis(10));
        assert_eq!(backoff_delay(30), MAX_DELAY);
        assert_eq!(backoff_delay(100), MAX_DELAY);
    }

    #[tokio::test]
    async fn rate_limited_counts_and_forget_resets() {
        let q = queue();
        q.add_rate_limited("a".into());
        q.add_rate_limited("a".into());
        assert_eq!(q.num_requeues(&"a".to_string()), 2);
        q.forget(&"a".to_string());
        assert_eq!(q.num_requeues(&"a".to_string()), 0);
    }
}
