//! Core kinds: services, nodes, namespaces, config maps, secrets, endpoints, service
//! accounts, resource quotas and component statuses.

use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::ComponentStatus;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Namespace, Node, NodeStatus, NodeSystemInfo, ResourceQuota, Secret,
    Service, ServiceAccount, ServiceSpec,
};
use serde_json::Value;

use super::format::{format_labels, load_balancer_ingress};
use super::{age, col, count, field, name, s, typed, wide, Col, Desc, Printer, AGE, NAME};

static SERVICE_COLUMNS: &[Col] = &[
    NAME,
    col("Type", "string", field::<ServiceSpec>("type")),
    col("Cluster-IP", "string", field::<ServiceSpec>("clusterIP")),
    col("External-IP", "string", field::<ServiceSpec>("externalIPs")),
    col("Port(s)", "string", field::<ServiceSpec>("ports")),
    AGE,
    wide("Selector", "string", field::<ServiceSpec>("selector")),
];

static NODE_COLUMNS: &[Col] = &[
    NAME,
    col("Status", "string", Desc::Text("The status of the node")),
    col("Roles", "string", Desc::Text("The roles of the node")),
    AGE,
    col(
        "Version",
        "string",
        field::<NodeSystemInfo>("kubeletVersion"),
    ),
    wide("Internal-IP", "string", field::<NodeStatus>("addresses")),
    wide("External-IP", "string", field::<NodeStatus>("addresses")),
    wide("OS-Image", "string", field::<NodeSystemInfo>("osImage")),
    wide(
        "Kernel-Version",
        "string",
        field::<NodeSystemInfo>("kernelVersion"),
    ),
    wide(
        "Container-Runtime",
        "string",
        field::<NodeSystemInfo>("containerRuntimeVersion"),
    ),
];

static NAMESPACE_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Status",
        "string",
        Desc::Text("The status of the namespace"),
    ),
    AGE,
];

static CONFIG_MAP_COLUMNS: &[Col] = &[NAME, col("Data", "string", field::<ConfigMap>("data")), AGE];

static SECRET_COLUMNS: &[Col] = &[
    NAME,
    col("Type", "string", field::<Secret>("type")),
    col("Data", "string", field::<Secret>("data")),
    AGE,
];

static ENDPOINTS_COLUMNS: &[Col] = &[
    NAME,
    col("Endpoints", "string", field::<Endpoints>("subsets")),
    AGE,
];

static SERVICE_ACCOUNT_COLUMNS: &[Col] = &[
    NAME,
    col("Secrets", "string", field::<ServiceAccount>("secrets")),
    AGE,
];

static RESOURCE_QUOTA_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Request",
        "string",
        Desc::Text("Request represents a minimum amount of cpu/memory that a container may consume."),
    ),
    col(
        "Limit",
        "string",
        Desc::Text(
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
        ),
    ),
    AGE,
];

static COMPONENT_STATUS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Status",
        "string",
        Desc::Text("Status of the component conditions"),
    ),
    col(
        "Message",
        "string",
        Desc::Text("Message of the component conditions"),
    ),
    col(
        "Error",
        "string",
        Desc::Text("Error of the component conditions"),
    ),
];

static SERVICE: Printer = Printer {
    columns: SERVICE_COLUMNS,
    cells: service,
};
static NODE: Printer = Printer {
    columns: NODE_COLUMNS,
    cells: node,
};
static NAMESPACE: Printer = Printer {
    columns: NAMESPACE_COLUMNS,
    cells: namespace,
};
static CONFIG_MAP: Printer = Printer {
    columns: CONFIG_MAP_COLUMNS,
    cells: config_map,
};
static SECRET: Printer = Printer {
    columns: SECRET_COLUMNS,
    cells: secret,
};
static ENDPOINTS: Printer = Printer {
    columns: ENDPOINTS_COLUMNS,
    cells: endpoints,
};
static SERVICE_ACCOUNT: Printer = Printer {
    columns: SERVICE_ACCOUNT_COLUMNS,
    cells: service_account,
};
static RESOURCE_QUOTA: Printer = Printer {
    columns: RESOURCE_QUOTA_COLUMNS,
    cells: resource_quota,
};
static COMPONENT_STATUS: Printer = Printer {
    columns: COMPONENT_STATUS_COLUMNS,
    cells: component_status,
};

