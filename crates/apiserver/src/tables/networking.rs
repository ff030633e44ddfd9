//! networking.k8s.io and discovery.k8s.io: ingresses, ingress classes, network
//! policies, endpoint slices, service CIDRs and IP addresses.

use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{
    IPAddress, IPAddressSpec, Ingress, IngressClass, NetworkPolicy, NetworkPolicySpec, ServiceCIDR,
    ServiceCIDRSpec,
};
use serde_json::Value;

use super::format::{format_label_selector, list_with_more, load_balancer_ingress};
use super::{age, col, field, name, s, typed, Col, Desc, Printer, AGE, NAME};

static INGRESS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Class",
        "string",
        Desc::Text("The name of the IngressClass resource that should be used for additional configuration"),
    ),
    col("Hosts", "string", Desc::Text("Hosts that incoming requests are matched against before the ingress rule")),
    col("Address", "string", Desc::Text("Address is a list containing ingress points for the load-balancer")),
    col("Ports", "string", Desc::Text("Ports of TLS configurations that open")),
    AGE,
];

static INGRESS_CLASS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Controller",
        "string",
        Desc::Text("Controller that is responsible for handling this class"),
    ),
    col(
        "Parameters",
        "string",
        Desc::Text("A reference to a resource with additional parameters"),
    ),
    AGE,
];

static NETWORK_POLICY_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Pod-Selector",
        "string",
        field::<NetworkPolicySpec>("podSelector"),
    ),
    AGE,
];

static ENDPOINT_SLICE_COLUMNS: &[Col] = &[
    NAME,
    col(
        "AddressType",
        "string",
        field::<EndpointSlice>("addressType"),
    ),
    col("Ports", "string", field::<EndpointSlice>("ports")),
    col("Endpoints", "string", field::<EndpointSlice>("endpoints")),
    AGE,
];

static SERVICE_CIDR_COLUMNS: &[Col] = &[
    NAME,
    col("CIDRs", "string", field::<ServiceCIDRSpec>("cidrs")),
    AGE,
];

// Upstream declares no Age column for IP addresses but still prints the age cell;
// kubectl drops the extra cell.
static IP_ADDRESS_COLUMNS: &[Col] = &[
    NAME,
    col("ParentRef", "string", field::<IPAddressSpec>("parentRef")),
];

static INGRESS: Printer = Printer {
    columns: INGRESS_COLUMNS,
    cells: ingress,
};
static INGRESS_CLASS: Printer = Printer {
    columns: INGRESS_CLASS_COLUMNS,
    cells: ingress_class,
};
static NETWORK_POLICY: Printer = Printer {
    columns: NETWORK_POLICY_COLUMNS,
    cells: network_policy,
};
static ENDPOINT_SLICE: Printer = Printer {
    columns: ENDPOINT_SLICE_COLUMNS,
    cells: endpoint_slice,
};
static SERVICE_CIDR: Printer = Printer {
    columns: SERVICE_CIDR_COLUMNS,
    cells: service_cidr,
};
static IP_ADDRESS: Printer = Printer {
    columns: IP_ADDRESS_COLUMNS,
    cells: ip_address,
};

pub(super) fn printer(group: &str, kind: &str) -> Option<&'static Printer> {
    match (group, kind) {
        ("networking.k8s.io", "Ingress") => Some(&INGRESS),
        ("networking.k8s.io", "IngressClass") => Some(&INGRESS_CLASS),
        ("networking.k8s.io", "NetworkPolicy") => Some(&NETWORK_POLICY),
        ("networking.k8s.io", "ServiceCIDR") => Some(&SERVICE_CIDR),
        ("networking.k8s.io", "IPAddress") => Some(&IP_ADDRESS),
        ("discovery.k8s.io", "EndpointSlice") => Some(&ENDPOINT_SLICE),
        _ => None,
    }
}

/// `formatHosts`: up to 3 hosts, `*` when no rule names one.
fn format_hosts(hosts: &[Option<&str>]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for host in hosts {
        if list.len() == MAX {
            more = true;
        }
        if let Some(h) = host.filter(|h| !more && !h.is_empty()) {
            list.push(h);
        }
    }
    if list.is_empty() {
        return "*".to_string();
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", hosts.len().saturating_sub(MAX))
    } else {
        joined
    }
}

