//! The healthCheckNodePort servers (upstream pkg/proxy/healthcheck/service_health.go).
//!
//! A LoadBalancer Service with externalTrafficPolicy Local gets spec.healthCheckNodePort;
//! every node serves HTTP there so the load balancer sends traffic only to nodes with a
//! local ready endpoint: 200 when this node has one (and the proxier is healthy), 503
//! otherwise, with upstream's JSON body. Servers open and close as such Services come
//! and go; a port that cannot be bound is logged, reported as a Warning Event
//! (FailedToStartServiceHealthcheck) about the Service, and retried, never fatal.
//!
//! What to serve is pure ([`health_check_node_ports`], [`local_ready_endpoints`],
//! [`respond`]); [`ServiceHealthServer`] owns the listeners.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use component_base::record::EventRecorder;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType};
use tokio::task::JoinHandle;

use crate::health::ProxyHealth;
use crate::model::Model;

/// A Service's namespace and name (upstream's types.NamespacedName).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceName {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Services needing a health check server, with their port (upstream's
/// ServicePortMap.HealthCheckNodePorts).
pub fn health_check_node_ports(model: &Model) -> BTreeMap<ServiceName, u16> {
    model
        .ports
        .iter()
        .filter_map(|sp| {
            let port = sp.health_check_node_port?;
            Some((
                ServiceName {
                    namespace: sp.name.namespace.clone(),
                    name: sp.name.name.clone(),
                },
                port,
            ))
        })
        .collect()
}

/// Per Service, the number of distinct IPs of local ready endpoints across its ports
/// (upstream's EndpointsMap.LocalReadyEndpoints: terminating endpoints do not count).
pub fn local_ready_endpoints(model: &Model) -> BTreeMap<ServiceName, usize> {
    let mut ips: BTreeMap<ServiceName, BTreeSet<IpAddr>> = BTreeMap::new();
    for sp in &model.ports {
        for ep in sp.endpoints.iter().filter(|e| e.local && e.ready) {
            ips.entry(ServiceName {
                namespace: sp.name.namespace.clone(),
                name: sp.name.name.clone(),
            })
            .or_default()
            .insert(ep.ip);
        }
    }
    ips.into_iter().map(|(k, v)| (k, v.len())).collect()
}

