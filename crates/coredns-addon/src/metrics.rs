//! CoreDNS's metric names and labels, so its dashboards and alerts keep working:
//! `coredns_dns_requests_total{server,zone,proto,family,type}`,
//! `coredns_dns_request_duration_seconds{server,zone,type}`,
//! `coredns_dns_responses_total{server,zone,rcode}`,
//! `coredns_cache_hits_total{server,type}`, `coredns_cache_misses_total{server}`,
//! `coredns_forward_requests_total{to}`.

use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use std::collections::HashMap;

use prometheus::local::{LocalHistogram, LocalIntCounter};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct Metrics {
    pub requests: IntCounterVec,
    pub duration: HistogramVec,
    pub responses: IntCounterVec,
    pub cache_hits: IntCounterVec,
    pub cache_misses: IntCounterVec,
    pub forward_requests: IntCounterVec,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &Registry) -> Result<Metrics, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "requests_total",
                "Counter of DNS requests made per zone, protocol and family.",
            )
            .namespace("coredns")
            .subsystem("dns"),
            &["server", "zone", "proto", "family", "type"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "request_duration_seconds",
                "Histogram of the time (in seconds) each request took per zone.",
            )
            .namespace("coredns")
            .subsystem("dns")
            // CoreDNS: prometheus.ExponentialBuckets(0.00025, 2, 16).
            .buckets(prometheus::exponential_buckets(0.00025, 2.0, 16)?),
            &["server", "zone", "type"],
        )?;
        let responses = IntCounterVec::new(
            Opts::new("responses_total", "Counter of response status codes.")
                .namespace("coredns")
                .subsystem("dns"),
            &["server", "zone", "rcode"],
        )?;
        let cache_hits = IntCounterVec::new(
            Opts::new("hits_total", "The count of cache hits.")
                .namespace("coredns")
                .subsystem("cache"),
            &["server", "type"],
        )?;
        let cache_misses = IntCounterVec::new(
            Opts::new("misses_total", "The count of cache misses.")
                .namespace("coredns")
                .subsystem("cache"),
            &["server"],
        )?;
        let forward_requests = IntCounterVec::new(
            Opts::new("requests_total", "Counter of requests made per upstream.")
                .namespace("coredns")
                .subsystem("forward"),
            &["to"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(responses.clone()))?;
        registry.register(Box::new(cache_hits.clone()))?;
        registry.register(Box::new(cache_misses.clone()))?;
        registry.register(Box::new(forward_requests.clone()))?;
        Ok(Metrics {
            requests,
            duration,
            responses,
            cache_hits,
            cache_misses,
            forward_requests,
        })
    }

    /// Records one answered request.
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &self,
        server: &str,
        zone: &str,
        proto: &str,
        ipv6: bool,
        qtype: RecordType,
        rcode: ResponseCode,
        took: Duration,
    ) {
        let t = type_label(qtype);
        let family = if ipv6 { "2" } else { "1" };
        self.requests
            .with_label_values(&[server, zone, proto, family, t])
            .inc();
        self.duration
            .with_label_values(&[server, zone, t])
            .observe(took.as_secs_f64());
        self.responses
            .with_label_values(&[server, zone, rcode_label(rcode)])
            .inc();
    }
}

/// The request metrics of one receive loop: counted in the loop, added to the shared
/// metrics once per batch of datagrams (one atomic update per label set instead of three
/// label look-ups and three atomic updates per query).
pub struct LocalMetrics {
    metrics: Option<Metrics>,
    server: String,
    proto: &'static str,
    /// By (zone, family, type, rcode): an index into `sets`.
    slots: HashMap<(String, bool, &'static str, &'static str), usize>,
    sets: Vec<LocalSet>,
    /// The sets counted since the last flush.
    pending: Vec<usize>,
}

struct LocalSet {
    requests: LocalIntCounter,
    duration: LocalHistogram,
    responses: LocalIntCounter,
}

