//! The subresources the apiserver answers by talking to the pod's kubelet, as upstream's
//! registry/core/pod/rest (log, exec, attach, portforward) and node/rest (proxy):
//! pods/log streams the kubelet's /containerLogs; exec, attach and portforward are
//! upgrades (WebSocket, SPDY) spliced byte for byte between the client's connection and
//! the kubelet's, so every streaming protocol passes through unchanged; nodes/proxy
//! forwards any path to the kubelet.
//!
//! The kubelet is reached at the Node's address (--kubelet-preferred-address-types,
//! InternalIP first) and status.daemonEndpoints.kubeletEndpoint.Port, over TLS with the
//! --kubelet-client-certificate/--kubelet-client-key identity; its serving certificate
//! is verified against --kubelet-certificate-authority when given (else not verified,
//! as upstream without that flag).

use std::convert::Infallible;
use std::sync::Arc;

use api_types::resources;
use api_types::ApiError;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::{Node, Pod};
use rustls::pki_types::ServerName;

use super::read;
use crate::request::ResourceRequest;
use crate::server::{ApiServer, Body, RequestContext};

/// Upstream's default order, with InternalIP first (the address the kubelet registers
/// for certain; Hostname needs DNS).
pub const DEFAULT_ADDRESS_TYPES: &[&str] = &[
    "InternalIP",
    "Hostname",
    "InternalDNS",
    "ExternalDNS",
    "ExternalIP",
];
const DEFAULT_KUBELET_PORT: i32 = 10250;

/// Headers not forwarded to the kubelet: the client's credentials stay here.
const DROPPED_HEADERS: &[&str] = &["authorization", "host", "proxy-authorization"];

pub async fn handle(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let sub = req.subresource.as_deref().unwrap_or("");
    let r = req.resource;
    let (node_name, kubelet_path) = match (r.group, r.plural, sub) {
        ("", "pods", "log" | "exec" | "attach" | "portforward") => {
            let pod = get_pod(server, req).await?;
            let (node, path) = pod_target(&pod, sub, ctx.raw_query.as_deref())?;
            (node, path)
        }
        ("", "nodes", "proxy") => {
            let name = req.name.clone().unwrap_or_default();
            let path = node_proxy_path(&ctx.path, &name);
            let path = match ctx.raw_query.as_deref() {
                Some(q) if !q.is_empty() => format!("{path}?{q}"),
                _ => path,
            };
            (name, path)
        }
        _ => {
            return Err(ApiError::new(
                501,
                "NotImplemented",
                format!(
                    "the {sub} subresource of {} is not served by this apiserver yet",
                    r.group_resource()
                ),
            ))
        }
    };
    let node = get_node(server, &node_name).await?;
    let preferred: Vec<&str> = if server.options.kubelet_preferred_address_types.is_empty() {
        DEFAULT_ADDRESS_TYPES.to_vec()
    } else {
        server
            .options
            .kubelet_preferred_address_types
            .iter()
            .map(String::as_str)
            .collect()
    };
    let (host, port) = kubelet_endpoint(&node, &preferred)?;
    forward(server, ctx, &host, port, &kubelet_path).await
}

