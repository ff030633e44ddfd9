//! Service validation: ValidateService and ValidateServiceUpdate (ports, types, session
//! affinity, cluster IPs and IP families, traffic policies, node port range).

use std::collections::BTreeSet;
use std::net::IpAddr;

use api_types::names::is_dns1035_label;
use api_types::validation::{child, index, FieldError};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::containers::{is_valid_port_num, validate_port_num_or_name};
use super::metadata::{
    duplicate_go, go_quote, go_string_slice, invalid_each, invalid_go, validate_dns1123_label,
    validate_dns1123_subdomain, validate_labels, validate_object_meta, validate_object_meta_update,
    validate_qualified_name,
};
use super::pod_spec::{opt, INVALID_IP};
use super::services::{
    cluster_ips, externally_accessible, ip_family_of, is_headless, needs_health_check, spec_type,
    NODE_PORT_RANGE,
};

const KUBELET_PORT: i32 = 10250;
const MAX_CLIENT_IP_AFFINITY_SECONDS: i32 = 86400;

/// `%#v` of the (protocol, port) key upstream reports duplicate ports with.
fn go_port_key(p: &ServicePort) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        go_quote(opt(&p.protocol)),
        p.port
    )
}

fn validate_service_port(
    p: &ServicePort,
    require_name: bool,
    names: &mut BTreeSet<String>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = opt(&p.name);
    if require_name && name.is_empty() {
        errs.push(FieldError::required(child(path, "name"), ""));
    } else if !name.is_empty() {
        errs.extend(validate_dns1123_label(name, &child(path, "name")));
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(path, "name"), name));
        }
    }
    for m in is_valid_port_num(i64::from(p.port)) {
        errs.push(FieldError::invalid(child(path, "port"), p.port, m));
    }
    match opt(&p.protocol) {
        "" => errs.push(FieldError::required(child(path, "protocol"), "")),
        "TCP" | "UDP" | "SCTP" => {}
        other => errs.push(FieldError::not_supported(
            child(path, "protocol"),
            other,
            &["SCTP", "TCP", "UDP"],
        )),
    }
    errs.extend(validate_port_num_or_name(
        &p.target_port.clone().unwrap_or(IntOrString::Int(0)),
        &child(path, "targetPort"),
    ));
    if let Some(ap) = &p.app_protocol {
        errs.extend(validate_qualified_name(ap, &child(path, "appProtocol")));
    }
    errs
}

