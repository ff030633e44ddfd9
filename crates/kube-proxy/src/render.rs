//! (Model, node config, family) -> the `kube-proxy` nftables table: a pure function,
//! modelled on upstream's pkg/proxy/nftables/proxier.go (setupNFTables + syncProxyRules).
//! Same table, chain, set and map names, same verdict-map dispatch keyed by
//! `daddr . l4proto . dport`, same per-service and per-endpoint chains with numgen
//! random endpoint selection, so the output reads like upstream's `nft list table`.
//!
//! One deliberate difference: upstream picks the endpoint with one rule,
//! `numgen random mod N vmap { 0 : goto endpoint-a, 1 : goto endpoint-b, ... }`. Each such
//! rule creates an anonymous set, and the kernel (6.x, with nft 1.0.6) names every new
//! anonymous set by scanning the table's sets: loading 10,000 Services took 128 s that
//! way on the benchmark machine, against 10 s with the equivalent cascade used here,
//! `numgen random mod N == 0 goto endpoint-a`, `numgen random mod N-1 == 0 goto
//! endpoint-b`, ..., `goto endpoint-last` (endpoint i is taken with probability 1/(N-i)
//! when none before it was, i.e. uniformly). Only a connection's first packet traverses
//! the nat chains, so the extra rules cost nothing per packet.

use std::net::IpAddr;

use crate::model::{Cidr, Endpoint, Family, Model, NodeConfig, ServicePort, ServicePortName};
use crate::ruleset::rule::{AddrMatch, BaseChain, Expr, Field, Hook, Rule, Verdict};
use crate::ruleset::set::{Element, Key, KeyType, SetSpec};
use crate::ruleset::{Chain, Ruleset};

pub const SERVICES_CHAIN: &str = "services";
pub const SERVICE_IPS_MAP: &str = "service-ips";
pub const SERVICE_NODEPORTS_MAP: &str = "service-nodeports";
pub const NODEPORT_IPS_SET: &str = "nodeport-ips";
pub const CLUSTER_IPS_SET: &str = "cluster-ips";
pub const CLUSTER_IPS_CHECK_CHAIN: &str = "cluster-ips-check";
pub const ENDPOINTS_CHECK_CHAIN: &str = "endpoints-check";
pub const NO_ENDPOINT_SERVICES_MAP: &str = "no-endpoint-services";
pub const NO_ENDPOINT_NODEPORTS_MAP: &str = "no-endpoint-nodeports";
pub const REJECT_CHAIN: &str = "reject-chain";
pub const FIREWALL_IPS_MAP: &str = "firewall-ips";
pub const FIREWALL_CHECK_CHAIN: &str = "firewall-check";
pub const MARK_MASQ_CHAIN: &str = "mark-for-masquerade";
pub const MASQUERADING_CHAIN: &str = "masquerading";

/// Base chains: name, nat or filter, hook, priority. Filter chains run before DNAT
/// (dstnat - 10) so they see the Service address; filter-output-post-dnat runs after it
/// (dstnat + 10).
const BASE_CHAINS: &[(&str, bool, Hook, i32)] = &[
    ("filter-prerouting", false, Hook::Prerouting, -110),
    ("filter-input", false, Hook::Input, -110),
    ("filter-forward", false, Hook::Forward, -110),
    ("filter-output", false, Hook::Output, -110),
    ("filter-output-post-dnat", false, Hook::Output, -90),
    ("nat-prerouting", true, Hook::Prerouting, -100),
    ("nat-output", true, Hook::Output, -100),
    ("nat-postrouting", true, Hook::Postrouting, 100),
];

