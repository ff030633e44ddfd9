//! The cluster zone as a pure index: (Services, EndpointSlices, config) -> answers, following
//! the Kubernetes DNS-Based Service Discovery specification
//! (github.com/kubernetes/dns, docs/specification.md) the way CoreDNS's `kubernetes` plugin
//! implements it:
//!
//! - `<svc>.<ns>.svc.<zone>` A / AAAA: the ClusterIPs; for a headless Service the ready
//!   endpoint IPs (NXDOMAIN when it has none, as the specification says);
//! - `<hostname>.<svc>.<ns>.svc.<zone>` for each ready endpoint of a headless Service, the
//!   hostname being the endpoint's `hostname` or, as CoreDNS does, its IP with dashes;
//! - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV for each named port;
//! - ExternalName Services as a CNAME;
//! - `a-b-c-d.<ns>.pod.<zone>` pod records (CoreDNS `pods insecure`: the IP is not checked);
//! - PTR for ClusterIPs and headless endpoint IPs (other reverse names fall through to the
//!   upstream resolvers, as CoreDNS's `fallthrough in-addr.arpa ip6.arpa`);
//! - `dns-version.<zone>` TXT, the zone's SOA and NS;
//! - a name that exists (with records, or as an empty non-terminal such as `<ns>.svc.<zone>`
//!   when any Service is in that namespace) but has no record of the asked type is NODATA
//!   (NOERROR, SOA in authority); any other name in the zone is NXDOMAIN.
//!
//! All comparisons are case-insensitive; answers carry the name as it was asked.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// The schema version of the specification this index follows (`dns-version.<zone>` TXT).
pub const SCHEMA_VERSION: &str = "1.1.0";

/// The label that ties an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The zone's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The cluster domain (`--cluster-domain`), e.g. `cluster.local`.
    pub domain: Name,
    /// TTL of every record (CoreDNS `kubernetes` plugin default: 5 seconds).
    pub ttl: u32,
}

/// Default TTL, as CoreDNS's `kubernetes` plugin.
pub const DEFAULT_TTL: u32 = 5;

impl Config {
    /// A config for `domain` (e.g. "cluster.local"); errors on a name that is not a domain.
    pub fn new(domain: &str, ttl: u32) -> Result<Config, RecordsError> {
        let mut name = Name::from_ascii(domain.trim_end_matches('.'))
            .map_err(|e| RecordsError::Domain(domain.to_string(), e.to_string()))?;
        name.set_fqdn(true);
        if name.is_root() {
            return Err(RecordsError::Domain(
                domain.to_string(),
                "the root zone cannot be the cluster domain".into(),
            ));
        }
        Ok(Config {
            domain: name.to_lowercase(),
            ttl,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("invalid cluster domain {0:?}: {1}")]
    Domain(String, String),
}

#[derive(Debug, Clone)]
struct SrvTarget {
    priority: u16,
    weight: u16,
    port: u16,
    target: Name,
}

/// Everything one name holds.
#[derive(Debug, Default, Clone)]
struct Node {
    a: Vec<Ipv4Addr>,
    aaaa: Vec<Ipv6Addr>,
    cname: Option<Name>,
    srv: Vec<SrvTarget>,
    txt: Vec<String>,
}

impl Node {
    fn dedup(&mut self) {
        self.a.sort();
        self.a.dedup();
        self.aaaa.sort();
        self.aaaa.dedup();
        self.srv
            .sort_by(|x, y| (x.port, &x.target).cmp(&(y.port, &y.target)));
        self.srv
            .dedup_by(|x, y| x.port == y.port && x.target == y.target);
    }
}

/// What a query gets from the index.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The name is ours: answer it (authoritatively).
    Answer(Answer),
    /// Not in the cluster zone, nor a reverse name we know: ask the upstream resolvers.
    Forward,
}

/// An authoritative answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub rcode: ResponseCode,
    pub answers: Vec<Record>,
    pub authorities: Vec<Record>,
    pub additionals: Vec<Record>,
}

/// The zone at one moment; built whole from the watched objects and swapped atomically.
#[derive(Debug, Clone)]
pub struct Index {
    config: Config,
    /// Lower-case fully qualified names (`a.b.` form) -> records.
    names: HashMap<String, Node>,
    /// Names that exist without records of their own (empty non-terminals).
    empty: HashSet<String>,
    /// Reverse records: IP -> names (PTR targets).
    reverse: HashMap<IpAddr, Vec<Name>>,
    soa: Record,
    ns: Record,
    serial: u32,
}

