//! HTTPS serving: TLS with optional client certificates, HTTP/1.1 and HTTP/2,
//! authentication, request metrics and structured request logs around the handlers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use api_types::ApiError;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::authn::{Authenticator, UserInfo};
use crate::authz::Authorizer;
use crate::metrics::METRICS;
use crate::options::Options;
use crate::registry::ipallocator::ServiceAllocator;
use crate::request::{self, Query, Route};
use crate::storage::{EtcdStore, WatchCache};

pub type Body = BoxBody<Bytes, Infallible>;

/// Everything a request handler needs, shared by all connections.
pub struct ApiServer {
    pub options: Options,
    pub store: EtcdStore,
    /// One watch cache per storage resource (see ResourceInfo::storage_resource).
    pub caches: HashMap<&'static str, Arc<WatchCache>>,
    pub authn: Authenticator,
    pub authz: Authorizer,
    pub openapi: crate::openapi::OpenApi,
    /// managedFields tracking and server-side apply.
    pub field_manager: crate::fieldmanager::FieldManager,
    pub services: ServiceAllocator,
    pub etcd_healthy: std::sync::atomic::AtomicBool,
    /// How often watchers that asked for bookmarks get one.
    pub bookmark_interval: std::time::Duration,
}

impl ApiServer {
    pub fn cache(&self, storage_resource: &str) -> Option<&Arc<WatchCache>> {
        self.caches.get(storage_resource)
    }
}

/// A full (non-streaming) response body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A `Status` error response.
pub fn error_response(e: &ApiError) -> Response<Body> {
    let body = serde_json::to_vec(&e.to_json()).unwrap_or_default();
    let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, body)
}

/// Per-request facts the handlers use.
pub struct RequestContext {
    pub user: UserInfo,
    pub query: Query,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    pub user_agent: String,
    pub body: Bytes,
    pub method: http::Method,
    pub path: String,
    // kubelet-streaming: what the kubelet proxy forwards (headers, the raw query with
    // repeated parameters) and the client's connection upgrade (exec, port-forward).
    pub headers: http::HeaderMap,
    pub raw_query: Option<String>,
    pub upgrade: std::sync::Mutex<Option<hyper::upgrade::OnUpgrade>>,
}

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    server: Arc<ApiServer>,
    listener: TcpListener,
    tls: rustls::ServerConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let server = server.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let identity = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(component_base::tls::subject_identity);
            let identity = Arc::new(identity);
            let service = hyper::service::service_fn(move |req| {
                let server = server.clone();
                let identity = identity.clone();
                async move {
                    Ok::<_, Infallible>(handle(server, req, identity.as_ref().as_ref(), peer).await)
                }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    Ok(())
}

fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/livez" | "/readyz" | "/version" | "/version/"
    ) || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