pub(super) fn printer(group: &str, kind: &str) -> Option<&'static Printer> {
    if !group.is_empty() {
        return None;
    }
    match kind {
        "Service" => Some(&SERVICE),
        "Node" => Some(&NODE),
        "Namespace" => Some(&NAMESPACE),
        "ConfigMap" => Some(&CONFIG_MAP),
        "Secret" => Some(&SECRET),
        "Endpoints" => Some(&ENDPOINTS),
        "ServiceAccount" => Some(&SERVICE_ACCOUNT),
        "ResourceQuota" => Some(&RESOURCE_QUOTA),
        "ComponentStatus" => Some(&COMPONENT_STATUS),
        _ => None,
    }
}

/// `getServiceExternalIP` (wide, as the server prints).
fn service_external_ip(svc: &Service) -> String {
    let spec = svc.spec.as_ref();
    let external_ips = spec.and_then(|s| s.external_ips.as_deref()).unwrap_or(&[]);
    match spec.and_then(|s| s.type_.as_deref()).unwrap_or("") {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let ingress = svc
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_deref())
                .unwrap_or(&[]);
            let lb_ips = load_balancer_ingress(
                ingress
                    .iter()
                    .map(|i| (i.ip.as_deref(), i.hostname.as_deref())),
            );
            if !external_ips.is_empty() {
                let mut all: Vec<&str> = Vec::new();
                if !lb_ips.is_empty() {
                    all.extend(lb_ips.split(','));
                }
                all.extend(external_ips.iter().map(String::as_str));
                return all.join(",");
            }
            if lb_ips.is_empty() {
                "<pending>".to_string()
            } else {
                lb_ips
            }
        }
        "ExternalName" => spec
            .and_then(|s| s.external_name.clone())
            .unwrap_or_default(),
        _ => "<unknown>".to_string(),
    }
}

