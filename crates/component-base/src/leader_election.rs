//! Lease-based leader election, as upstream's client-go `leaderelection` package: one
//! coordination.k8s.io/v1 Lease names the holder; the holder renews it every
//! retry period; a candidate takes it over only once it has seen the same record
//! unchanged for a whole lease duration (measured on its own clock, so clock skew
//! between machines does not matter). Writes carry the resourceVersion read, so two
//! candidates can never both win.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

/// Upstream's --leader-elect-* flags and their defaults.
#[derive(Clone, Debug)]
pub struct LeaderElectionConfig {
    pub namespace: String,
    pub name: String,
    /// holderIdentity: upstream uses `<hostname>_<uuid>`.
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

impl LeaderElectionConfig {
    /// kube-system/<name> with upstream's defaults (15 s / 10 s / 2 s).
    pub fn new(name: &str) -> Self {
        LeaderElectionConfig {
            namespace: "kube-system".to_string(),
            name: name.to_string(),
            identity: default_identity(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// `<hostname>_<uuid>`, as kube-scheduler and kube-controller-manager name themselves.
pub fn default_identity() -> String {
    format!("{}_{}", hostname(), uuid::Uuid::new_v4())
}

fn hostname() -> String {
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname fills the struct it is given; nodename is NUL-terminated.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return "localhost".to_string();
    }
    let bytes: Vec<u8> = uts
        .nodename
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).to_lowercase()
}

#[derive(Debug, thiserror::Error)]
pub enum LeaderElectionError {
    /// Upstream's fatal "leaderelection lost": the daemon must exit so that it never
    /// acts alongside a new leader.
    #[error("leaderelection lost: could not renew lease {namespace}/{name} within {deadline:?}")]
    Lost {
        namespace: String,
        name: String,
        deadline: Duration,
    },
}

/// Whether this process currently leads (for /healthz's leaderElection check and
/// metrics).
#[derive(Clone, Default)]
pub struct LeaderState(Arc<AtomicBool>);

impl LeaderState {
    pub fn is_leader(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a candidate should do next, given the Lease it read.
#[derive(Debug, PartialEq)]
enum Decision {
    /// Nobody holds it, or the holder let it expire, or it is ours: write it.
    Write { transition: bool },
    /// Someone else holds a live lease.
    Wait,
}

/// Pure: decide from the lease record, when this candidate first saw that record
/// (`observed`), and now.
fn decide(
    spec: &LeaseSpec,
    identity: &str,
    observed_at: Instant,
    now: Instant,
    default_duration: Duration,
) -> Decision {
    let holder = spec.holder_identity.as_deref().unwrap_or("");
    if holder == identity {
        return Decision::Write { transition: false };
    }
    if holder.is_empty() {
        return Decision::Write { transition: true };
    }
    let duration = spec
        .lease_duration_seconds
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
        .unwrap_or(default_duration);
    if now.duration_since(observed_at) >= duration {
        Decision::Write { transition: true }
    } else {
        Decision::Wait
    }
}

fn now_micro() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

/// Runs `lead` while this process holds the lease. Returns Ok when `shutdown`
/// resolves (the lease is released so another copy takes over at once), or
/// `Err(Lost)` when a renewal could not be made within the renew deadline — the
/// caller must then exit, as upstream does. `lead` is started once, on the first
/// acquisition, and dropped (cancelled) when leadership ends.
pub async fn run<F, Fut>(
    client: kube::Client,
    config: LeaderElectionConfig,
    state: LeaderState,
    lead: F,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    tokio::pin!(shutdown);

    // Acquire.
    let mut observed: Option<(Option<String>, Instant)> = None;
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            acquired = try_acquire_or_renew(&api, &config, &mut observed) => {
                if acquired {
                    break;
                }
            }
        }
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = tokio::time::sleep(jittered(config.retry_period)) => {}
        }
    }
    tracing::info!(lease = %format!("{}/{}", config.namespace, config.name), identity = %config.identity, "successfully acquired lease");
    state.0.store(true, Ordering::SeqCst);

    // Lead, renewing every retry period until shutdown or a renewal deadline passes.
    let leading = lead();
    tokio::pin!(leading);
    let mut last_renew = Instant::now();
    let result = loop {
        tokio::select! {
            _ = &mut shutdown => break Ok(()),
            r = &mut leading => break r,
            _ = tokio::time::sleep(config.retry_period) => {
                let renewed = tokio::time::timeout(
                    config.renew_deadline,
                    try_acquire_or_renew(&api, &config, &mut observed),
                )
                .await
                .unwrap_or(false);
                if renewed {
                    last_renew = Instant::now();
                } else if last_renew.elapsed() >= config.renew_deadline {
                    state.0.store(false, Ordering::SeqCst);
                    tracing::error!(lease = %config.name, "failed to renew lease, leadership lost");
                    return Err(LeaderElectionError::Lost {
                        namespace: config.namespace.clone(),
                        name: config.name.clone(),
                        deadline: config.renew_deadline,
                    }
                    .into());
                }
            }
        }
    };
    state.0.store(false, Ordering::SeqCst);
    release(&api, &config).await;
    result
}

fn jittered(period: Duration) -> Duration {
    // Upstream's JitterUntil with factor 1.2: spreads candidates' retries.
    let extra = (rand_fraction() * 1.2 * period.as_secs_f64()).max(0.0);
    period + Duration::from_secs_f64(extra)
}

fn rand_fraction() -> f64 {
    let n = uuid::Uuid::new_v4().as_u128() as u64;
    (n % 10_000) as f64 / 10_000.0
}

/// One attempt; true when we hold the lease afterwards.
async fn try_acquire_or_renew(
    api: &Api<Lease>,
    config: &LeaderElectionConfig,
    observed: &mut Option<(Option<String>, Instant)>,
) -> bool {
    let duration_secs = i32::try_from(config.lease_duration.as_secs()).unwrap_or(15);
    let current = match api.get_opt(&config.name).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, lease = %config.name, "error retrieving lease");
            return false;
        }
    };
    let Some(mut lease) = current else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(config.name.clone()),
                namespace: Some(config.namespace.clone()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(config.identity.clone()),
                lease_duration_seconds: Some(duration_secs),
                acquire_time: Some(now_micro()),
                renew_time: Some(now_micro()),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!(error = %e, "lease create lost a race");
                false
            }
        };
    };
    let spec = lease.spec.clone().unwrap_or_default();
    // The record as we see it: holder + renewTime; restart the clock when it changes.
    let record = Some(format!(
        "{}|{:?}",
        spec.holder_identity.as_deref().unwrap_or(""),
        spec.renew_time.as_ref().map(|t| t.0)
    ));
    let now = Instant::now();
    let observed_at = match observed {
        Some((r, at)) if *r == record => *at,
        _ => {
            *observed = Some((record, now));
            now
        }
    };
    match decide(
        &spec,
        &config.identity,
        observed_at,
        now,
        config.lease_duration,
    ) {
        Decision::Wait => false,
        Decision::Write { transition } => {
            let mut new_spec = spec.clone();
            new_spec.holder_identity = Some(config.identity.clone());
            new_spec.lease_duration_seconds = Some(duration_secs);
            new_spec.renew_time = Some(now_micro());
            if transition {
                new_spec.acquire_time = Some(now_micro());
                new_spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            }
            lease.spec = Some(new_spec);
            // replace carries metadata.resourceVersion: a concurrent writer gets 409.
            match api
                .replace(&config.name, &PostParams::default(), &lease)
                .await
            {
                Ok(_) => true,
                Err(e) => {
                    tracing::debug!(error = %e, "lease update failed");
                    false
                }
            }
        }
    }
}