/// The answer of a Service's health check: upstream's JSON (tab-indented, as its
/// dedented template), 200 with local endpoints and a healthy proxier, else 503.
pub fn respond(
    name: &ServiceName,
    local_endpoints: usize,
    proxy_healthy: bool,
) -> Response<Full<Bytes>> {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string());
    let body = format!(
        "{{\n\t\"service\": {{\n\t\t\"namespace\": {},\n\t\t\"name\": {}\n\t}},\n\t\"localEndpoints\": {local_endpoints},\n\t\"serviceProxyHealthy\": {proxy_healthy}\n}}",
        quote(&name.namespace),
        quote(&name.name),
    );
    let status = if local_endpoints != 0 && proxy_healthy {
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

/// The open listeners of one Service; dropping it closes them.
struct Instance {
    port: u16,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Opens, serves and closes the health check ports. Its methods spawn tasks: call them
/// inside a Tokio runtime.
pub struct ServiceHealthServer {
    hostname: String,
    /// Where to listen; None: every address (`[::]`, IPv4 included; `0.0.0.0` without IPv6).
    node_ips: Option<Vec<IpAddr>>,
    health: ProxyHealth,
    /// Local ready endpoints of the Services being served.
    endpoints: Arc<Mutex<HashMap<ServiceName, usize>>>,
    services: HashMap<ServiceName, Instance>,
    /// What the last sync asked for, so failed ports can be retried.
    wanted: BTreeMap<ServiceName, u16>,
    /// Last bind error per Service (logged once until it changes).
    failed: HashMap<ServiceName, String>,
    recorder: Option<Arc<EventRecorder>>,
}

impl ServiceHealthServer {
    /// `node_ips`: the NodePort addresses; None or empty means all addresses (upstream
    /// listens on 0.0.0.0 unless --nodeport-addresses selects node IPs).
    pub fn new(hostname: &str, node_ips: Option<Vec<IpAddr>>, health: ProxyHealth) -> Self {
        let node_ips = node_ips.filter(|ips| !ips.is_empty());
        ServiceHealthServer {
            hostname: hostname.to_string(),
            node_ips,
            health,
            endpoints: Arc::default(),
            services: HashMap::new(),
            wanted: BTreeMap::new(),
            failed: HashMap::new(),
            recorder: None,
        }
    }

    /// Reports ports that cannot be bound as Events. Written as core/v1 Events (upstream
    /// writes events.k8s.io/v1, which its apiserver also serves as core/v1; ours stores
    /// the two apart, and `kubectl describe` reads core/v1).
    pub fn with_recorder(mut self, recorder: Arc<EventRecorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// The Services currently served, with their port.
    pub fn serving(&self) -> BTreeMap<ServiceName, u16> {
        self.services
            .iter()
            .map(|(k, v)| (k.clone(), v.port))
            .collect()
    }

    /// Makes `wanted` the set of served Services: ones gone or with a new port are
    /// closed, new ones opened (upstream SyncServices). Ports that fail to bind are
    /// logged and retried by the next call or [`Self::retry`].
    pub fn sync_services(&mut self, wanted: BTreeMap<ServiceName, u16>) {
        self.services.retain(|name, inst| {
            let keep = wanted.get(name) == Some(&inst.port);
            if !keep {
                tracing::info!(service = %name, port = inst.port, "Closing healthcheck");
            }
            keep
        });
        self.failed.retain(|name, _| wanted.contains_key(name));
        self.wanted = wanted;
        self.retry();
    }

    /// Opens whatever wanted Service is not open yet.
    pub fn retry(&mut self) {
        let missing: Vec<(ServiceName, u16)> = self
            .wanted
            .iter()
            .filter(|(n, _)| !self.services.contains_key(*n))
            .map(|(n, p)| (n.clone(), *p))
            .collect();
        for (name, port) in missing {
            match self.listen_and_serve_all(&name, port) {
                Ok(inst) => {
                    tracing::info!(service = %name, port, "Opening healthcheck");
                    self.failed.remove(&name);
                    self.services.insert(name, inst);
                }
                Err(e) => {
                    let msg = format!(
                        "node {} failed to start healthcheck {:?} on port {port}: {e}",
                        self.hostname,
                        name.to_string()
                    );
                    if self.failed.get(&name) != Some(&msg) {
                        tracing::error!(node = %self.hostname, service = %name, port, error = %e,
                            reason = "FailedToStartServiceHealthcheck", "{msg}; will retry");
                        self.event(&name, &msg);
                        self.failed.insert(name, msg);
                    } else {
                        tracing::debug!("{msg}");
                    }
                }
            }
        }
    }

    /// A Warning Event about the Service, written in the background.
    fn event(&self, name: &ServiceName, msg: &str) {
        let Some(recorder) = self.recorder.clone() else {
            return;
        };
        let reference = ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Service".into()),
            namespace: Some(name.namespace.clone()),
            name: Some(name.name.clone()),
            // As upstream, which has no UID at hand here.
            uid: Some(name.to_string()),
            ..ObjectReference::default()
        };
        let event = Event {
            type_: EventType::Warning,
            reason: "FailedToStartServiceHealthcheck".into(),
            note: Some(msg.to_string()),
            action: "Listen".into(),
            secondary: None,
        };
        tokio::spawn(async move {
            if let Err(e) = recorder.publish(&event, &reference).await {
                tracing::debug!(error = %e, "recording the FailedToStartServiceHealthcheck event");
            }
        });
    }

    /// Records the local ready endpoints of every Service (upstream SyncEndpoints):
    /// Services missing from `counts` have none.
    pub fn sync_endpoints(&self, counts: &BTreeMap<ServiceName, usize>) {
        let mut map = match self.endpoints.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.clear();
        for name in self.services.keys().chain(self.wanted.keys()) {
            map.insert(name.clone(), counts.get(name).copied().unwrap_or(0));
        }
    }

    fn listen_and_serve_all(&self, name: &ServiceName, port: u16) -> std::io::Result<Instance> {
        let listeners = match &self.node_ips {
            Some(ips) => ips
                .iter()
                .map(|ip| bind(SocketAddr::new(*ip, port)))
                .collect::<std::io::Result<Vec<_>>>()?,
            None => vec![bind_any(port)?],
        };
        // All bound: only now start serving (a partial failure closes what was opened).
        let tasks = listeners
            .into_iter()
            .map(|l| {
                tokio::spawn(serve(
                    l,
                    name.clone(),
                    self.endpoints.clone(),
                    self.health.clone(),
                ))
            })
            .collect();
        Ok(Instance { port, tasks })
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let std = std::net::TcpListener::bind(addr)?;
    std.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(std)
}

/// `[::]:port` (dual-stack on Linux), or `0.0.0.0:port` where IPv6 is unavailable.
fn bind_any(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    match bind(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)) {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(e),
        Err(_) => bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)),
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    name: ServiceName,
    endpoints: Arc<Mutex<HashMap<ServiceName, usize>>>,
    health: ProxyHealth,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(service = %name, error = %e, "healthcheck accept failed");
                continue;
            }
        };
        let (name, endpoints, health) = (name.clone(), endpoints.clone(), health.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_req: Request<Incoming>| {
                let count = endpoints
                    .lock()
                    .map(|m| m.get(&name).copied().unwrap_or(0))
                    .unwrap_or(0);
                let (healthy, _, _) = health.status(SystemTime::now());
                let resp = respond(&name, count, healthy);
                async move { Ok::<_, Infallible>(resp) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder.serve_connection(TokioIo::new(tcp), service).await {
                tracing::debug!(%peer, error = %e, "healthcheck connection ended with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Protocol, ServicePort, ServicePortName};

    fn name() -> ServiceName {
        ServiceName {
            namespace: "default".into(),
            name: "lb".into(),
        }
    }

    fn body(resp: Response<Full<Bytes>>) -> String {
        let bytes = futures::executor::block_on(http_body_util::BodyExt::collect(resp.into_body()))
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn json_and_status_as_upstream() {
        let resp = respond(&name(), 2, true);
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            body(resp),
            "{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"lb\"\n\t},\n\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}"
        );
        let resp = respond(&name(), 0, true);
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let v: serde_json::Value = serde_json::from_str(&body(resp)).unwrap();
        assert_eq!(v["localEndpoints"], 0);
        assert_eq!(v["service"]["name"], "lb");
        // Local endpoints but an unhealthy proxier: 503 as well.
        let resp = respond(&name(), 1, false);
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body(resp)).unwrap()["serviceProxyHealthy"],
            false
        );
    }

    fn port(
        svc: &str,
        port_name: &str,
        hc: Option<u16>,
        eps: &[(&str, u16, bool, bool)],
    ) -> ServicePort {
        ServicePort {
            name: ServicePortName {
                namespace: "default".into(),
                name: svc.into(),
                port: port_name.into(),
            },
            protocol: Protocol::Tcp,
            port: 80,
            cluster_ips: vec!["10.96.0.1".parse().unwrap()],
            node_port: Some(30080),
            external_ips: Vec::new(),
            load_balancer_ips: Vec::new(),
            load_balancer_source_ranges: Vec::new(),
            affinity_timeout: None,
            internal_local: false,
            external_local: hc.is_some(),
            health_check_node_port: hc,
            endpoints: eps
                .iter()
                .map(|(ip, p, ready, local)| Endpoint {
                    ip: ip.parse().unwrap(),
                    port: *p,
                    ready: *ready,
                    serving: *ready,
                    terminating: !*ready,
                    local: *local,
                })
                .collect(),
        }
    }

    #[test]
    fn ports_and_local_ready_endpoint_counts() {
        let model = Model {
            ports: vec![
                // Two ports of one Service, the same pod behind both: one endpoint.
                port(
                    "lb",
                    "http",
                    Some(31000),
                    &[
                        ("10.244.0.5", 8080, true, true),
                        ("10.244.0.6", 8080, false, true),
                        ("10.244.1.7", 8080, true, false),
                    ],
                ),
                port(
                    "lb",
                    "https",
                    Some(31000),
                    &[("10.244.0.5", 8443, true, true)],
                ),
                port("plain", "", None, &[("10.244.0.9", 80, true, true)]),
            ],
        };
        let ports = health_check_node_ports(&model);
        assert_eq!(ports.into_iter().collect::<Vec<_>>(), vec![(name(), 31000)]);
        let counts = local_ready_endpoints(&model);
        assert_eq!(counts.get(&name()), Some(&1));
        assert_eq!(
            counts.get(&ServiceName {
                namespace: "default".into(),
                name: "plain".into()
            }),
            Some(&1)
        );
    }
}
