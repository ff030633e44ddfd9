//! The proxier's view of the cluster: Services and EndpointSlices (typed k8s-openapi
//! objects) plus the node's configuration, reduced to one [`ServicePort`] per
//! (Service, port) with the endpoints that serve it — the same shape as upstream's
//! `proxy.ServicePortMap` / `proxy.EndpointsMap`. Pure: no I/O, bad input is logged
//! and skipped without affecting other Services.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// Label on an EndpointSlice naming its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Upstream's default ClientIP affinity timeout (3 hours).
pub const DEFAULT_AFFINITY_TIMEOUT_SECONDS: u32 = 10800;

/// IPv4 or IPv6: one nftables table (`ip` / `ip6` family) each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The API spelling (v1.IPFamily), also upstream's `ip_family` metric label.
    pub fn api(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// L4 protocol of a Service port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The API spelling ("TCP"); absent means TCP.
    pub fn parse(s: Option<&str>) -> Option<Protocol> {
        match s.unwrap_or("TCP") {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// nftables spelling, also used in chain names ("tcp").
    pub fn nft(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// A CIDR (address + prefix length), e.g. --cluster-cidr or loadBalancerSourceRanges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = s.parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    pub fn family(&self) -> Family {
        Family::of(&self.addr)
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(*ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(*ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The node this proxier runs on and how it masquerades.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    /// Node name (hostname or --hostname-override): endpoints with this nodeName are local.
    pub node_name: String,
    /// The node's own IPs (used for loadBalancerSourceRanges "allow from node").
    pub node_ips: Vec<IpAddr>,
    /// --cluster-cidr: traffic from outside it to a ClusterIP is masqueraded.
    pub cluster_cidrs: Vec<Cidr>,
    /// Addresses accepting NodePort traffic (--nodeport-addresses resolved against the
    /// node's interfaces); `None` means every local address (upstream's 0.0.0.0/0).
    pub nodeport_ips: Option<Vec<IpAddr>>,
    /// --masquerade-all: SNAT all traffic to ClusterIPs.
    pub masquerade_all: bool,
    /// --iptables-masquerade-bit (upstream default 14: mark 0x4000).
    pub masquerade_bit: u8,
}

impl NodeConfig {
    pub fn new(node_name: &str) -> NodeConfig {
        NodeConfig {
            node_name: node_name.to_string(),
            node_ips: Vec::new(),
            cluster_cidrs: Vec::new(),
            nodeport_ips: None,
            masquerade_all: false,
            masquerade_bit: 14,
        }
    }
}

/// Upstream's ServicePortName: namespace/name plus the port's name ("" when unnamed).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePortName {
    pub namespace: String,
    pub name: String,
    pub port: String,
}

impl fmt::Display for ServicePortName {
    /// "ns/name:port", or "ns/name" for an unnamed port (as upstream).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)?;
        if !self.port.is_empty() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// One backend address of a ServicePort.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
    /// On this node (EndpointSlice endpoint nodeName == our node).
    pub local: bool,
}

impl Endpoint {
    /// "ip:port" ("[ip6]:port"), as upstream's endpoint String().
    pub fn addr(&self) -> String {
        match self.ip {
            IpAddr::V4(ip) => format!("{ip}:{}", self.port),
            IpAddr::V6(ip) => format!("[{ip}]:{}", self.port),
        }
    }
}

/// One port of one Service with everything the renderer needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub name: ServicePortName,
    pub protocol: Protocol,
    pub port: u16,
    /// spec.clusterIPs (one per family).
    pub cluster_ips: Vec<IpAddr>,
    pub node_port: Option<u16>,
    pub external_ips: Vec<IpAddr>,
    /// status.loadBalancer.ingress[].ip (type LoadBalancer, ipMode VIP).
    pub load_balancer_ips: Vec<IpAddr>,
    pub load_balancer_source_ranges: Vec<Cidr>,
    /// sessionAffinity ClientIP: its timeoutSeconds.
    pub affinity_timeout: Option<u32>,
    /// internalTrafficPolicy Local.
    pub internal_local: bool,
    /// externalTrafficPolicy Local (only meaningful when externally accessible).
    pub external_local: bool,
    /// spec.healthCheckNodePort of a LoadBalancer Service with externalTrafficPolicy
    /// Local (upstream's NeedsHealthCheck); the same for every port of the Service.
    pub health_check_node_port: Option<u16>,
    /// Deduplicated across slices, sorted by (ip, port).
    pub endpoints: Vec<Endpoint>,
}

impl ServicePort {
    pub fn externally_accessible(&self) -> bool {
        self.node_port.is_some()
            || !self.external_ips.is_empty()
            || !self.load_balancer_ips.is_empty()
    }

    /// Upstream's CategorizeEndpoints: (cluster endpoints, local endpoints,
    /// all locally reachable endpoints, has any usable endpoint), for one family.
    pub fn categorize(&self, family: Family) -> Categorized<'_> {
        let eps: Vec<&Endpoint> = self
            .endpoints
            .iter()
            .filter(|e| Family::of(&e.ip) == family)
            .collect();
        let pick = |local_only: bool| -> Vec<&Endpoint> {
            let candidates = eps.iter().filter(|e| !local_only || e.local);
            let ready: Vec<&Endpoint> = candidates.clone().filter(|e| e.ready).copied().collect();
            if !ready.is_empty() {
                return ready;
            }
            // No ready endpoint: fall back to serving + terminating ones (upstream's
            // ProxyTerminatingEndpoints behaviour).
            candidates
                .filter(|e| e.serving && e.terminating)
                .copied()
                .collect()
        };
        let uses_local =
            self.internal_local || (self.external_local && self.externally_accessible());
        // Even with externalTrafficPolicy Local, Cluster endpoints implement the
        // short-circuit for pod and host traffic to external addresses.
        let uses_cluster = !self.internal_local || self.externally_accessible();
        let cluster = pick(false);
        let local = if uses_local { pick(true) } else { Vec::new() };
        let has_any = !cluster.is_empty();
        let mut reachable: Vec<&Endpoint> = Vec::new();
        if uses_cluster {
            reachable.extend(cluster.iter().copied());
        }
        for e in &local {
            if !reachable.contains(e) {
                reachable.push(e);
            }
        }
        reachable.sort();
        Categorized {
            cluster: if uses_cluster { cluster } else { Vec::new() },
            local,
            reachable,
            has_any,
        }
    }
}

/// Result of [`ServicePort::categorize`].
#[derive(Debug)]
pub struct Categorized<'a> {
    pub cluster: Vec<&'a Endpoint>,
    pub local: Vec<&'a Endpoint>,
    pub reachable: Vec<&'a Endpoint>,
    pub has_any: bool,
}

/// Everything the renderer needs: service ports sorted by (name, protocol).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    pub ports: Vec<ServicePort>,
}