/// Hand the lease back (holder cleared, duration 1 s) so a standby takes over at once.
async fn release(api: &Api<Lease>, config: &LeaderElectionConfig) {
    let Ok(Some(mut lease)) = api.get_opt(&config.name).await else {
        return;
    };
    let mut spec = lease.spec.clone().unwrap_or_default();
    if spec.holder_identity.as_deref() != Some(config.identity.as_str()) {
        return;
    }
    spec.holder_identity = None;
    spec.lease_duration_seconds = Some(1);
    spec.renew_time = Some(now_micro());
    lease.spec = Some(spec);
    if let Err(e) = api
        .replace(&config.name, &PostParams::default(), &lease)
        .await
    {
        tracing::warn!(error = %e, "releasing the lease");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, secs: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            lease_duration_seconds: Some(secs),
            ..Default::default()
        }
    }

    #[test]
    fn own_or_empty_lease_is_written() {
        let t = Instant::now();
        let d = Duration::from_secs(15);
        assert_eq!(
            decide(&spec(Some("me"), 15), "me", t, t, d),
            Decision::Write { transition: false }
        );
        assert_eq!(
            decide(&spec(None, 15), "me", t, t, d),
            Decision::Write { transition: true }
        );
    }

    #[test]
    fn live_lease_of_another_waits_until_seen_unchanged_for_its_duration() {
        let t = Instant::now();
        let d = Duration::from_secs(15);
        let s = spec(Some("other"), 5);
        assert_eq!(
            decide(&s, "me", t, t + Duration::from_secs(4), d),
            Decision::Wait
        );
        assert_eq!(
            decide(&s, "me", t, t + Duration::from_secs(5), d),
            Decision::Write { transition: true }
        );
    }
}