/// `ValidateNonSpecialIP` for externalIPs.
fn validate_non_special_ip(ip: &str, path: &str) -> Vec<FieldError> {
    let Ok(addr) = ip.parse::<IpAddr>() else {
        return vec![FieldError::invalid(path, ip, INVALID_IP)];
    };
    let mut errs = Vec::new();
    if addr.is_unspecified() {
        errs.push(FieldError::invalid(
            path,
            ip,
            format!("may not be unspecified ({ip})"),
        ));
    }
    if addr.is_loopback() {
        errs.push(FieldError::invalid(
            path,
            ip,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    let (link_local, ll_multicast) = match addr {
        IpAddr::V4(a) => (a.is_link_local(), a.octets()[..3] == [224, 0, 0]),
        IpAddr::V6(a) => (
            (a.segments()[0] & 0xffc0) == 0xfe80,
            (a.segments()[0] & 0xff0f) == 0xff02,
        ),
    };
    if link_local {
        errs.push(FieldError::invalid(
            path,
            ip,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if ll_multicast {
        errs.push(FieldError::invalid(
            path,
            ip,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    errs
}

/// `ValidateServiceClusterIPsRelatedFields`.
fn validate_cluster_ip_fields(spec: &ServiceSpec) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if spec_type(spec) == "ExternalName" {
        return errs;
    }
    let ips = cluster_ips(spec);
    let shown = go_string_slice(spec.cluster_ips.as_deref());
    let ip = opt(&spec.cluster_ip);
    if !ip.is_empty() {
        if ips.is_empty() {
            errs.push(FieldError::required("spec.clusterIPs", ""));
        } else if ips[0] != ip {
            errs.push(invalid_go(
                "spec.clusterIPs",
                &shown,
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(invalid_go(
            "spec.clusterIPs",
            &shown,
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, fam) in spec.ip_families.iter().flatten().enumerate() {
        let p = index("spec.ipFamilies", i);
        if fam != "IPv4" && fam != "IPv6" {
            errs.push(FieldError::not_supported(
                &p,
                fam.as_str(),
                &["IPv4", "IPv6"],
            ));
        }
        if !seen.insert(fam.as_str()) {
            errs.push(FieldError::duplicate(&p, fam.as_str()));
        }
    }
    if let Some(pol) = spec.ip_family_policy.as_deref() {
        if !["PreferDualStack", "RequireDualStack", "SingleStack"].contains(&pol) {
            errs.push(FieldError::not_supported(
                "spec.ipFamilyPolicy",
                pol,
                &["PreferDualStack", "RequireDualStack", "SingleStack"],
            ));
        }
    }
    let mut bad_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                bad_ips = true;
                errs.push(invalid_go(
                    "spec.clusterIPs",
                    &shown,
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        if ip.parse::<IpAddr>().is_err() {
            bad_ips = true;
            errs.push(FieldError::invalid(
                index("spec.clusterIPs", i),
                ip.as_str(),
                INVALID_IP,
            ));
        }
    }
    if ips.len() > 2 {
        errs.push(invalid_go(
            "spec.clusterIPs",
            &shown,
            "may only hold up to 2 values",
        ));
    }
    if bad_ips {
        return errs;
    }
    if ips.len() > 1 && ip_family_of(&ips[0]) == ip_family_of(&ips[1]) {
        errs.push(invalid_go(
            "spec.clusterIPs",
            &shown,
            "may specify no more than one IP for each IP family",
        ));
    }
    if !is_headless(spec) {
        for (i, (ip, fam)) in ips
            .iter()
            .zip(spec.ip_families.iter().flatten())
            .enumerate()
        {
            if ip_family_of(ip) != fam {
                errs.push(FieldError::invalid(
                    index("spec.clusterIPs", i),
                    ip.as_str(),
                    format!("expected an {fam} value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
    errs
}

fn validate_traffic_policies(spec: &ServiceSpec) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let etp = opt(&spec.external_traffic_policy);
    if !externally_accessible(spec) {
        if !etp.is_empty() {
            errs.push(FieldError::invalid(
                "spec.externalTrafficPolicy",
                etp,
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        errs.push(FieldError::required("spec.externalTrafficPolicy", ""));
    } else if etp != "Cluster" && etp != "Local" {
        errs.push(FieldError::not_supported(
            "spec.externalTrafficPolicy",
            etp,
            &["Cluster", "Local"],
        ));
    }
    let hc = spec.health_check_node_port.unwrap_or(0);
    if !needs_health_check(spec) {
        if hc != 0 {
            errs.push(FieldError::invalid(
                "spec.healthCheckNodePort",
                hc,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if hc != 0 {
        for m in is_valid_port_num(i64::from(hc)) {
            errs.push(FieldError::invalid("spec.healthCheckNodePort", hc, m));
        }
    }
    match spec.internal_traffic_policy.as_deref() {
        None if matches!(spec_type(spec), "NodePort" | "LoadBalancer" | "ClusterIP") => {
            errs.push(FieldError::required(
                "spec.internalTrafficPolicy",
                format!("must be specified when `type` is '{}'", spec_type(spec)),
            ))
        }
        Some(p) if p != "Cluster" && p != "Local" => {
            errs.push(FieldError::not_supported(
                "spec.internalTrafficPolicy",
                p,
                &["Cluster", "Local"],
            ));
        }
        _ => {}
    }
    if let Some(td) = spec.traffic_distribution.as_deref() {
        if td != "PreferClose" {
            errs.push(FieldError::not_supported(
                "spec.trafficDistribution",
                td,
                &["PreferClose"],
            ));
        }
    }
    errs
}

/// `ValidateService`.
pub fn validate_service(svc: &Service) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&svc.metadata, true, is_dns1035_label, "metadata");
    let spec = svc.spec.clone().unwrap_or_default();
    let ports = spec.ports.clone().unwrap_or_default();
    let ty = spec_type(&spec);
    if ports.is_empty() && !is_headless(&spec) && ty != "ExternalName" {
        errs.push(FieldError::required("spec.ports", ""));
    }
    match ty {
        "LoadBalancer" | "NodePort" if is_headless(&spec) => {
            errs.push(FieldError::invalid(
                "spec.clusterIPs[0]",
                "None",
                format!("may not be set to 'None' for {ty} services"),
            ));
        }
        "ExternalName" => {
            if !cluster_ips(&spec).is_empty() {
                errs.push(FieldError::forbidden(
                    "spec.clusterIPs",
                    "may not be set for ExternalName services",
                ));
            }
            if spec.ip_families.as_ref().is_some_and(|f| !f.is_empty()) {
                errs.push(FieldError::forbidden(
                    "spec.ipFamilies",
                    "may not be set for ExternalName services",
                ));
            }
            if spec.ip_family_policy.is_some() {
                errs.push(FieldError::forbidden(
                    "spec.ipFamilyPolicy",
                    "may not be set for ExternalName services",
                ));
            }
            // A trailing dot marks the CNAME fully qualified.
            let cname = opt(&spec.external_name).trim_end_matches('.');
            if cname.is_empty() {
                errs.push(FieldError::required("spec.externalName", ""));
            } else {
                errs.extend(validate_dns1123_subdomain(cname, "spec.externalName"));
            }
        }
        _ => {}
    }
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        errs.extend(validate_service_port(
            p,
            ports.len() > 1,
            &mut names,
            &index("spec.ports", i),
        ));
    }
    errs.extend(validate_labels(spec.selector.as_ref(), "spec.selector"));
    match opt(&spec.session_affinity) {
        "" => errs.push(FieldError::required("spec.sessionAffinity", "")),
        "ClientIP" => {
            let path = "spec.sessionAffinityConfig";
            let why = "when session affinity type is ClientIP";
            match spec.session_affinity_config.as_ref().map(|c| c.client_ip.as_ref()) {
                None => errs.push(FieldError::required(path, why)),
                Some(None) => errs.push(FieldError::required(format!("{path}.clientIP"), why)),
                Some(Some(c)) => match c.timeout_seconds {
                    None => errs.push(FieldError::required(format!("{path}.clientIP.timeoutSeconds"), why)),
                    Some(t) if !(1..=MAX_CLIENT_IP_AFFINITY_SECONDS).contains(&t) => errs.push(FieldError::invalid(
                        format!("{path}.clientIP.timeoutSeconds"),
                        t,
                        format!("must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}"),
                    )),
                    Some(_) => {}
                },
            }
        }
        "None" => {
            if spec.session_affinity_config.is_some() {
                errs.push(FieldError::forbidden(
                    "spec.sessionAffinityConfig",
                    "must not be set when session affinity is None",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            "spec.sessionAffinity",
            other,
            &["ClientIP", "None"],
        )),
    }
    errs.extend(validate_cluster_ip_fields(&spec));
    for (i, ip) in spec.external_ips.iter().flatten().enumerate() {
        errs.extend(validate_non_special_ip(ip, &index("spec.externalIPs", i)));
    }
    match ty {
        "" => errs.push(FieldError::required("spec.type", "")),
        "ClusterIP" | "ExternalName" | "LoadBalancer" | "NodePort" => {}
        other => errs.push(FieldError::not_supported(
            "spec.type",
            other,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )),
    }
    let mut node_ports = BTreeSet::new();
    let mut port_keys = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = index("spec.ports", i);
        let np = p.node_port.unwrap_or(0);
        if np != 0 {
            if ty == "ClusterIP" {
                errs.push(FieldError::forbidden(
                    child(&pp, "nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            } else if !(NODE_PORT_RANGE.0..=NODE_PORT_RANGE.1).contains(&np) {
                errs.push(FieldError::invalid(
                    child(&pp, "nodePort"),
                    np,
                    format!(
                        "provided port is not in the valid range. The range of valid ports is {}-{}",
                        NODE_PORT_RANGE.0, NODE_PORT_RANGE.1
                    ),
                ));
            }
            if !node_ports.insert((opt(&p.protocol).to_string(), np)) {
                errs.push(FieldError::duplicate(child(&pp, "nodePort"), np));
            }
        }
        if !port_keys.insert((opt(&p.protocol).to_string(), p.port)) {
            errs.push(duplicate_go(&pp, &go_port_key(p)));
        }
        if ty == "LoadBalancer" && p.port == KUBELET_PORT {
            errs.push(FieldError::invalid(
                &pp,
                p.port,
                format!(
                    "may not expose port {KUBELET_PORT} externally since it is used by kubelet"
                ),
            ));
        }
    }
    if spec
        .load_balancer_source_ranges
        .as_ref()
        .is_some_and(|r| !r.is_empty())
        && ty != "LoadBalancer"
    {
        errs.push(FieldError::forbidden(
            "spec.LoadBalancerSourceRanges",
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if spec.allocate_load_balancer_node_ports.is_some() && ty != "LoadBalancer" {
        errs.push(FieldError::forbidden(
            "spec.allocateLoadBalancerNodePorts",
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if let Some(class) = spec.load_balancer_class.as_deref() {
        if ty != "LoadBalancer" {
            errs.push(FieldError::forbidden(
                "spec.loadBalancerClass",
                "may only be used when `type` is 'LoadBalancer'",
            ));
        } else {
            errs.extend(invalid_each(
                "spec.loadBalancerClass",
                class,
                api_types::names::is_qualified_name(class),
            ));
        }
    }
    errs.extend(validate_traffic_policies(&spec));
    errs
}

/// The primary value of clusterIPs / ipFamilies may not change; a secondary one may be
/// added, or released when the policy becomes SingleStack.
fn validate_upgrade_downgrade(
    field: &str,
    what: &str,
    old: &[String],
    new: &[String],
    policy: Option<&str>,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let path = format!("spec.{field}[0]");
    let shown = go_string_slice(Some(new));
    let changed = "may not change once set";
    if old.len() == new.len() {
        for (i, (o, n)) in old.iter().zip(new).enumerate() {
            if o != n {
                let p = if field == "clusterIPs" {
                    index(&format!("spec.{field}"), i)
                } else {
                    path.clone()
                };
                errs.push(invalid_go(p, &shown, changed));
            }
        }
    } else if old.len() > new.len() {
        if new.is_empty() {
            errs.push(invalid_go(
                &path,
                &shown,
                &format!("primary {what} can not be unset"),
            ));
        } else if new[0] != old[0] {
            errs.push(invalid_go(&path, &shown, changed));
        }
        if new.len() == 1 && policy != Some("SingleStack") {
            errs.push(invalid_go(
                &path,
                &shown,
                &format!("`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary {what}"),
            ));
        }
    } else if !old.is_empty() && new[0] != old[0] {
        errs.push(invalid_go(&path, &shown, changed));
    }
    errs
}

/// `ValidateServiceUpdate`.
pub fn validate_service_update(new: &Service, old: &Service) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    let (ns, os) = (
        new.spec.clone().unwrap_or_default(),
        old.spec.clone().unwrap_or_default(),
    );
    let external = spec_type(&ns) == "ExternalName" || spec_type(&os) == "ExternalName";
    if !(external || is_headless(&ns) && is_headless(&os)) {
        let policy = ns.ip_family_policy.as_deref();
        errs.extend(validate_upgrade_downgrade(
            "clusterIPs",
            "clusterIP",
            cluster_ips(&os),
            cluster_ips(&ns),
            policy,
        ));
        let (nf, of) = (
            ns.ip_families.clone().unwrap_or_default(),
            os.ip_families.clone().unwrap_or_default(),
        );
        errs.extend(validate_upgrade_downgrade(
            "ipFamilies",
            "ipFamily",
            &of,
            &nf,
            policy,
        ));
    }
    if spec_type(&os) == "LoadBalancer"
        && spec_type(&ns) == "LoadBalancer"
        && ns.load_balancer_class != os.load_balancer_class
    {
        errs.push(FieldError::invalid(
            "spec.loadBalancerClass",
            ns.load_balancer_class
                .clone()
                .map_or(serde_json::Value::Null, serde_json::Value::from),
            "may not change once set",
        ));
    }
    errs.extend(validate_service(new));
    errs
}