fn key(name: &Name) -> String {
    let mut s = name.to_ascii();
    s.make_ascii_lowercase();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// The label CoreDNS gives an endpoint without a hostname: its IP with dashes.
pub fn dashed_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string().replace('.', "-"),
        IpAddr::V6(v6) => {
            let mut s = v6.to_string().replace(':', "-");
            if s.starts_with('-') {
                s.insert(0, '0');
            }
            if s.ends_with('-') {
                s.push('0');
            }
            s
        }
    }
}

/// Parses a pod-record label (`10-244-0-5`, or `fd00--5` for IPv6) back into an IP.
pub fn parse_dashed_ip(label: &str) -> Option<IpAddr> {
    if label.matches('-').count() == 3 && !label.contains("--") {
        if let Ok(v4) = label.replace('-', ".").parse::<Ipv4Addr>() {
            return Some(IpAddr::V4(v4));
        }
    }
    label
        .replace('-', ":")
        .parse::<Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

impl Index {
    /// Builds the zone. `serial` is the SOA serial (the daemon uses the build time).
    /// Objects that cannot be represented (an invalid name or address) are skipped.
    pub fn build<S: Borrow<Service>, E: Borrow<EndpointSlice>>(
        services: &[S],
        slices: &[E],
        config: &Config,
        serial: u32,
    ) -> Index {
        let mut b = service::Builder {
            config: config.clone(),
            names: HashMap::new(),
            reverse: HashMap::new(),
        };
        // Slices by (namespace, service name).
        let mut by_service: HashMap<(&str, &str), Vec<&EndpointSlice>> = HashMap::new();
        for slice in slices {
            let slice: &EndpointSlice = slice.borrow();
            let ns = slice.metadata.namespace.as_deref().unwrap_or_default();
            let Some(svc) = slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(SERVICE_NAME_LABEL))
            else {
                continue;
            };
            by_service
                .entry((ns, svc.as_str()))
                .or_default()
                .push(slice);
        }
        let mut namespaces: BTreeSet<String> = BTreeSet::new();
        for svc in services {
            let svc: &Service = svc.borrow();
            let (Some(name), Some(ns)) = (
                svc.metadata.name.as_deref(),
                svc.metadata.namespace.as_deref(),
            ) else {
                continue;
            };
            let Some(svc_name) = b.name(&[name, ns, "svc"]) else {
                tracing::warn!(
                    namespace = ns,
                    name,
                    "service name is not a DNS name; skipped"
                );
                continue;
            };
            namespaces.insert(ns.to_ascii_lowercase());
            let slices = by_service
                .get(&(ns, name))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            service::add_service(&mut b, svc, &svc_name, name, ns, slices);
        }
        let mut names = b.names;
        for node in names.values_mut() {
            node.dedup();
        }
        let domain = config.domain.clone();
        // The version record and the fixed empty non-terminals.
        let version = Name::from_ascii("dns-version")
            .ok()
            .and_then(|n| n.append_domain(&domain).ok());
        if let Some(v) = version {
            names.entry(key(&v)).or_default().txt = vec![SCHEMA_VERSION.to_string()];
        }
        let mut empty: HashSet<String> = HashSet::new();
        let zone_key = key(&domain);
        empty.insert(zone_key.clone());
        for fixed in ["svc", "pod"] {
            empty.insert(format!("{fixed}.{zone_key}"));
        }
        for ns in &namespaces {
            empty.insert(format!("{ns}.svc.{zone_key}"));
        }
        // Every ancestor of a name, up to the zone, exists.
        for k in names.keys() {
            let mut rest = k.as_str();
            while let Some((_, parent)) = rest.split_once('.') {
                if parent.len() <= zone_key.len() {
                    break;
                }
                empty.insert(parent.to_string());
                rest = parent;
            }
        }
        empty.retain(|k| !names.contains_key(k));
        for targets in b.reverse.values_mut() {
            targets.sort();
            targets.dedup();
        }
        let ns_name = Name::from_ascii("ns.dns")
            .ok()
            .and_then(|n| n.append_domain(&domain).ok())
            .unwrap_or_else(|| domain.clone());
        let hostmaster = Name::from_ascii("hostmaster")
            .ok()
            .and_then(|n| n.append_domain(&domain).ok())
            .unwrap_or_else(|| domain.clone());
        // CoreDNS: refresh 7200, retry 1800, expire 86400, minimum = the TTL.
        let soa = Record::from_rdata(
            domain.clone(),
            config.ttl,
            RData::SOA(SOA::new(
                ns_name.clone(),
                hostmaster,
                serial,
                7200,
                1800,
                86400,
                config.ttl,
            )),
        );
        let ns = Record::from_rdata(domain.clone(), config.ttl, RData::NS(NS(ns_name.clone())));
        // ns.dns.<zone> points at the kube-dns Service, as CoreDNS does.
        let dns_svc = format!("kube-dns.kube-system.svc.{zone_key}");
        if let Some(node) = names.get(&dns_svc).cloned() {
            let entry = names.entry(key(&ns_name)).or_default();
            entry.a = node.a;
            entry.aaaa = node.aaaa;
            let mut rest = key(&ns_name);
            while let Some((_, parent)) = rest.clone().split_once('.') {
                if parent.len() <= zone_key.len() {
                    break;
                }
                if !names.contains_key(parent) {
                    empty.insert(parent.to_string());
                }
                rest = parent.to_string();
            }
        }
        Index {
            config: config.clone(),
            names,
            empty,
            reverse: b.reverse,
            soa,
            ns,
            serial,
        }
    }

    /// An index with no Services (the zone's fixed names only).
    pub fn empty(config: &Config) -> Index {
        Index::build::<Service, EndpointSlice>(&[], &[], config, 0)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// Number of names with records (for logs).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Is `name` in the cluster zone?
    pub fn in_zone(&self, name: &Name) -> bool {
        self.config.domain.zone_of(name)
    }

    /// Answers `qname`/`qtype` (class IN).
    pub fn lookup(&self, qname: &Name, qtype: RecordType) -> Lookup {
        let mut qname = qname.clone();
        qname.set_fqdn(true);
        if is_reverse(&qname) {
            return self.lookup_reverse(&qname, qtype);
        }
        if !self.in_zone(&qname) {
            return Lookup::Forward;
        }
        let k = key(&qname);
        let ttl = self.config.ttl;
        if qname.num_labels() == self.config.domain.num_labels() {
            let answers = match qtype {
                RecordType::SOA => vec![self.soa_for(&qname)],
                RecordType::NS => vec![with_name(&self.ns, &qname)],
                RecordType::ANY => vec![self.soa_for(&qname), with_name(&self.ns, &qname)],
                _ => return Lookup::Answer(self.nodata()),
            };
            return Lookup::Answer(Answer {
                rcode: ResponseCode::NoError,
                answers,
                authorities: Vec::new(),
                additionals: Vec::new(),
            });
        }
        if let Some(node) = self.names.get(&k) {
            return Lookup::Answer(self.answer_node(&qname, node, qtype));
        }
        if self.empty.contains(&k) {
            return Lookup::Answer(self.nodata());
        }
        if let Some(ip) = self.pod_ip(&qname) {
            let answers: Vec<Record> = match (ip, qtype) {
                (IpAddr::V4(v4), RecordType::A | RecordType::ANY) => {
                    vec![Record::from_rdata(qname.clone(), ttl, RData::A(A(v4)))]
                }
                (IpAddr::V6(v6), RecordType::AAAA | RecordType::ANY) => {
                    vec![Record::from_rdata(
                        qname.clone(),
                        ttl,
                        RData::AAAA(AAAA(v6)),
                    )]
                }
                _ => return Lookup::Answer(self.nodata()),
            };
            return Lookup::Answer(Answer {
                rcode: ResponseCode::NoError,
                answers,
                authorities: Vec::new(),
                additionals: Vec::new(),
            });
        }
        Lookup::Answer(Answer {
            rcode: ResponseCode::NXDomain,
            answers: Vec::new(),
            authorities: vec![self.soa.clone()],
            additionals: Vec::new(),
        })
    }

    fn soa_for(&self, qname: &Name) -> Record {
        with_name(&self.soa, qname)
    }

    fn nodata(&self) -> Answer {
        Answer {
            rcode: ResponseCode::NoError,
            answers: Vec::new(),
            authorities: vec![self.soa.clone()],
            additionals: Vec::new(),
        }
    }

    /// `<ip-with-dashes>.<ns>.pod.<zone>`.
    fn pod_ip(&self, qname: &Name) -> Option<IpAddr> {
        let zone_labels = usize::from(self.config.domain.num_labels());
        let labels: Vec<&[u8]> = qname.iter().collect();
        if labels.len() != zone_labels + 3 {
            return None;
        }
        if !labels[2].eq_ignore_ascii_case(b"pod") {
            return None;
        }
        let label = std::str::from_utf8(labels[0]).ok()?;
        parse_dashed_ip(label)
    }

    fn answer_node(&self, qname: &Name, node: &Node, qtype: RecordType) -> Answer {
        let ttl = self.config.ttl;
        let mut answers = Vec::new();
        let mut additionals = Vec::new();
        if let Some(target) = &node.cname {
            // A CNAME owns its name: every type but CNAME itself gets the CNAME (the server
            // then chases the target).
            answers.push(Record::from_rdata(
                qname.clone(),
                ttl,
                RData::CNAME(CNAME(target.clone())),
            ));
            return Answer {
                rcode: ResponseCode::NoError,
                answers,
                authorities: Vec::new(),
                additionals,
            };
        }
        let any = qtype == RecordType::ANY;
        if qtype == RecordType::A || any {
            answers.extend(
                node.a
                    .iter()
                    .map(|ip| Record::from_rdata(qname.clone(), ttl, RData::A(A(*ip)))),
            );
        }
        if qtype == RecordType::AAAA || any {
            answers.extend(
                node.aaaa
                    .iter()
                    .map(|ip| Record::from_rdata(qname.clone(), ttl, RData::AAAA(AAAA(*ip)))),
            );
        }
        if qtype == RecordType::TXT || any {
            answers.extend(node.txt.iter().map(|t| {
                Record::from_rdata(qname.clone(), ttl, RData::TXT(TXT::new(vec![t.clone()])))
            }));
        }
        if qtype == RecordType::SRV || any {
            for srv in &node.srv {
                answers.push(Record::from_rdata(
                    qname.clone(),
                    ttl,
                    RData::SRV(SRV::new(
                        srv.priority,
                        srv.weight,
                        srv.port,
                        srv.target.clone(),
                    )),
                ));
            }
            // The targets' addresses in the additional section.
            let mut seen = HashSet::new();
            for srv in &node.srv {
                let k = key(&srv.target);
                if !seen.insert(k.clone()) {
                    continue;
                }
                if let Some(t) = self.names.get(&k) {
                    additionals.extend(
                        t.a.iter().map(|ip| {
                            Record::from_rdata(srv.target.clone(), ttl, RData::A(A(*ip)))
                        }),
                    );
                    additionals.extend(t.aaaa.iter().map(|ip| {
                        Record::from_rdata(srv.target.clone(), ttl, RData::AAAA(AAAA(*ip)))
                    }));
                }
            }
        }
        if answers.is_empty() {
            return self.nodata();
        }
        Answer {
            rcode: ResponseCode::NoError,
            answers,
            authorities: Vec::new(),
            additionals,
        }
    }

    fn lookup_reverse(&self, qname: &Name, qtype: RecordType) -> Lookup {
        let Some(ip) = reverse_ip(qname) else {
            return Lookup::Forward;
        };
        let Some(targets) = self.reverse.get(&ip) else {
            return Lookup::Forward;
        };
        if qtype != RecordType::PTR && qtype != RecordType::ANY {
            return Lookup::Answer(Answer {
                rcode: ResponseCode::NoError,
                answers: Vec::new(),
                authorities: Vec::new(),
                additionals: Vec::new(),
            });
        }
        let answers = targets
            .iter()
            .map(|t| Record::from_rdata(qname.clone(), self.config.ttl, RData::PTR(PTR(t.clone()))))
            .collect();
        Lookup::Answer(Answer {
            rcode: ResponseCode::NoError,
            answers,
            authorities: Vec::new(),
            additionals: Vec::new(),
        })
    }
}

fn with_name(record: &Record, name: &Name) -> Record {
    let mut r = record.clone();
    r.name = name.clone();
    r
}

fn is_reverse(name: &Name) -> bool {
    let mut labels = name.iter().rev();
    let (Some(last), Some(prev)) = (labels.next(), labels.next()) else {
        return false;
    };
    last.eq_ignore_ascii_case(b"arpa")
        && (prev.eq_ignore_ascii_case(b"in-addr") || prev.eq_ignore_ascii_case(b"ip6"))
}

/// The address a full-length reverse name stands for (`4.3.2.1.in-addr.arpa.` -> 1.2.3.4).
pub fn reverse_ip(name: &Name) -> Option<IpAddr> {
    let net = name.parse_arpa_name().ok()?;
    let full = match net.addr() {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    (net.prefix_len() == full).then(|| net.addr())
}

mod service;

#[cfg(test)]
mod tests;
