//! Services: upstream's SetDefaults_Service and the service strategy's PrepareForCreate /
//! PrepareForUpdate (clusterIP / clusterIPs sync, allocated values carried over, fields
//! of the old type dropped). Validation is in `service_validation.rs`; allocating
//! cluster IPs and node ports is done elsewhere.

use std::collections::{BTreeMap, BTreeSet};

use api_types::validation::FieldError;
use api_types::{ApiError, DynamicObject};
use k8s_openapi::api::core::v1::{LoadBalancerStatus, Service, ServiceSpec, ServiceStatus};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::decode::{decode, validate_decoded, validate_decoded_update, with_decoded};
use super::pod_spec::{default_str, opt};
pub use super::service_validation::{validate_service, validate_service_update};
use super::Strategy;

/// The default `--service-node-port-range` (a flag upstream; a constant for now).
pub const NODE_PORT_RANGE: (i32, i32) = (30000, 32767);

pub struct ServiceStrategy;

pub(super) fn spec_type(spec: &ServiceSpec) -> &str {
    opt(&spec.type_)
}

/// `ExternallyAccessible`: NodePort, LoadBalancer, or ClusterIP with external IPs.
pub(super) fn externally_accessible(spec: &ServiceSpec) -> bool {
    matches!(spec_type(spec), "LoadBalancer" | "NodePort")
        || (spec_type(spec) == "ClusterIP"
            && spec.external_ips.as_ref().is_some_and(|e| !e.is_empty()))
}

pub(super) fn cluster_ips(spec: &ServiceSpec) -> &[String] {
    spec.cluster_ips.as_deref().unwrap_or_default()
}

pub(super) fn is_headless(spec: &ServiceSpec) -> bool {
    matches!(cluster_ips(spec), [only] if only == "None")
}

pub(super) fn ip_family_of(ip: &str) -> &'static str {
    if ip.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// SetDefaults_Service, plus the single-stack IP family fields the REST layer fills.
pub fn default_service(svc: &mut Service) {
    let spec = svc.spec.get_or_insert_with(ServiceSpec::default);
    default_str(&mut spec.session_affinity, "None");
    match opt(&spec.session_affinity) {
        "None" => spec.session_affinity_config = None,
        "ClientIP" => {
            let timeout = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds);
            if timeout.is_none() {
                let cfg = spec
                    .session_affinity_config
                    .get_or_insert_with(Default::default);
                cfg.client_ip
                    .get_or_insert_with(Default::default)
                    .timeout_seconds = Some(10800);
            }
        }
        _ => {}
    }
    default_str(&mut spec.type_, "ClusterIP");
    for p in spec.ports.iter_mut().flatten() {
        default_str(&mut p.protocol, "TCP");
        let unset = matches!(&p.target_port, None | Some(IntOrString::Int(0)))
            || matches!(&p.target_port, Some(IntOrString::String(s)) if s.is_empty());
        if unset {
            p.target_port = Some(IntOrString::Int(p.port));
        }
    }
    if externally_accessible(spec) && opt(&spec.external_traffic_policy).is_empty() {
        spec.external_traffic_policy = Some("Cluster".to_string());
    }
    if spec.internal_traffic_policy.is_none()
        && matches!(spec_type(spec), "NodePort" | "LoadBalancer" | "ClusterIP")
    {
        spec.internal_traffic_policy = Some("Cluster".to_string());
    }
    if spec_type(spec) == "LoadBalancer" {
        spec.allocate_load_balancer_node_ports.get_or_insert(true);
    }
    if spec_type(spec) != "ExternalName" {
        spec.ip_family_policy
            .get_or_insert_with(|| "SingleStack".to_string());
        if spec.ip_families.as_ref().is_none_or(Vec::is_empty) {
            let from_ips: Vec<String> = cluster_ips(spec)
                .iter()
                .filter(|ip| ip.as_str() != "None")
                .map(|ip| ip_family_of(ip).to_string())
                .collect();
            let first = spec
                .cluster_ip
                .as_deref()
                .filter(|ip| !ip.is_empty() && *ip != "None")
                .map(ip_family_of);
            spec.ip_families = Some(if !from_ips.is_empty() {
                from_ips
            } else {
                vec![first.unwrap_or("IPv4").to_string()]
            });
        }
    }
}

/// `normalizeClusterIPs`: keeps clusterIP and clusterIPs in step for old clients that
/// only know the singular field.
pub fn normalize_cluster_ips(new: &mut ServiceSpec, old: Option<&ServiceSpec>) {
    let ip = opt(&new.cluster_ip).to_string();
    let Some(old) = old else {
        if !ip.is_empty() && cluster_ips(new).is_empty() {
            new.cluster_ips = Some(vec![ip]);
        }
        return;
    };
    let old_ip = opt(&old.cluster_ip);
    if !cluster_ips(old).is_empty() && cluster_ips(new).is_empty() && old_ip == ip {
        new.cluster_ips = old.cluster_ips.clone();
    }
    if old_ip != ip {
        let same = cluster_ips(old) == cluster_ips(new);
        if !old_ip.is_empty() && ip.is_empty() && same {
            new.cluster_ips = None;
        }
        if !ip.is_empty() && same {
            new.cluster_ips = Some(vec![ip]);
        }
    }
}

pub(super) fn needs_node_port(spec: &ServiceSpec) -> bool {
    match spec_type(spec) {
        "NodePort" => true,
        "LoadBalancer" => spec.allocate_load_balancer_node_ports != Some(false),
        _ => false,
    }
}

pub(super) fn needs_health_check(spec: &ServiceSpec) -> bool {
    spec_type(spec) == "LoadBalancer" && opt(&spec.external_traffic_policy) == "Local"
}