fn ingress(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let ing: Ingress = typed(obj)?;
    let spec = ing.spec.clone().unwrap_or_default();
    let hosts: Vec<Option<&str>> = spec
        .rules
        .iter()
        .flatten()
        .map(|r| r.host.as_deref())
        .collect();
    let lb = ing
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or(&[]);
    let address =
        load_balancer_ingress(lb.iter().map(|i| (i.ip.as_deref(), i.hostname.as_deref())));
    let ports = if spec.tls.as_ref().is_some_and(|t| !t.is_empty()) {
        "80, 443"
    } else {
        "80"
    };
    Some(vec![
        name(&ing.metadata),
        s(spec
            .ingress_class_name
            .clone()
            .unwrap_or_else(|| "<none>".to_string())),
        s(format_hosts(&hosts)),
        s(address),
        s(ports),
        age(&ing.metadata, now),
    ])
}

fn ingress_class(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let ic: IngressClass = typed(obj)?;
    let spec = ic.spec.clone().unwrap_or_default();
    let parameters = match &spec.parameters {
        Some(p) => match &p.api_group {
            Some(group) => format!("{}.{group}/{}", p.kind, p.name),
            None => format!("{}/{}", p.kind, p.name),
        },
        None => "<none>".to_string(),
    };
    Some(vec![
        name(&ic.metadata),
        s(spec.controller.unwrap_or_default()),
        s(parameters),
        age(&ic.metadata, now),
    ])
}

fn network_policy(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let np: NetworkPolicy = typed(obj)?;
    // Upstream's podSelector is a struct, never nil: an absent one selects every pod.
    let selector = np
        .spec
        .as_ref()
        .and_then(|s| s.pod_selector.clone())
        .unwrap_or_default();
    Some(vec![
        name(&np.metadata),
        s(format_label_selector(Some(&selector))),
        age(&np.metadata, now),
    ])
}

fn endpoint_slice(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    const MAX: usize = 3;
    let slice: EndpointSlice = typed(obj)?;
    // `formatDiscoveryPorts`: the port, else its name, else "*".
    let ports = slice.ports.as_deref().unwrap_or(&[]);
    let port_list: Vec<String> = ports
        .iter()
        .take(MAX)
        .map(|p| match (p.port, &p.name) {
            (Some(port), _) => port.to_string(),
            (None, Some(name)) => name.clone(),
            (None, None) => "*".to_string(),
        })
        .collect();
    let ports_text = list_with_more(&port_list, ports.len() > MAX, ports.len(), MAX);
    // `formatDiscoveryEndpoints`: every address of every endpoint.
    let addresses: Vec<&String> = slice
        .endpoints
        .iter()
        .flat_map(|e| e.addresses.iter())
        .collect();
    let address_list: Vec<String> = addresses.iter().take(MAX).map(|a| a.to_string()).collect();
    let endpoints_text = list_with_more(&address_list, addresses.len() > MAX, addresses.len(), MAX);
    Some(vec![
        name(&slice.metadata),
        s(slice.address_type.clone()),
        s(ports_text),
        s(endpoints_text),
        age(&slice.metadata, now),
    ])
}

fn service_cidr(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let cidr: ServiceCIDR = typed(obj)?;
    let cidrs = cidr
        .spec
        .as_ref()
        .and_then(|s| s.cidrs.as_ref())
        .map(|c| c.join(","))
        .unwrap_or_default();
    Some(vec![
        name(&cidr.metadata),
        s(cidrs),
        age(&cidr.metadata, now),
    ])
}

fn ip_address(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let ip: IPAddress = typed(obj)?;
    let parent = match ip.spec.as_ref().map(|s| &s.parent_ref) {
        Some(p) => {
            // schema.GroupResource.String(), lowercased, then namespace and name.
            let mut text = match p.group.as_deref().filter(|g| !g.is_empty()) {
                Some(group) => format!("{}.{group}", p.resource),
                None => p.resource.clone(),
            }
            .to_lowercase();
            if let Some(ns) = p.namespace.as_deref().filter(|n| !n.is_empty()) {
                text.push('/');
                text.push_str(ns);
            }
            text.push('/');
            text.push_str(&p.name);
            text
        }
        None => "<none>".to_string(),
    };
    Some(vec![name(&ip.metadata), s(parent), age(&ip.metadata, now)])
}