/// Builds the model. Invalid or colliding input is logged (tracing::warn) and skipped.
pub fn build<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
    node: &NodeConfig,
) -> Model {
    let mut endpoints: EndpointsByPort = BTreeMap::new();
    for slice in slices {
        collect_slice(slice, node, &mut endpoints);
    }

    let mut ports = Vec::new();
    for svc in services {
        ports.extend(service_ports(svc));
    }
    ports.sort_by(|a, b| (&a.name, a.protocol).cmp(&(&b.name, b.protocol)));

    // Keys nftables maps would see twice make the whole transaction fail: the first
    // service port (in sorted order) keeps them, later ones are skipped.
    let mut taken_ips: BTreeSet<(IpAddr, Protocol, u16)> = BTreeSet::new();
    let mut taken_node_ports: BTreeSet<(Protocol, u16)> = BTreeSet::new();
    let mut out = Vec::with_capacity(ports.len());
    for mut sp in ports {
        let ip_keys: Vec<(IpAddr, Protocol, u16)> = sp
            .cluster_ips
            .iter()
            .chain(&sp.external_ips)
            .chain(&sp.load_balancer_ips)
            .map(|ip| (*ip, sp.protocol, sp.port))
            .collect();
        let unique: BTreeSet<_> = ip_keys.iter().copied().collect();
        if let Some(clash) = unique.iter().find(|k| taken_ips.contains(k)) {
            tracing::warn!(service = %sp.name, ip = %clash.0, port = clash.2,
                protocol = clash.1.nft(), "service port collides with another service; skipping it");
            continue;
        }
        if let Some(np) = sp.node_port {
            if !taken_node_ports.insert((sp.protocol, np)) {
                tracing::warn!(service = %sp.name, node_port = np,
                    "nodePort already used by another service; skipping it");
                continue;
            }
        }
        taken_ips.extend(unique);
        let key = (
            sp.name.namespace.clone(),
            sp.name.name.clone(),
            sp.name.port.clone(),
            sp.protocol,
        );
        if let Some(eps) = endpoints.get(&key) {
            sp.endpoints = eps.values().cloned().collect();
        }
        out.push(sp);
    }
    Model { ports: out }
}

