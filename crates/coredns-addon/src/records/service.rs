//! Building the index from one Service and its EndpointSlices.

use std::collections::HashMap;
use std::net::IpAddr;

use hickory_proto::rr::Name;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::{dashed_ip, key, Config, Node, SrvTarget};

/// The legacy annotation that makes not-ready endpoints count as ready.
const TOLERATE_UNREADY: &str = "service.alpha.kubernetes.io/tolerate-unready-endpoints";

fn ready(ep: &k8s_openapi::api::discovery::v1::Endpoint, publish_not_ready: bool) -> bool {
    publish_not_ready
        || ep
            .conditions
            .as_ref()
            .and_then(|c| c.ready)
            // A nil `ready` is to be read as ready (EndpointConditions docs).
            .unwrap_or(true)
}

pub(super) struct Builder {
    pub(super) config: Config,
    pub(super) names: HashMap<String, Node>,
    pub(super) reverse: HashMap<IpAddr, Vec<Name>>,
}

impl Builder {
    pub(super) fn node(&mut self, name: &Name) -> &mut Node {
        self.names.entry(key(name)).or_default()
    }

    pub(super) fn name(&self, labels: &[&str]) -> Option<Name> {
        let mut name = Name::from_labels(labels.iter().map(|l| l.as_bytes())).ok()?;
        name.set_fqdn(false);
        name.append_domain(&self.config.domain).ok()
    }
}

/// Service ports as (name, protocol, port), named ones only.
/// A named port: (name, lower-case protocol, number).
type NamedPort = (String, String, u16);

fn named_service_ports(svc: &Service) -> Vec<NamedPort> {
    svc.spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let name = p.name.as_deref().filter(|n| !n.is_empty())?;
            let port = u16::try_from(p.port).ok()?;
            let proto = p.protocol.as_deref().unwrap_or("TCP");
            Some((name.to_ascii_lowercase(), proto.to_ascii_lowercase(), port))
        })
        .collect()
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok()
}

pub(super) fn add_service(
    b: &mut Builder,
    svc: &Service,
    svc_name: &Name,
    name: &str,
    ns: &str,
    slices: &[&EndpointSlice],
) {
    let Some(spec) = svc.spec.as_ref() else {
        return;
    };
    let srv_weight = |n: usize| -> u16 { u16::try_from((100 / n.max(1)).max(1)).unwrap_or(1) };
    if spec.type_.as_deref() == Some("ExternalName") {
        let Some(ext) = spec.external_name.as_deref().filter(|e| !e.is_empty()) else {
            return;
        };
        match Name::from_ascii(ext.trim_end_matches('.')) {
            Ok(mut target) => {
                target.set_fqdn(true);
                b.node(svc_name).cname = Some(target);
            }
            Err(e) => {
                tracing::warn!(namespace = ns, name, external_name = ext, error = %e, "invalid externalName; skipped");
            }
        }
        return;
    }
    let ports = named_service_ports(svc);
    let headless = spec.cluster_ip.as_deref() == Some("None");
    if !headless {
        let ips: Vec<IpAddr> = spec
            .cluster_ips
            .clone()
            .filter(|v| !v.is_empty())
            .or_else(|| spec.cluster_ip.clone().map(|ip| vec![ip]))
            .unwrap_or_default()
            .iter()
            .filter_map(|s| parse_ip(s))
            .collect();
        if ips.is_empty() {
            // Not allocated yet (or invalid): nothing to publish.
            return;
        }
        let node = b.node(svc_name);
        for ip in &ips {
            match ip {
                IpAddr::V4(v4) => node.a.push(*v4),
                IpAddr::V6(v6) => node.aaaa.push(*v6),
            }
        }
        for (port_name, proto, port) in &ports {
            let Some(srv_name) = b.name(&[
                &format!("_{port_name}"),
                &format!("_{proto}"),
                name,
                ns,
                "svc",
            ]) else {
                continue;
            };
            b.node(&srv_name).srv.push(SrvTarget {
                priority: 0,
                weight: 100,
                port: *port,
                target: svc_name.clone(),
            });
        }
        for ip in ips {
            b.reverse.entry(ip).or_default().push(svc_name.clone());
        }
        return;
    }
    // Headless: the ready endpoints.
    let publish_not_ready = spec.publish_not_ready_addresses == Some(true)
        || svc
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(TOLERATE_UNREADY))
            .is_some_and(|v| v == "true");
    // (hostname name, ip, slice ports)
    let mut endpoints: Vec<(Name, IpAddr, Vec<NamedPort>)> = Vec::new();
    for slice in slices {
        if slice.address_type != "IPv4" && slice.address_type != "IPv6" {
            continue;
        }
        let slice_ports: Vec<NamedPort> = slice
            .ports
            .as_ref()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let name = p.name.as_deref().filter(|n| !n.is_empty())?;
                let port = u16::try_from(p.port?).ok()?;
                let proto = p.protocol.as_deref().unwrap_or("TCP");
                Some((name.to_ascii_lowercase(), proto.to_ascii_lowercase(), port))
            })
            .collect();
        for ep in &slice.endpoints {
            if !ready(ep, publish_not_ready) {
                continue;
            }
            for addr in &ep.addresses {
                let Some(ip) = parse_ip(addr) else {
                    tracing::warn!(namespace = ns, slice = ?slice.metadata.name, address = %addr, "invalid endpoint address; skipped");
                    continue;
                };
                let host = ep
                    .hostname
                    .clone()
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| dashed_ip(ip));
                let Some(host_name) = b.name(&[&host, name, ns, "svc"]) else {
                    tracing::warn!(namespace = ns, hostname = %host, "endpoint hostname is not a DNS label; skipped");
                    continue;
                };
                endpoints.push((host_name, ip, slice_ports.clone()));
            }
        }
    }
    let mut srv_counts: HashMap<(String, String), usize> = HashMap::new();
    for (_, _, sp) in &endpoints {
        for (pn, proto, _) in sp {
            *srv_counts.entry((pn.clone(), proto.clone())).or_default() += 1;
        }
    }
    for (host_name, ip, slice_ports) in endpoints {
        {
            let node = b.node(svc_name);
            match ip {
                IpAddr::V4(v4) => node.a.push(v4),
                IpAddr::V6(v6) => node.aaaa.push(v6),
            }
        }
        {
            let node = b.node(&host_name);
            match ip {
                IpAddr::V4(v4) => node.a.push(v4),
                IpAddr::V6(v6) => node.aaaa.push(v6),
            }
        }
        for (port_name, proto, port) in &slice_ports {
            // Only ports the Service names (the slice mirrors them).
            if !ports.iter().any(|(n, p, _)| n == port_name && p == proto) {
                continue;
            }
            let Some(srv_name) = b.name(&[
                &format!("_{port_name}"),
                &format!("_{proto}"),
                name,
                ns,
                "svc",
            ]) else {
                continue;
            };
            let n = srv_counts
                .get(&(port_name.clone(), proto.clone()))
                .copied()
                .unwrap_or(1);
            b.node(&srv_name).srv.push(SrvTarget {
                priority: 0,
                weight: srv_weight(n),
                port: *port,
                target: host_name.clone(),
            });
        }
        b.reverse.entry(ip).or_default().push(host_name);
    }
}