/// (jump target, from base chain, only for `ct state new`): upstream's
/// nftablesJumpChains.
const JUMP_CHAINS: &[(&str, &str, bool)] = &[
    (ENDPOINTS_CHECK_CHAIN, "filter-input", true),
    (ENDPOINTS_CHECK_CHAIN, "filter-forward", true),
    (ENDPOINTS_CHECK_CHAIN, "filter-output", true),
    (FIREWALL_CHECK_CHAIN, "filter-prerouting", true),
    (FIREWALL_CHECK_CHAIN, "filter-output", true),
    (CLUSTER_IPS_CHECK_CHAIN, "filter-forward", true),
    (CLUSTER_IPS_CHECK_CHAIN, "filter-output-post-dnat", true),
    (SERVICES_CHAIN, "nat-output", false),
    (SERVICES_CHAIN, "nat-prerouting", false),
    (MASQUERADING_CHAIN, "nat-postrouting", false),
];

/// nftables names are at most 256 bytes; prefixes take up to 16.
const CHAIN_NAME_BASE_MAX: usize = 240;

/// Upstream's hashAndTruncate: base32(sha256(name))[..8] + "-" + name, truncated.
pub fn hash_and_truncate(name: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    let mut out = base32_prefix(digest.as_ref());
    out.push('-');
    out.push_str(name);
    if out.len() > CHAIN_NAME_BASE_MAX {
        let mut cut = CHAIN_NAME_BASE_MAX - 3;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

/// The first 8 characters of RFC 4648 base32 (40 bits = the first 5 bytes).
fn base32_prefix(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut acc: u64 = 0;
    for b in bytes.iter().take(5) {
        acc = (acc << 8) | u64::from(*b);
    }
    (0..8)
        .map(|i| char::from(ALPHABET[((acc >> (35 - 5 * i)) & 31) as usize]))
        .collect()
}

/// "HASH-ns/name/tcp/port" (servicePortChainNameBase).
pub fn service_port_chain_base(name: &ServicePortName, protocol: &str) -> String {
    hash_and_truncate(&format!(
        "{}/{}/{}/{}",
        name.namespace, name.name, protocol, name.port
    ))
}

/// "HASH-ns/name/tcp/port__ip/port" (servicePortEndpointChainNameBase); IPv6 colons
/// become dots, which chain names allow.
pub fn endpoint_chain_base(name: &ServicePortName, protocol: &str, ep: &Endpoint) -> String {
    let ip = ep.ip.to_string().replace(':', ".");
    hash_and_truncate(&format!(
        "{}/{}/{}/{}__{}/{}",
        name.namespace, name.name, protocol, name.port, ip, ep.port
    ))
}

fn rule(exprs: Vec<Expr>) -> Rule {
    Rule::new(exprs)
}

fn addr(field: Field, negated: bool, value: AddrMatch) -> Expr {
    Expr::Addr {
        field,
        negated,
        value,
    }
}

/// `nft` takes comments of at most 128 bytes; "namespace/name:port" can be longer.
const MAX_COMMENT: usize = 128;

fn element(key: Key, value: Option<Verdict>, comment: Option<&str>) -> Element {
    Element {
        key,
        value,
        comment: comment.map(|c| {
            let mut end = c.len().min(MAX_COMMENT);
            while !c.is_char_boundary(end) {
                end -= 1;
            }
            c[..end].to_string()
        }),
    }
}

/// The fixed part of the table (upstream's setupNFTables).
fn setup(r: &mut Ruleset, node: &NodeConfig, mark: u32) {
    let family = r.family;
    let localhost = match family {
        Family::V4 => AddrMatch::Cidr(Cidr {
            addr: std::net::Ipv4Addr::new(127, 0, 0, 0).into(),
            prefix: 8,
        }),
        Family::V6 => AddrMatch::Addr(std::net::Ipv6Addr::LOCALHOST.into()),
    };
    for (name, nat, hook, priority) in BASE_CHAINS {
        r.chains.insert(
            name.to_string(),
            Chain {
                base: Some(BaseChain {
                    nat: *nat,
                    hook: *hook,
                    priority: *priority,
                }),
                ..Chain::default()
            },
        );
    }
    for (target, from, new_only) in JUMP_CHAINS {
        r.chain(target);
        let mut exprs = Vec::new();
        if *new_only {
            exprs.push(Expr::CtStateNew);
        }
        exprs.push(Expr::jump(target));
        r.rule(from, rule(exprs));
    }
    r.chain(MARK_MASQ_CHAIN);
    r.rule(MARK_MASQ_CHAIN, rule(vec![Expr::MarkSetOr(mark)]));
    r.rule(
        MASQUERADING_CHAIN,
        rule(vec![Expr::MarkClear(mark), Expr::Verdict(Verdict::Return)]),
    );
    r.rule(MASQUERADING_CHAIN, rule(vec![Expr::MarkSetXor(mark)]));
    r.rule(MASQUERADING_CHAIN, rule(vec![Expr::MasqueradeFullyRandom]));

    r.declare_set(
        CLUSTER_IPS_SET,
        SetSpec::set(KeyType::Addr(family), "Active ClusterIPs"),
    );
    r.rule(
        CLUSTER_IPS_CHECK_CHAIN,
        rule(vec![
            Expr::AddrInSet {
                field: Field::Daddr,
                set: CLUSTER_IPS_SET.to_string(),
            },
            Expr::Reject,
        ])
        .with_comment("Reject traffic to invalid ports of ClusterIPs"),
    );

    let nodeport_match = match &node.nodeport_ips {
        None => vec![
            Expr::FibLocal(Field::Daddr),
            addr(Field::Daddr, true, localhost),
        ],
        Some(ips) => {
            r.declare_set(
                NODEPORT_IPS_SET,
                SetSpec::set(KeyType::Addr(family), "IPs that accept NodePort traffic"),
            );
            for a in ips.iter().filter(|a| Family::of(a) == family) {
                if a.is_loopback() {
                    tracing::warn!(address = %a, "--nodeport-addresses includes localhost but localhost NodePorts are not supported");
                    continue;
                }
                r.element(NODEPORT_IPS_SET, element(Key::Addr(*a), None, None));
            }
            vec![Expr::AddrInSet {
                field: Field::Daddr,
                set: NODEPORT_IPS_SET.to_string(),
            }]
        }
    };
    let vip_vmap = |map: &str| Expr::Vmap {
        with_daddr: true,
        map: map.to_string(),
    };
    let nodeport_vmap = |map: &str| {
        let mut exprs = nodeport_match.clone();
        exprs.push(Expr::Vmap {
            with_daddr: false,
            map: map.to_string(),
        });
        rule(exprs)
    };

    r.declare_set(
        NO_ENDPOINT_SERVICES_MAP,
        SetSpec::verdict_map(
            KeyType::AddrProtoPort(family),
            "vmap to drop or reject packets to services with no endpoints",
        ),
    );
    r.declare_set(
        NO_ENDPOINT_NODEPORTS_MAP,
        SetSpec::verdict_map(
            KeyType::ProtoPort,
            "vmap to drop or reject packets to service nodeports with no endpoints",
        ),
    );
    r.chain(REJECT_CHAIN).comment =
        Some("helper for @no-endpoint-services / @no-endpoint-nodeports".to_string());
    r.rule(REJECT_CHAIN, rule(vec![Expr::Reject]));
    r.rule(
        ENDPOINTS_CHECK_CHAIN,
        rule(vec![vip_vmap(NO_ENDPOINT_SERVICES_MAP)]),
    );
    r.rule(
        ENDPOINTS_CHECK_CHAIN,
        nodeport_vmap(NO_ENDPOINT_NODEPORTS_MAP),
    );

    r.declare_set(
        FIREWALL_IPS_MAP,
        SetSpec::verdict_map(
            KeyType::AddrProtoPort(family),
            "destinations that are subject to LoadBalancerSourceRanges",
        ),
    );
    r.rule(FIREWALL_CHECK_CHAIN, rule(vec![vip_vmap(FIREWALL_IPS_MAP)]));

    r.declare_set(
        SERVICE_IPS_MAP,
        SetSpec::verdict_map(
            KeyType::AddrProtoPort(family),
            "ClusterIP, ExternalIP and LoadBalancer IP traffic",
        ),
    );
    r.declare_set(
        SERVICE_NODEPORTS_MAP,
        SetSpec::verdict_map(KeyType::ProtoPort, "NodePort traffic"),
    );
    r.rule(SERVICES_CHAIN, rule(vec![vip_vmap(SERVICE_IPS_MAP)]));
    r.rule(SERVICES_CHAIN, nodeport_vmap(SERVICE_NODEPORTS_MAP));
}

/// Renders the `kube-proxy` table of `family`: [`render_setup`] plus every
/// [`render_port`] fragment.
pub fn render(model: &Model, node: &NodeConfig, family: Family) -> Ruleset {
    let mut r = render_setup(node, family);
    for sp in &model.ports {
        r.merge(&render_port(sp, node, family));
    }
    r
}

/// The part of the table that does not depend on Services.
pub fn render_setup(node: &NodeConfig, family: Family) -> Ruleset {
    let mut r = Ruleset::new(family);
    let mark = 1u32 << u32::from(node.masquerade_bit.min(31));
    setup(&mut r, node, mark);
    r
}

/// One service port's chains, sets and elements (elements of the shared maps appear
/// in sets with an empty spec: [`Ruleset::merge`] adds them to the setup's maps).
/// Fragments of different service ports never share a chain, a set or a map key; the
/// ports of one Service share only their ClusterIP's `cluster-ips` element.
pub fn render_port(sp: &ServicePort, node: &NodeConfig, family: Family) -> Ruleset {
    let mut r = Ruleset::new(family);
    let local_cidr = node
        .cluster_cidrs
        .iter()
        .find(|c| c.family() == family)
        .copied();
    render_service_port(&mut r, sp, node, family, local_cidr);
    r
}

fn render_service_port(
    r: &mut Ruleset,
    sp: &ServicePort,
    node: &NodeConfig,
    family: Family,
    local_cidr: Option<Cidr>,
) {
    let Some(cluster_ip) = sp.cluster_ips.iter().find(|ip| Family::of(ip) == family) else {
        return; // single-stack Service of the other family
    };
    let protocol = sp.protocol;
    let name_string = sp.name.to_string();
    let comment = Some(name_string.as_str());
    let base = service_port_chain_base(&sp.name, protocol.nft());
    let cluster_chain = format!("service-{base}");
    let local_chain = format!("local-{base}");
    let external_chain = format!("external-{base}");
    let firewall_chain = format!("firewall-{base}");
    let external_ips: Vec<&IpAddr> = sp
        .external_ips
        .iter()
        .filter(|i| Family::of(i) == family)
        .collect();
    let lb_ips: Vec<&IpAddr> = sp
        .load_balancer_ips
        .iter()
        .filter(|i| Family::of(i) == family)
        .collect();
    let externally_accessible =
        sp.node_port.is_some() || !external_ips.is_empty() || !lb_ips.is_empty();

    let cat = sp.categorize(family);
    let endpoint_chain = |ep: &Endpoint| {
        format!(
            "endpoint-{}",
            endpoint_chain_base(&sp.name, protocol.nft(), ep)
        )
    };
    let affinity_set = |ep: &Endpoint| {
        format!(
            "affinity-{}",
            endpoint_chain_base(&sp.name, protocol.nft(), ep)
        )
    };
    let vip_key = |ip: &IpAddr| Key::AddrProtoPort(*ip, protocol, sp.port);

    let uses_cluster_chain = !cat.cluster.is_empty();
    let uses_local_chain = !cat.local.is_empty();
    let has_endpoints = cat.has_any;
    let (internal_chain, has_internal) = if sp.internal_local {
        (&local_chain, uses_local_chain)
    } else {
        (&cluster_chain, has_endpoints)
    };
    let has_internal = has_internal && has_endpoints;
    let (external_policy_chain, has_external) = if sp.external_local {
        (&local_chain, has_endpoints && uses_local_chain)
    } else {
        (&cluster_chain, has_endpoints)
    };
    let uses_external_chain = has_endpoints && externally_accessible;

    let no_endpoint_verdict = if !has_endpoints {
        Verdict::Goto(REJECT_CHAIN.to_string())
    } else {
        Verdict::Drop
    };

    r.element(CLUSTER_IPS_SET, element(Key::Addr(*cluster_ip), None, None));

    // ClusterIP.
    if has_internal {
        r.element(
            SERVICE_IPS_MAP,
            element(
                vip_key(cluster_ip),
                Some(Verdict::Goto(internal_chain.clone())),
                None,
            ),
        );
    } else {
        r.element(
            NO_ENDPOINT_SERVICES_MAP,
            element(
                vip_key(cluster_ip),
                Some(no_endpoint_verdict.clone()),
                comment,
            ),
        );
    }
    // externalIPs and load-balancer IPs.
    for ip in external_ips.iter().chain(&lb_ips) {
        if has_endpoints {
            r.element(
                SERVICE_IPS_MAP,
                element(
                    vip_key(ip),
                    Some(Verdict::Goto(external_chain.clone())),
                    None,
                ),
            );
        }
        if !has_external {
            r.element(
                NO_ENDPOINT_SERVICES_MAP,
                element(vip_key(ip), Some(no_endpoint_verdict.clone()), comment),
            );
        }
    }
    // loadBalancerSourceRanges.
    let ranges: Vec<AddrMatch> = sp
        .load_balancer_source_ranges
        .iter()
        .filter(|c| c.family() == family)
        .map(|c| AddrMatch::Cidr(*c))
        .collect();
    if !lb_ips.is_empty() && !ranges.is_empty() {
        let mut sources = ranges;
        let allow_from_node = sp
            .load_balancer_source_ranges
            .iter()
            .any(|c| node.node_ips.iter().any(|ip| c.contains(ip)));
        if allow_from_node {
            sources.extend(lb_ips.iter().map(|ip| AddrMatch::Addr(**ip)));
        }
        r.rule(
            &firewall_chain,
            rule(vec![
                Expr::AddrNotInAnonymousSet {
                    field: Field::Saddr,
                    values: sources,
                },
                Expr::Verdict(Verdict::Drop),
            ]),
        );
        for ip in &lb_ips {
            r.element(
                FIREWALL_IPS_MAP,
                element(
                    vip_key(ip),
                    Some(Verdict::Goto(firewall_chain.clone())),
                    comment,
                ),
            );
        }
    }
    // NodePort.
    if let Some(node_port) = sp.node_port {
        let key = Key::ProtoPort(protocol, node_port);
        if has_endpoints {
            r.element(
                SERVICE_NODEPORTS_MAP,
                element(
                    key.clone(),
                    Some(Verdict::Goto(external_chain.clone())),
                    None,
                ),
            );
        }
        if !has_external {
            r.element(
                NO_ENDPOINT_NODEPORTS_MAP,
                element(key, Some(no_endpoint_verdict.clone()), comment),
            );
        }
    }

    // Internal traffic: masquerade what comes from outside the cluster CIDR.
    if has_internal && (node.masquerade_all || local_cidr.is_some()) {
        let mut exprs = vec![
            addr(Field::Daddr, false, AddrMatch::Addr(*cluster_ip)),
            Expr::Dport {
                protocol,
                port: sp.port,
            },
        ];
        if !node.masquerade_all {
            if let Some(cidr) = local_cidr {
                exprs.push(addr(Field::Saddr, true, AddrMatch::Cidr(cidr)));
            }
        }
        exprs.push(Expr::jump(MARK_MASQ_CHAIN));
        r.rule(internal_chain, rule(exprs));
    }

    // External traffic.
    if uses_external_chain {
        r.chain(&external_chain);
        if !sp.external_local {
            r.rule(&external_chain, rule(vec![Expr::jump(MARK_MASQ_CHAIN)]));
        } else {
            if let Some(cidr) = local_cidr {
                r.rule(
                    &external_chain,
                    rule(vec![
                        addr(Field::Saddr, false, AddrMatch::Cidr(cidr)),
                        Expr::goto(&cluster_chain),
                    ])
                    .with_comment("short-circuit pod traffic"),
                );
            }
            r.rule(
                &external_chain,
                rule(vec![
                    Expr::FibLocal(Field::Saddr),
                    Expr::jump(MARK_MASQ_CHAIN),
                ])
                .with_comment("masquerade local traffic"),
            );
            r.rule(
                &external_chain,
                rule(vec![
                    Expr::FibLocal(Field::Saddr),
                    Expr::goto(&cluster_chain),
                ])
                .with_comment("short-circuit local traffic"),
            );
        }
        if has_external {
            r.rule(
                &external_chain,
                rule(vec![Expr::goto(external_policy_chain)]),
            );
        }
    }

    // ClientIP affinity: one timeout set per endpoint, filled by the packet path.
    if let Some(timeout) = sp.affinity_timeout {
        for ep in &cat.reachable {
            r.declare_set(
                &affinity_set(ep),
                SetSpec {
                    key: KeyType::Addr(family),
                    verdict_map: false,
                    timeout_seconds: Some(timeout),
                    comment: None,
                },
            );
        }
    }

    let write_policy_chain = |r: &mut Ruleset, chain: &str, eps: &[&Endpoint]| {
        if sp.affinity_timeout.is_some() {
            for ep in eps {
                r.rule(
                    chain,
                    rule(vec![
                        Expr::AddrInSet {
                            field: Field::Saddr,
                            set: affinity_set(ep),
                        },
                        Expr::goto(&endpoint_chain(ep)),
                    ]),
                );
            }
        }
        // Endpoint i is taken with probability 1/(N-i) when none before it was:
        // uniform overall. See the module docs for why not one anonymous vmap.
        let n = eps.len();
        for (i, ep) in eps.iter().enumerate() {
            let goto = Expr::goto(&endpoint_chain(ep));
            if i + 1 == n {
                r.rule(chain, rule(vec![goto]));
            } else {
                let modulus = u32::try_from(n - i).unwrap_or(u32::MAX);
                r.rule(chain, rule(vec![Expr::NumgenIsZero(modulus), goto]));
            }
        }
    };
    if uses_cluster_chain {
        write_policy_chain(r, &cluster_chain, &cat.cluster);
    }
    if uses_local_chain {
        write_policy_chain(r, &local_chain, &cat.local);
    }

    // Endpoint chains: hairpin masquerade, affinity update, DNAT.
    for ep in &cat.reachable {
        let chain = endpoint_chain(ep);
        r.rule(
            &chain,
            rule(vec![
                addr(Field::Saddr, false, AddrMatch::Addr(ep.ip)),
                Expr::jump(MARK_MASQ_CHAIN),
            ]),
        );
        if sp.affinity_timeout.is_some() {
            r.rule(&chain, rule(vec![Expr::UpdateSaddr(affinity_set(ep))]));
        }
        r.rule(
            &chain,
            rule(vec![
                Expr::L4Proto(protocol),
                Expr::Dnat {
                    addr: ep.ip,
                    port: ep.port,
                },
            ]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_names_match_upstream() {
        // From upstream's proxier_test.go: "ULMVA6XW-ns1/svc1/tcp/p80" and
        // "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80".
        let name = ServicePortName {
            namespace: "ns1".into(),
            name: "svc1".into(),
            port: "p80".into(),
        };
        assert_eq!(
            service_port_chain_base(&name, "tcp"),
            "ULMVA6XW-ns1/svc1/tcp/p80"
        );
        let ep = Endpoint {
            ip: "10.180.0.1".parse().unwrap(),
            port: 80,
            ready: true,
            serving: true,
            terminating: false,
            local: false,
        };
        assert_eq!(
            endpoint_chain_base(&name, "tcp", &ep),
            "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
        );
    }

    #[test]
    fn long_names_are_truncated_with_an_ellipsis() {
        let long = "x".repeat(300);
        let out = hash_and_truncate(&long);
        assert_eq!(out.len(), CHAIN_NAME_BASE_MAX);
        assert!(out.ends_with("..."));
    }
}