impl LocalMetrics {
    /// Counts for `metrics` (nothing when `None`) under the `server` label, over `proto`.
    pub fn new(metrics: Option<Metrics>, server: &str, proto: &'static str) -> LocalMetrics {
        LocalMetrics {
            metrics,
            server: server.to_string(),
            proto,
            slots: HashMap::new(),
            sets: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// The slot answers with these labels are counted under (0 when there are no metrics).
    pub fn slot(
        &mut self,
        zone: &str,
        ipv6: bool,
        qtype: RecordType,
        rcode: ResponseCode,
    ) -> usize {
        let Some(m) = &self.metrics else {
            return 0;
        };
        let (t, r) = (type_label(qtype), rcode_label(rcode));
        if let Some(slot) = self.slots.get(&(zone.to_string(), ipv6, t, r)) {
            return *slot;
        }
        let family = if ipv6 { "2" } else { "1" };
        let server = self.server.as_str();
        let set = LocalSet {
            requests: m
                .requests
                .with_label_values(&[server, zone, self.proto, family, t])
                .local(),
            duration: m.duration.with_label_values(&[server, zone, t]).local(),
            responses: m.responses.with_label_values(&[server, zone, r]).local(),
        };
        self.sets.push(set);
        let slot = self.sets.len() - 1;
        self.slots.insert((zone.to_string(), ipv6, t, r), slot);
        slot
    }

    /// Counts one answered request; its duration is given at the next flush.
    pub fn count(&mut self, slot: usize) {
        if self.metrics.is_some() {
            self.pending.push(slot);
        }
    }

    /// Gives the requests counted since the last flush the duration `took` and adds them to
    /// the shared metrics.
    pub fn flush(&mut self, took: Duration) {
        if self.pending.is_empty() {
            return;
        }
        let secs = took.as_secs_f64();
        for &slot in &self.pending {
            if let Some(set) = self.sets.get(slot) {
                set.requests.inc();
                set.duration.observe(secs);
                set.responses.inc();
            }
        }
        self.pending.sort_unstable();
        self.pending.dedup();
        for &slot in &self.pending {
            if let Some(set) = self.sets.get(slot) {
                set.requests.flush();
                set.duration.flush();
                set.responses.flush();
            }
        }
        self.pending.clear();
    }
}

/// CoreDNS reports the common types by name and the rest as "other".
pub fn type_label(t: RecordType) -> &'static str {
    match t {
        RecordType::A => "A",
        RecordType::AAAA => "AAAA",
        RecordType::ANY => "ANY",
        RecordType::CNAME => "CNAME",
        RecordType::MX => "MX",
        RecordType::NS => "NS",
        RecordType::PTR => "PTR",
        RecordType::SOA => "SOA",
        RecordType::SRV => "SRV",
        RecordType::TXT => "TXT",
        RecordType::HTTPS => "HTTPS",
        RecordType::CAA => "CAA",
        RecordType::AXFR => "AXFR",
        RecordType::IXFR => "IXFR",
        _ => "other",
    }
}

/// The rcode names of miekg/dns, as CoreDNS prints them.
pub fn rcode_label(r: ResponseCode) -> &'static str {
    match r {
        ResponseCode::NoError => "NOERROR",
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NXDomain => "NXDOMAIN",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::YXDomain => "YXDOMAIN",
        ResponseCode::YXRRSet => "YXRRSET",
        ResponseCode::NXRRSet => "NXRRSET",
        ResponseCode::NotAuth => "NOTAUTH",
        ResponseCode::NotZone => "NOTZONE",
        ResponseCode::BADVERS => "BADVERS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observe_counts_with_coredns_labels() {
        let registry = Registry::new();
        let m = Metrics::new(&registry).unwrap();
        m.observe(
            "dns://:53",
            "cluster.local.",
            "udp",
            false,
            RecordType::A,
            ResponseCode::NXDomain,
            Duration::from_millis(1),
        );
        let text = component_base::serving::render_metrics(&registry).unwrap();
        assert!(text.contains(
            r#"coredns_dns_requests_total{family="1",proto="udp",server="dns://:53",type="A",zone="cluster.local."} 1"#
        ), "{text}");
        assert!(text.contains(
            r#"coredns_dns_responses_total{rcode="NXDOMAIN",server="dns://:53",zone="cluster.local."} 1"#
        ), "{text}");
        assert!(
            text.contains("coredns_dns_request_duration_seconds_bucket"),
            "{text}"
        );
    }

    #[test]
    fn local_metrics_reach_the_registry_at_flush() {
        let registry = Registry::new();
        let m = Metrics::new(&registry).unwrap();
        let mut local = LocalMetrics::new(Some(m), "dns://:53", "udp");
        let a = local.slot(
            "cluster.local.",
            false,
            RecordType::A,
            ResponseCode::NoError,
        );
        let nx = local.slot(
            "cluster.local.",
            false,
            RecordType::A,
            ResponseCode::NXDomain,
        );
        assert_ne!(a, nx);
        assert_eq!(
            local.slot(
                "cluster.local.",
                false,
                RecordType::A,
                ResponseCode::NoError
            ),
            a
        );
        local.count(a);
        local.count(a);
        local.count(nx);
        let before = component_base::serving::render_metrics(&registry).unwrap();
        assert!(before.contains(
            r#"coredns_dns_requests_total{family="1",proto="udp",server="dns://:53",type="A",zone="cluster.local."} 0"#
        ), "counted at flush only: {before}");
        local.flush(Duration::from_micros(100));
        let text = component_base::serving::render_metrics(&registry).unwrap();
        assert!(text.contains(
            r#"coredns_dns_requests_total{family="1",proto="udp",server="dns://:53",type="A",zone="cluster.local."} 3"#
        ), "{text}");
        assert!(text.contains(
            r#"coredns_dns_responses_total{rcode="NOERROR",server="dns://:53",zone="cluster.local."} 2"#
        ), "{text}");
        assert!(text.contains(
            r#"coredns_dns_responses_total{rcode="NXDOMAIN",server="dns://:53",zone="cluster.local."} 1"#
        ), "{text}");
        assert!(text.contains(
            r#"coredns_dns_request_duration_seconds_count{server="dns://:53",type="A",zone="cluster.local."} 3"#
        ), "{text}");
    }

    #[test]
    fn local_metrics_without_a_registry_count_nothing() {
        let mut local = LocalMetrics::new(None, "dns://:53", "udp");
        let slot = local.slot("cluster.local.", true, RecordType::A, ResponseCode::NoError);
        assert_eq!(slot, 0);
        local.count(slot);
        assert!(local.pending.is_empty(), "nothing to flush");
        local.flush(Duration::ZERO);
        assert!(local.sets.is_empty());
    }
}