fn service(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let svc: Service = typed(obj)?;
    let spec = svc.spec.clone().unwrap_or_default();
    let cluster_ip = spec
        .cluster_ips
        .as_ref()
        .and_then(|ips| ips.first())
        .cloned()
        .unwrap_or_else(|| "<none>".to_string());
    // `makePortString`: 80/TCP, or 80:30080/TCP with a node port.
    let ports = spec
        .ports
        .iter()
        .flatten()
        .map(|p| {
            let protocol = p.protocol.as_deref().unwrap_or("");
            match p.node_port {
                Some(node_port) if node_port > 0 => format!("{}:{node_port}/{protocol}", p.port),
                _ => format!("{}/{protocol}", p.port),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    let ports = if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports
    };
    Some(vec![
        name(&svc.metadata),
        s(spec.type_.clone().unwrap_or_default()),
        s(cluster_ip),
        s(service_external_ip(&svc)),
        s(ports),
        age(&svc.metadata, now),
        s(format_labels(spec.selector.as_ref())),
    ])
}

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role` values.
fn node_roles(node: &Node) -> String {
    let mut roles: Vec<&str> = Vec::new();
    for (k, v) in node.metadata.labels.iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.push(role);
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.push(v);
        }
    }
    roles.sort_unstable();
    roles.dedup();
    if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    }
}

fn node(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let node: Node = typed(obj)?;
    let status = node.status.clone().unwrap_or_default();
    // Only Ready is reported; the last Ready condition wins, as in upstream's map.
    let ready = status
        .conditions
        .iter()
        .flatten()
        .rev()
        .find(|c| c.type_ == "Ready");
    let mut state: Vec<&str> = vec![match ready {
        Some(c) if c.status == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        state.push("SchedulingDisabled");
    }
    let info = status.node_info.clone().unwrap_or_default();
    let address = |type_: &str| {
        status
            .addresses
            .iter()
            .flatten()
            .find(|a| a.type_ == type_)
            .map(|a| a.address.clone())
            .unwrap_or_else(|| "<none>".to_string())
    };
    let or_unknown = |v: String| {
        if v.is_empty() {
            "<unknown>".to_string()
        } else {
            v
        }
    };
    Some(vec![
        name(&node.metadata),
        s(state.join(",")),
        s(node_roles(&node)),
        age(&node.metadata, now),
        s(info.kubelet_version),
        s(address("InternalIP")),
        s(address("ExternalIP")),
        s(or_unknown(info.os_image)),
        s(or_unknown(info.kernel_version)),
        s(or_unknown(info.container_runtime_version)),
    ])
}

fn namespace(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let ns: Namespace = typed(obj)?;
    let phase = ns.status.and_then(|s| s.phase).unwrap_or_default();
    Some(vec![name(&ns.metadata), s(phase), age(&ns.metadata, now)])
}

fn config_map(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let cm: ConfigMap = typed(obj)?;
    let n =
        cm.data.as_ref().map_or(0, |d| d.len()) + cm.binary_data.as_ref().map_or(0, |d| d.len());
    Some(vec![name(&cm.metadata), count(n), age(&cm.metadata, now)])
}

fn secret(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let secret: Secret = typed(obj)?;
    Some(vec![
        name(&secret.metadata),
        s(secret.type_.clone().unwrap_or_default()),
        count(secret.data.as_ref().map_or(0, |d| d.len())),
        age(&secret.metadata, now),
    ])
}

/// `net.JoinHostPort`: IPv6 addresses go in brackets.
fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints` with every port: up to 3 addresses, then "+ N more...".
fn format_endpoints(ep: &Endpoints) -> String {
    const MAX: usize = 3;
    let subsets = ep.subsets.as_deref().unwrap_or(&[]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut total = 0usize;
    for ss in subsets {
        let addresses = ss.addresses.as_deref().unwrap_or(&[]);
        let ports = ss.ports.as_deref().unwrap_or(&[]);
        if ports.is_empty() {
            // Headless services may have no ports.
            total += addresses.len();
            for addr in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(addr.ip.clone());
            }
            continue;
        }
        for port in ports {
            total += addresses.len();
            for addr in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(&addr.ip, port.port));
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", total.saturating_sub(MAX))
    } else {
        joined
    }
}

fn endpoints(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let ep: Endpoints = typed(obj)?;
    Some(vec![
        name(&ep.metadata),
        s(format_endpoints(&ep)),
        age(&ep.metadata, now),
    ])
}

fn service_account(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let sa: ServiceAccount = typed(obj)?;
    Some(vec![
        name(&sa.metadata),
        count(sa.secrets.as_ref().map_or(0, |s| s.len())),
        age(&sa.metadata, now),
    ])
}

fn resource_quota(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let rq: ResourceQuota = typed(obj)?;
    let status = rq.status.clone().unwrap_or_default();
    let hard = status.hard.unwrap_or_default();
    let used = status.used.unwrap_or_default();
    let mut requests: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    // BTreeMap order is Go's sorted resource names.
    for (resource, hard_qty) in &hard {
        let used_qty = used.get(resource).map_or("0", |q| q.0.as_str());
        let entry = format!("{resource}: {used_qty}/{}", hard_qty.0);
        let pieces: Vec<&str> = resource.split('.').collect();
        if pieces.len() > 1 && pieces[0] == "limits" {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    Some(vec![
        name(&rq.metadata),
        s(requests.join(", ")),
        s(limits.join(", ")),
        age(&rq.metadata, now),
    ])
}

fn component_status(obj: &DynamicObject, _now: Timestamp) -> Option<Vec<Value>> {
    let cs: ComponentStatus = typed(obj)?;
    let healthy = cs
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Healthy");
    let (state, message, error) = match healthy {
        Some(c) => (
            if c.status == "True" {
                "Healthy"
            } else {
                "Unhealthy"
            },
            c.message.clone().unwrap_or_default(),
            c.error.clone().unwrap_or_default(),
        ),
        None => ("Unknown", String::new(), String::new()),
    };
    Some(vec![name(&cs.metadata), s(state), s(message), s(error)])
}