async fn get_pod(server: &ApiServer, req: &ResourceRequest) -> Result<Pod, ApiError> {
    let pod_req = ResourceRequest {
        subresource: None,
        verb: "get",
        ..req.clone()
    };
    let cached = read::current(server, &pod_req).await?;
    let json = cached
        .json()
        .map_err(|e| ApiError::internal(format!("reading pod: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| ApiError::internal(format!("decoding pod: {e}")))
}

async fn get_node(server: &ApiServer, name: &str) -> Result<Node, ApiError> {
    let info = resources::find("", "v1", "nodes")
        .ok_or_else(|| ApiError::internal("the nodes resource is not registered"))?;
    let node_req = ResourceRequest {
        resource: info,
        namespace: None,
        name: Some(name.to_string()),
        subresource: None,
        verb: "get",
    };
    let cached = match read::current(server, &node_req).await {
        Ok(c) => c,
        Err(e) if e.code == 404 => {
            return Err(ApiError::bad_request(format!("node \"{name}\" not found")))
        }
        Err(e) => return Err(e),
    };
    let json = cached
        .json()
        .map_err(|e| ApiError::internal(format!("reading node: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| ApiError::internal(format!("decoding node: {e}")))
}

/// The query parameter `key` of a raw query string (first value, decoded).
fn query_value(raw: Option<&str>, key: &str) -> Option<String> {
    raw?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (crate::request::percent_decode(k) == key).then(|| crate::request::percent_decode(v))
    })
}

/// The node and kubelet path for a pod subresource, with upstream's checks and messages.
pub fn pod_target(
    pod: &Pod,
    sub: &str,
    raw_query: Option<&str>,
) -> Result<(String, String), ApiError> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let node = spec
        .node_name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(format!("pod {name} does not have a host assigned"))
        })?;
    let query = raw_query.filter(|q| !q.is_empty());
    let with_query = |path: String| match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    if sub == "portforward" {
        return Ok((node, with_query(format!("/portForward/{namespace}/{name}"))));
    }
    let mut all: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    let init: Vec<&str> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    let ephemeral: Vec<&str> = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    let container = match query_value(raw_query, "container").filter(|c| !c.is_empty()) {
        Some(c) => {
            if !all.contains(&c.as_str())
                && !init.contains(&c.as_str())
                && !ephemeral.contains(&c.as_str())
            {
                return Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )));
            }
            c
        }
        None if all.len() == 1 => all[0].to_string(),
        None => {
            all.extend(init.iter());
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                all.join(" ")
            )));
        }
    };
    if sub != "log" {
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if phase == "Succeeded" || phase == "Failed" {
            return Err(ApiError::bad_request(format!(
                "cannot {sub} into a container in a completed pod; current phase is {phase}"
            )));
        }
    }
    let kubelet_sub = match sub {
        "log" => "containerLogs",
        other => other,
    };
    Ok((
        node,
        with_query(format!("/{kubelet_sub}/{namespace}/{name}/{container}")),
    ))
}

/// The path after `/api/v1/nodes/<name>/proxy` ("/" when empty).
pub fn node_proxy_path(request_path: &str, node: &str) -> String {
    let marker = format!("/nodes/{node}/proxy");
    match request_path.find(&marker) {
        Some(i) => {
            let rest = &request_path[i + marker.len()..];
            if rest.is_empty() {
                "/".to_string()
            } else {
                rest.to_string()
            }
        }
        None => "/".to_string(),
    }
}

/// The kubelet's host (first address of the preferred types) and port.
pub fn kubelet_endpoint(node: &Node, preferred: &[&str]) -> Result<(String, u16), ApiError> {
    let name = node.metadata.name.clone().unwrap_or_default();
    let status = node.status.clone().unwrap_or_default();
    let addresses = status.addresses.unwrap_or_default();
    let host = preferred
        .iter()
        .find_map(|t| {
            addresses
                .iter()
                .find(|a| a.type_ == *t && !a.address.is_empty())
        })
        .map(|a| a.address.clone())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "no preferred addresses found; known addresses: {:?}",
                addresses
                    .iter()
                    .map(|a| format!("{}:{}", a.type_, a.address))
                    .collect::<Vec<_>>()
            ))
        })
        .map_err(|e| ApiError::bad_request(format!("node {name}: {}", e.message)))?;
    let port = status
        .daemon_endpoints
        .and_then(|d| d.kubelet_endpoint)
        .map(|e| e.port)
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_KUBELET_PORT);
    let port = u16::try_from(port)
        .map_err(|_| ApiError::bad_request(format!("node {name}: invalid kubelet port {port}")))?;
    Ok((host, port))
}

