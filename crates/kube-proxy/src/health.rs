//! kube-proxy's /healthz and /livez (upstream pkg/proxy/healthcheck/proxy_health.go):
//! healthy while no queued update has waited longer than the health timeout
//! (2 x syncPeriod); JSON body `{"lastUpdated": ..,"currentTime": .., "nodeEligible": ..}`,
//! 503 when stale.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;

#[derive(Debug, Default)]
struct State {
    last_updated: Option<SystemTime>,
    oldest_pending: Option<SystemTime>,
    node_eligible: bool,
}

/// Shared between the sync loop (updates) and the HTTP routes (reads).
#[derive(Clone, Debug)]
pub struct ProxyHealth {
    state: Arc<Mutex<State>>,
    timeout: Duration,
}

impl ProxyHealth {
    pub fn new(timeout: Duration) -> ProxyHealth {
        ProxyHealth {
            state: Arc::new(Mutex::new(State {
                node_eligible: true,
                ..State::default()
            })),
            timeout,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        match self.state.lock() {
            Ok(mut s) => f(&mut s),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// A Service or EndpointSlice change is waiting to be applied.
    pub fn queued_update(&self, now: SystemTime) {
        self.with(|s| {
            s.oldest_pending.get_or_insert(now);
        });
    }

    /// Rules are in sync.
    pub fn updated(&self, now: SystemTime) {
        self.with(|s| {
            s.oldest_pending = None;
            s.last_updated = Some(now);
        });
    }

    /// The Node is being deleted or tainted ToBeDeletedByClusterAutoscaler.
    pub fn set_node_eligible(&self, eligible: bool) {
        self.with(|s| s.node_eligible = eligible);
    }

    /// (healthy, lastUpdated) at `now`.
    pub fn status(&self, now: SystemTime) -> (bool, Option<SystemTime>, bool) {
        self.with(|s| {
            let stale = s
                .oldest_pending
                .is_some_and(|q| now.duration_since(q).unwrap_or(Duration::ZERO) >= self.timeout);
            (!stale, s.last_updated, s.node_eligible)
        })
    }

    /// The /healthz answer (`livez` drops nodeEligible, as upstream).
    pub fn respond(&self, livez: bool, now: SystemTime) -> Response<Full<Bytes>> {
        let (healthy, last, eligible) = self.status(now);
        let healthy = healthy && (livez || eligible);
        let last = if healthy { Some(now) } else { last };
        let last = last
            .map(go_time)
            .unwrap_or_else(|| "0001-01-01 00:00:00 +0000 UTC".into());
        let body = if livez {
            format!(
                "{{\"lastUpdated\": {:?},\"currentTime\": {:?}}}",
                last,
                go_time(now)
            )
        } else {
            format!(
                "{{\"lastUpdated\": {:?},\"currentTime\": {:?}, \"nodeEligible\": {eligible}}}",
                last,
                go_time(now)
            )
        };
        let status = if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("X-Content-Type-Options", "nosniff")
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default()
    }
}

/// Go's time.Time String() in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC".
pub fn go_time(t: SystemTime) -> String {
    let Ok(ts) = jiff::Timestamp::try_from(t) else {
        return "0001-01-01 00:00:00 +0000 UTC".into();
    };
    let base = ts.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = ts.subsec_nanosecond();
    let frac = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_string()
    };
    format!("{base}{frac} +0000 UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_queued_update_turns_503() {
        let h = ProxyHealth::new(Duration::from_secs(60));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(h.respond(false, t0).status(), StatusCode::OK);
        h.queued_update(t0);
        assert_eq!(
            h.respond(false, t0 + Duration::from_secs(59)).status(),
            StatusCode::OK
        );
        assert_eq!(
            h.respond(false, t0 + Duration::from_secs(61)).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        h.updated(t0 + Duration::from_secs(62));
        assert_eq!(
            h.respond(false, t0 + Duration::from_secs(63)).status(),
            StatusCode::OK
        );
        h.set_node_eligible(false);
        assert_eq!(
            h.respond(false, t0 + Duration::from_secs(63)).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            h.respond(true, t0 + Duration::from_secs(63)).status(),
            StatusCode::OK
        );
    }

    #[test]
    fn body_matches_upstreams_shape() {
        let h = ProxyHealth::new(Duration::from_secs(60));
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_500);
        let resp = h.respond(false, t);
        let body = futures::executor::block_on(http_body_util::BodyExt::collect(resp.into_body()))
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            "{\"lastUpdated\": \"2023-11-14 22:13:20.5 +0000 UTC\",\"currentTime\": \"2023-11-14 22:13:20.5 +0000 UTC\", \"nodeEligible\": true}"
        );
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["nodeEligible"], true);
    }
}