/// The ServicePorts of one Service; headless and ExternalName Services have none.
fn service_ports(svc: &Service) -> Vec<ServicePort> {
    let namespace = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let Some(spec) = &svc.spec else {
        return Vec::new();
    };
    if spec.type_.as_deref() == Some("ExternalName") {
        return Vec::new();
    }
    let raw_ips: Vec<String> = match &spec.cluster_ips {
        Some(ips) if !ips.is_empty() => ips.clone(),
        _ => spec.cluster_ip.iter().cloned().collect(),
    };
    if raw_ips.is_empty() || raw_ips.iter().any(|ip| ip == "None" || ip.is_empty()) {
        return Vec::new(); // headless or not allocated yet
    }
    let mut cluster_ips = Vec::new();
    for raw in &raw_ips {
        match raw.parse::<IpAddr>() {
            Ok(ip) => cluster_ips.push(ip),
            Err(_) => {
                tracing::warn!(service = %format!("{namespace}/{name}"), cluster_ip = %raw,
                    "invalid clusterIP; skipping service");
                return Vec::new();
            }
        }
    }
    let parse_ips = |what: &str, list: &mut dyn Iterator<Item = &String>| -> Vec<IpAddr> {
        let mut out = Vec::new();
        for raw in list {
            match raw.parse::<IpAddr>() {
                Ok(ip) => out.push(ip),
                Err(_) => tracing::warn!(service = %format!("{namespace}/{name}"),
                    address = %raw, "invalid {what}; ignoring it"),
            }
        }
        out.sort();
        out.dedup();
        out
    };
    let external_ips = parse_ips("externalIP", &mut spec.external_ips.iter().flatten());
    let is_lb = spec.type_.as_deref() == Some("LoadBalancer");
    let lb_ingress: Vec<String> = if is_lb {
        svc.status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .into_iter()
            .flatten()
            // ipMode Proxy: the load balancer delivers to the node, not to the VIP.
            .filter(|ing| ing.ip_mode.as_deref() != Some("Proxy"))
            .filter_map(|ing| ing.ip.clone())
            .collect()
    } else {
        Vec::new()
    };
    let load_balancer_ips = parse_ips("load balancer ingress IP", &mut lb_ingress.iter());
    let mut load_balancer_source_ranges = Vec::new();
    if is_lb {
        for raw in spec.load_balancer_source_ranges.iter().flatten() {
            match Cidr::parse(raw) {
                Some(c) => load_balancer_source_ranges.push(c),
                None => tracing::warn!(service = %format!("{namespace}/{name}"),
                    range = %raw, "invalid loadBalancerSourceRange; ignoring it"),
            }
        }
    }
    let affinity_timeout = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
        spec.session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds)
            .and_then(|t| u32::try_from(t).ok())
            .filter(|t| *t > 0)
            .unwrap_or(DEFAULT_AFFINITY_TIMEOUT_SECONDS)
    });
    let internal_local = spec.internal_traffic_policy.as_deref() == Some("Local");
    let external_policy_local = spec.external_traffic_policy.as_deref() == Some("Local");
    let node_ports_allowed = matches!(spec.type_.as_deref(), Some("NodePort" | "LoadBalancer"));
    let health_check_node_port = if is_lb && external_policy_local {
        let port = spec
            .health_check_node_port
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0);
        if port.is_none() {
            tracing::error!(service = %format!("{namespace}/{name}"),
                "Service has no healthcheck nodeport");
        }
        port
    } else {
        None
    };

    let mut seen: BTreeSet<(Protocol, u16)> = BTreeSet::new();
    let mut out = Vec::new();
    for p in spec.ports.iter().flatten() {
        let port_name = p.name.clone().unwrap_or_default();
        let port_display = format!("{namespace}/{name}:{port_name}");
        let Some(protocol) = Protocol::parse(p.protocol.as_deref()) else {
            tracing::warn!(service = %port_display, protocol = ?p.protocol, "unknown protocol; skipping port");
            continue;
        };
        let Some(port) = u16::try_from(p.port).ok().filter(|p| *p > 0) else {
            tracing::warn!(service = %port_display, port = p.port, "invalid port; skipping it");
            continue;
        };
        if !seen.insert((protocol, port)) {
            tracing::warn!(service = %port_display, port, protocol = protocol.nft(),
                "duplicate port in service; skipping it");
            continue;
        }
        let node_port = if node_ports_allowed {
            p.node_port
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| *n > 0)
        } else {
            None
        };
        let mut sp = ServicePort {
            name: ServicePortName {
                namespace: namespace.clone(),
                name: name.clone(),
                port: port_name,
            },
            protocol,
            port,
            cluster_ips: cluster_ips.clone(),
            node_port,
            external_ips: external_ips.clone(),
            load_balancer_ips: load_balancer_ips.clone(),
            load_balancer_source_ranges: load_balancer_source_ranges.clone(),
            affinity_timeout,
            internal_local,
            external_local: false,
            health_check_node_port,
            endpoints: Vec::new(),
        };
        sp.external_local = external_policy_local && sp.externally_accessible();
        out.push(sp);
    }
    out
}