/// The TLS client config for kubelets, from the --kubelet-* flags.
fn kubelet_tls(server: &ApiServer) -> Result<rustls::ClientConfig, ApiError> {
    let o = &server.options;
    let tls_err = |what: &str, e: &dyn std::fmt::Display| {
        ApiError::internal(format!("kubelet client TLS: {what}: {e}"))
    };
    let builder = rustls::ClientConfig::builder_with_provider(component_base::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("protocol versions", &e))?;
    let builder = match &o.kubelet_certificate_authority {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in component_base::tls::load_certs(ca).map_err(|e| tls_err("CA", &e))? {
                roots.add(c).map_err(|e| tls_err("CA", &e))?;
            }
            builder.with_root_certificates(roots)
        }
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(component_base::tls::provider()))),
    };
    let config = match (&o.kubelet_client_certificate, &o.kubelet_client_key) {
        (Some(cert), Some(key)) => {
            let certs = component_base::tls::load_certs(cert)
                .map_err(|e| tls_err("client certificate", &e))?;
            let key = component_base::tls::load_key(key).map_err(|e| tls_err("client key", &e))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| tls_err("client certificate", &e))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(config)
}

/// Accepts any kubelet serving certificate (no --kubelet-certificate-authority), still
/// checking the handshake signatures.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The request headers sent on to the kubelet.
pub fn forwarded_headers(incoming: &HeaderMap, host: &str, port: u16) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in incoming {
        if DROPPED_HEADERS.contains(&k.as_str()) || k.as_str().starts_with("impersonate-") {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    if let Ok(v) = HeaderValue::from_str(&authority) {
        out.insert(http::header::HOST, v);
    }
    out
}

async fn forward(
    server: &ApiServer,
    ctx: &RequestContext,
    host: &str,
    port: u16,
    path: &str,
) -> Result<Response<Body>, ApiError> {
    let unavailable = |what: String| ApiError::new(503, "ServiceUnavailable", what);
    let tls = kubelet_tls(server)?;
    let server_name = ServerName::try_from(host.to_string())
        .map_err(|e| ApiError::bad_request(format!("kubelet address {host}: {e}")))?;
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| unavailable(format!("error dialing the kubelet at {host}:{port}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(server_name, tcp)
        .await
        .map_err(|e| unavailable(format!("TLS with the kubelet at {host}:{port}: {e}")))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unavailable(format!("HTTP with the kubelet at {host}:{port}: {e}")))?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "kubelet connection ended");
        }
    });

    let mut builder = http::Request::builder()
        .method(ctx.method.clone())
        .uri(path);
    if let Some(h) = builder.headers_mut() {
        *h = forwarded_headers(&ctx.headers, host, port);
    }
    let upstream_req = builder
        .body(Full::new(ctx.body.clone()))
        .map_err(|e| ApiError::bad_request(format!("building the kubelet request: {e}")))?;
    let mut resp = sender
        .send_request(upstream_req)
        .await
        .map_err(|e| unavailable(format!("request to the kubelet at {host}:{port}: {e}")))?;

    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let client_upgrade = ctx
            .upgrade
            .lock()
            .ok()
            .and_then(|mut u| u.take())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "the kubelet switched protocols but this request cannot be upgraded",
                )
            })?;
        let kubelet_upgrade = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            let (client, kubelet) = match tokio::join!(client_upgrade, kubelet_upgrade) {
                (Ok(c), Ok(k)) => (c, k),
                (c, k) => {
                    tracing::debug!(
                        client = c.is_ok(),
                        kubelet = k.is_ok(),
                        "upgrade for the kubelet stream failed"
                    );
                    return;
                }
            };
            let mut client = TokioIo::new(client);
            let mut kubelet = TokioIo::new(kubelet);
            if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut kubelet).await {
                tracing::debug!(error = %e, "kubelet stream ended");
            }
        });
        let mut out = Response::new(crate::server::full(Bytes::new()));
        *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        *out.headers_mut() = resp.headers().clone();
        return Ok(out);
    }

    let status = resp.status();
    if !status.is_success() && ctx.method != Method::HEAD {
        // The kubelet answers errors in text; turn them into a Status.
        let body = http_body_util::Limited::new(resp.into_body(), 64 * 1024)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let msg = String::from_utf8_lossy(&body).trim().to_string();
        let reason = match status.as_u16() {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            _ => "InternalError",
        };
        return Err(ApiError::new(status.as_u16(), reason, msg));
    }
    let headers = resp.headers().clone();
    let stream = futures::stream::unfold(resp.into_body(), |mut body| async move {
        loop {
            match body.frame().await {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        return Some((Ok::<_, Infallible>(hyper::body::Frame::data(data)), body))
                    }
                    Err(_) => continue,
                },
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "kubelet response body ended");
                    return None;
                }
                None => return None,
            }
        }
    });
    let mut out = Response::new(http_body_util::StreamBody::new(stream).boxed());
    *out.status_mut() = status;
    for name in [http::header::CONTENT_TYPE, http::header::CONTENT_ENCODING] {
        if let Some(v) = headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, NodeAddress, NodeStatus, PodSpec, PodStatus};

    fn pod(containers: &[&str], node: Option<&str>, phase: &str) -> Pod {
        Pod {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("web".into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: node.map(str::to_string),
                containers: containers
                    .iter()
                    .map(|n| Container {
                        name: n.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn pod_targets_and_errors() {
        let p = pod(&["app"], Some("n1"), "Running");
        assert_eq!(
            pod_target(&p, "log", Some("follow=true")).unwrap(),
            ("n1".into(), "/containerLogs/ns/web/app?follow=true".into())
        );
        assert_eq!(
            pod_target(&p, "exec", Some("command=ls&container=app&stdout=true"))
                .unwrap()
                .1,
            "/exec/ns/web/app?command=ls&container=app&stdout=true"
        );
        assert_eq!(
            pod_target(&p, "portforward", Some("ports=80")).unwrap().1,
            "/portForward/ns/web?ports=80"
        );
        let e = pod_target(&p, "log", Some("container=nope")).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "container nope is not valid for pod web")
        );

        let two = pod(&["a", "b"], Some("n1"), "Running");
        let e = pod_target(&two, "log", None).unwrap_err();
        assert_eq!(
            e.message,
            "a container name must be specified for pod web, choose one of: [a b]"
        );

        let e = pod_target(&pod(&["app"], None, "Pending"), "log", None).unwrap_err();
        assert_eq!(e.message, "pod web does not have a host assigned");

        let done = pod(&["app"], Some("n1"), "Succeeded");
        assert!(pod_target(&done, "log", None).is_ok());
        let e = pod_target(&done, "exec", Some("command=ls")).unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn node_endpoints() {
        let mut node = Node {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("n1".into()),
                ..Default::default()
            },
            status: Some(NodeStatus {
                addresses: Some(vec![
                    NodeAddress {
                        type_: "Hostname".into(),
                        address: "host-a".into(),
                    },
                    NodeAddress {
                        type_: "InternalIP".into(),
                        address: "10.0.0.7".into(),
                    },
                ]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            kubelet_endpoint(&node, DEFAULT_ADDRESS_TYPES).unwrap(),
            ("10.0.0.7".into(), 10250)
        );
        assert_eq!(kubelet_endpoint(&node, &["Hostname"]).unwrap().0, "host-a");
        assert!(kubelet_endpoint(&node, &["ExternalIP"]).is_err());
        node.status.as_mut().unwrap().daemon_endpoints =
            Some(k8s_openapi::api::core::v1::NodeDaemonEndpoints {
                kubelet_endpoint: Some(k8s_openapi::api::core::v1::DaemonEndpoint { port: 10260 }),
            });
        assert_eq!(
            kubelet_endpoint(&node, DEFAULT_ADDRESS_TYPES).unwrap().1,
            10260
        );
    }

    #[test]
    fn proxy_paths_and_headers() {
        assert_eq!(
            node_proxy_path("/api/v1/nodes/n1/proxy/stats/summary", "n1"),
            "/stats/summary"
        );
        assert_eq!(node_proxy_path("/api/v1/nodes/n1/proxy", "n1"), "/");
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer secret"));
        h.insert("impersonate-user", HeaderValue::from_static("x"));
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        h.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("v5.channel.k8s.io"),
        );
        let out = forwarded_headers(&h, "10.0.0.7", 10250);
        assert!(out.get("authorization").is_none());
        assert!(out.get("impersonate-user").is_none());
        assert_eq!(out["upgrade"], "websocket");
        assert_eq!(out["host"], "10.0.0.7:10250");
        assert_eq!(forwarded_headers(&h, "::1", 1)["host"], "[::1]:1");
    }
}