/// `patchAllocatedValues`: an update that leaves out allocated values keeps them.
pub fn patch_allocated_values(new: &mut ServiceSpec, old: &ServiceSpec) {
    if spec_type(old) != "ExternalName" && spec_type(new) != "ExternalName" {
        if opt(&new.cluster_ip).is_empty() {
            new.cluster_ip = old.cluster_ip.clone();
        }
        if cluster_ips(new).is_empty() && !cluster_ips(old).is_empty() {
            new.cluster_ips = old.cluster_ips.clone();
        }
    }
    if needs_node_port(old) && needs_node_port(new) {
        let used = |s: &ServiceSpec| -> BTreeSet<i32> {
            s.ports
                .iter()
                .flatten()
                .filter_map(|p| p.node_port)
                .filter(|n| *n != 0)
                .collect()
        };
        let in_both: BTreeSet<i32> = used(old).intersection(&used(new)).copied().collect();
        let by_name: BTreeMap<&str, i32> = old
            .ports
            .iter()
            .flatten()
            .map(|p| (opt(&p.name), p.node_port.unwrap_or(0)))
            .collect();
        for p in new.ports.iter_mut().flatten() {
            if p.node_port.unwrap_or(0) == 0 {
                let old_val = by_name.get(opt(&p.name)).copied().unwrap_or(0);
                if old_val != 0 && !in_both.contains(&old_val) {
                    p.node_port = Some(old_val);
                }
            }
        }
    }
    if needs_health_check(old)
        && needs_health_check(new)
        && new.health_check_node_port.unwrap_or(0) == 0
    {
        new.health_check_node_port = old.health_check_node_port;
    }
}

/// The node ports of a spec by service port (upstream's `sameNodePorts` view).
fn node_ports(spec: &ServiceSpec) -> BTreeMap<i32, i32> {
    spec.ports
        .iter()
        .flatten()
        .map(|p| (p.port, p.node_port.unwrap_or(0)))
        .collect()
}

/// `dropTypeDependentFields`: when the type changes, fields only the old type used are
/// wiped, if the client left them as they were (they were most likely filled for it).
pub fn drop_type_dependent_fields(new: &mut Service, old: &Service) {
    let os = old.spec.clone().unwrap_or_default();
    let spec = new.spec.get_or_insert_with(ServiceSpec::default);
    if spec_type(&os) != "ExternalName" && spec_type(spec) == "ExternalName" {
        if opt(&os.cluster_ip) == opt(&spec.cluster_ip) && cluster_ips(&os) == cluster_ips(spec) {
            spec.cluster_ip = None;
            spec.cluster_ips = None;
        }
        if os.ip_families.clone().unwrap_or_default()
            == spec.ip_families.clone().unwrap_or_default()
        {
            spec.ip_families = None;
        }
        if os.ip_family_policy == spec.ip_family_policy {
            spec.ip_family_policy = None;
        }
    }
    if needs_node_port(&os) && !needs_node_port(spec) && node_ports(&os) == node_ports(spec) {
        for p in spec.ports.iter_mut().flatten() {
            p.node_port = None;
        }
    }
    if needs_health_check(&os)
        && !needs_health_check(spec)
        && os.health_check_node_port == spec.health_check_node_port
    {
        spec.health_check_node_port = None;
    }
    if spec_type(&os) == "LoadBalancer" && spec_type(spec) != "LoadBalancer" {
        if os.allocate_load_balancer_node_ports.is_some()
            && os.allocate_load_balancer_node_ports == spec.allocate_load_balancer_node_ports
        {
            spec.allocate_load_balancer_node_ports = None;
        }
        if os.load_balancer_class == spec.load_balancer_class {
            spec.load_balancer_class = None;
        }
    }
    if externally_accessible(&os)
        && !externally_accessible(spec)
        && os.external_traffic_policy == spec.external_traffic_policy
    {
        spec.external_traffic_policy = None;
    }
    if spec_type(spec) != "LoadBalancer" {
        if let Some(status) = &mut new.status {
            status.load_balancer = Some(LoadBalancerStatus::default());
        }
    }
}

impl Strategy for ServiceStrategy {
    fn default(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        with_decoded(obj, default_service)
    }

    fn prepare_for_create(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        with_decoded(obj, |svc: &mut Service| {
            svc.status = Some(ServiceStatus {
                load_balancer: Some(Default::default()),
                ..Default::default()
            });
            normalize_cluster_ips(svc.spec.get_or_insert_with(Default::default), None);
        })
    }

    /// The status is the old one (cleared of load-balancer state when the type is no
    /// longer LoadBalancer), so run this after any generic status carry-over.
    fn prepare_for_update(
        &self,
        new: &mut DynamicObject,
        old: &DynamicObject,
    ) -> Result<(), ApiError> {
        let old: Service = decode(old)?;
        let old_spec = old.spec.clone().unwrap_or_default();
        with_decoded(new, |svc: &mut Service| {
            svc.status = old.status.clone();
            let spec = svc.spec.get_or_insert_with(Default::default);
            patch_allocated_values(spec, &old_spec);
            normalize_cluster_ips(spec, Some(&old_spec));
            drop_type_dependent_fields(svc, &old);
        })
    }

    fn validate(&self, obj: &DynamicObject) -> Vec<FieldError> {
        validate_decoded(obj, validate_service)
    }

    fn validate_update(&self, new: &DynamicObject, old: &DynamicObject) -> Vec<FieldError> {
        validate_decoded_update(new, old, validate_service_update)
    }

    /// Services carry no metadata.generation upstream.
    fn tracks_generation(&self) -> bool {
        false
    }
}

#[cfg(test)]
#[path = "services_tests.rs"]
mod tests;