/// Endpoints per (namespace, service name, port name, protocol), keyed by address.
type EndpointsByPort =
    BTreeMap<(String, String, String, Protocol), BTreeMap<(IpAddr, u16), Endpoint>>;

/// Adds a slice's endpoints under each of its ports. A duplicate address (same IP and
/// port, in this or another slice) is kept once, preferring a ready copy.
fn collect_slice(slice: &EndpointSlice, node: &NodeConfig, out: &mut EndpointsByPort) {
    let namespace = slice.metadata.namespace.clone().unwrap_or_default();
    let slice_name = slice.metadata.name.clone().unwrap_or_default();
    let Some(service) = slice
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(SERVICE_NAME_LABEL))
        .cloned()
    else {
        return; // not managed for a Service
    };
    let family = match slice.address_type.as_str() {
        "IPv4" => Family::V4,
        "IPv6" => Family::V6,
        _ => return, // FQDN slices are not proxied
    };
    for port in slice.ports.iter().flatten() {
        let Some(protocol) = Protocol::parse(port.protocol.as_deref()) else {
            tracing::warn!(slice = %format!("{namespace}/{slice_name}"), protocol = ?port.protocol,
                "unknown protocol in EndpointSlice port; skipping it");
            continue;
        };
        let Some(number) = port
            .port
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
        else {
            tracing::warn!(slice = %format!("{namespace}/{slice_name}"), port = ?port.port,
                "invalid EndpointSlice port; skipping it");
            continue;
        };
        let key = (
            namespace.clone(),
            service.clone(),
            port.name.clone().unwrap_or_default(),
            protocol,
        );
        let entry = out.entry(key).or_default();
        for ep in &slice.endpoints {
            let conditions = ep.conditions.clone().unwrap_or_default();
            let terminating = conditions.terminating.unwrap_or(false);
            // Nil ready means ready unless terminating; nil serving follows ready.
            let ready = conditions.ready.unwrap_or(!terminating);
            let serving = conditions.serving.unwrap_or(ready);
            let local = ep.node_name.as_deref() == Some(node.node_name.as_str());
            // Upstream uses only the first address of an endpoint.
            let Some(raw) = ep.addresses.first() else {
                continue;
            };
            let ip = match raw.parse::<IpAddr>() {
                Ok(ip) if Family::of(&ip) == family => ip,
                _ => {
                    tracing::warn!(slice = %format!("{namespace}/{slice_name}"), address = %raw,
                        address_type = %slice.address_type, "invalid endpoint address; skipping it");
                    continue;
                }
            };
            let endpoint = Endpoint {
                ip,
                port: number,
                ready,
                serving,
                terminating,
                local,
            };
            match entry.get(&(ip, number)) {
                Some(existing) if existing.ready || !endpoint.ready => {}
                _ => {
                    entry.insert((ip, number), endpoint);
                }
            }
        }
    }
}