async fn handle(
    server: Arc<ApiServer>,
    mut req: Request<Incoming>,
    identity: Option<&(String, Vec<String>)>,
    peer: SocketAddr,
) -> Response<Body> {
    let started = Instant::now();
    // kubelet-streaming: taken before the body is read, for proxied upgrades.
    let on_upgrade = hyper::upgrade::on(&mut req);
    let headers = req.headers().clone();
    let raw_query = req.uri().query().map(str::to_string);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = Query::parse(req.uri().query());
    let header = |name: http::header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header(http::header::AUTHORIZATION);
    let accept = header(http::header::ACCEPT);
    let content_type = header(http::header::CONTENT_TYPE);
    let user_agent = header(http::header::USER_AGENT).unwrap_or_default();

    let route = request::route(&method, &path, &query);
    let user = match server
        .authn
        .authenticate(identity, authorization.as_deref())
    {
        Ok(u) => Some(u),
        // Health and version are open to requests without credentials; presented
        // but invalid credentials are refused everywhere, as upstream.
        Err(e) if !is_public(&path) || authorization.is_some() => {
            let resp = error_response(&e);
            log_request(
                &method,
                &path,
                None,
                resp.status(),
                started,
                peer,
                &user_agent,
            );
            return resp;
        }
        Err(_) => None,
    };
    let user = user.unwrap_or_else(UserInfo::anonymous);

    // Bodies over the limit are refused with 413 before they are read in full.
    let limit = server.options.max_request_body_bytes;
    let body = match http_body_util::Limited::new(req.into_body(), limit)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let err = if e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::request_entity_too_large(format!(
                    "Request entity too large: limit is {limit}"
                ))
            } else {
                ApiError::bad_request(format!("reading the request body: {e}"))
            };
            let resp = error_response(&err);
            log_request(
                &method,
                &path,
                Some(&user),
                resp.status(),
                started,
                peer,
                &user_agent,
            );
            return resp;
        }
    };

    let ctx = RequestContext {
        user,
        query,
        accept,
        content_type,
        user_agent,
        body,
        method,
        path,
        headers,
        raw_query,
        upgrade: std::sync::Mutex::new(Some(on_upgrade)),
    };
    let (resp, labels) = match route {
        Ok(route) => {
            let labels = MetricLabels::of(&route, &ctx);
            let resp = match crate::handlers::dispatch(&server, route, &ctx).await {
                Ok(r) => r,
                Err(e) => error_response(&e),
            };
            (resp, labels)
        }
        Err(e) => (error_response(&e), MetricLabels::default()),
    };
    let code = resp.status();
    let code = code.as_str();
    let dry_run = if ctx.query.get("dryRun").is_some() {
        "All"
    } else {
        ""
    };
    METRICS
        .request_total
        .with_label_values(&[
            labels.verb.as_ref(),
            dry_run,
            labels.group,
            labels.version,
            labels.resource,
            labels.subresource,
            labels.scope,
            "apiserver",
            code,
        ])
        .inc();
    if labels.verb != "WATCH" {
        METRICS
            .request_duration
            .with_label_values(&[
                labels.verb.as_ref(),
                dry_run,
                labels.group,
                labels.version,
                labels.resource,
                labels.subresource,
                labels.scope,
                "apiserver",
            ])
            .observe(started.elapsed().as_secs_f64());
    }
    log_request(
        &ctx.method,
        &ctx.path,
        Some(&ctx.user),
        resp.status(),
        started,
        peer,
        &ctx.user_agent,
    );
    resp
}

/// Labels of apiserver_request_* (verbs upper-case, as upstream).
#[derive(Default)]
struct MetricLabels {
    verb: std::borrow::Cow<'static, str>,
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    subresource: &'static str,
    scope: &'static str,
}

impl MetricLabels {
    fn of(route: &Route, ctx: &RequestContext) -> MetricLabels {
        match route {
            Route::Resource(r) => MetricLabels {
                verb: match r.verb {
                    "create" => "POST".into(),
                    "update" => "PUT".into(),
                    "get" => "GET".into(),
                    "list" => "LIST".into(),
                    "watch" => "WATCH".into(),
                    "patch" => "PATCH".into(),
                    "delete" => "DELETE".into(),
                    "deletecollection" => "DELETECOLLECTION".into(),
                    other => other.to_uppercase().into(),
                },
                group: r.resource.group,
                version: r.resource.version,
                resource: r.resource.plural,
                subresource: match r.subresource.as_deref() {
                    Some("status") => "status",
                    Some("scale") => "scale",
                    Some("binding") => "binding",
                    Some("finalize") => "finalize",
                    Some(_) => "other",
                    None => "",
                },
                scope: if r.name.is_some() {
                    "resource"
                } else if r.namespace.is_some() {
                    "namespace"
                } else {
                    "cluster"
                },
            },
            _ => MetricLabels {
                verb: ctx.method.as_str().to_string().into(),
                ..Default::default()
            },
        }
    }
}

fn log_request(
    method: &http::Method,
    path: &str,
    user: Option<&UserInfo>,
    status: StatusCode,
    started: Instant,
    peer: SocketAddr,
    user_agent: &str,
) {
    // Upstream logs each request at -v=3; here at debug (--v=2 and up).
    tracing::debug!(
        target: "httplog",
        verb = %method,
        uri = path,
        user = user.map(|u| u.name.as_str()).unwrap_or(""),
        status = status.as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        src = %peer,
        user_agent,
        "request"
    );
}
