//! The kubelet API on :10250 (HTTPS, hyper + rustls), as upstream's pkg/kubelet/server:
//!
//! * /healthz (no client certificate needed), /metrics, /pods, /stats/summary;
//! * /containerLogs/<ns>/<pod>/<container> (CRI log files, `kubectl logs` options);
//! * /exec/<ns>/<pod>/<container> and /attach/... over the WebSocket channel protocols
//!   (v5.channel.k8s.io, v4.channel.k8s.io) or SPDY/3.1 (v4.channel.k8s.io);
//! * /portForward/<ns>/<pod> over SPDY/3.1, plain or tunnelled in a WebSocket.
//!
//! Every path but /healthz needs a client certificate signed by the client CA
//! (authentication.x509.clientCAFile): without one the answer is 401, as upstream with
//! anonymous auth off. Authorization (upstream's SubjectAccessReview webhook) is not done:
//! any certificate from the client CA may use the API.

pub mod attach;
pub mod exec;
pub mod portforward;
pub mod query;
pub mod routes;
pub mod session;
pub mod spdy_exec;
pub mod stats;
pub mod tls;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::metrics::Metrics;
use crate::pod::manager::RunningPods;
use crate::runtime::Containerd;

pub type Body = BoxBody<Bytes, Infallible>;

/// What the API reads: the pod manager's running pods, containerd, the log files.
#[derive(Clone)]
pub struct ServerState {
    pub node_name: String,
    pub running: RunningPods,
    pub runtime: Containerd,
    pub metrics: Metrics,
    /// podLogsDir (`/var/log/pods` upstream): `<ns>_<pod>_<uid>/<container>/<n>.log`.
    pub pod_logs_dir: PathBuf,
    /// Where exec FIFOs are created (`/run/ferrokube/kubelet/exec`).
    pub exec_dir: PathBuf,
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A plain-text response (upstream's kubelet answers errors with http.Error text).
pub fn text(status: StatusCode, msg: impl Into<String>) -> Response<Body> {
    let mut body = msg.into();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

pub fn json(value: &impl serde::Serialize) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut resp = Response::new(full(body));
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("encoding: {e}")),
    }
}

/// The TLS files of a KubeletConfiguration (tlsCertFile, tlsPrivateKeyFile,
/// authentication.x509.clientCAFile; flags already applied).
pub fn tls_files(cfg: &crate::config::KubeletConfiguration) -> tls::TlsFiles {
    tls::TlsFiles {
        cert: cfg
            .tls_cert_file
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        key: cfg
            .tls_private_key_file
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        client_ca: cfg.client_ca_file(),
    }
}

/// Binds `addr` and serves until `shutdown`.
pub async fn serve(
    addr: std::net::SocketAddr,
    tls: rustls::ServerConfig,
    state: ServerState,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr} for the kubelet API"))?;
    serve_listener(listener, tls, state, shutdown).await;
    Ok(())
}

/// Serves on an already bound listener until `shutdown` (tests bind port 0).
pub async fn serve_listener(
    listener: TcpListener,
    tls: rustls::ServerConfig,
    state: ServerState,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let state = Arc::new(state);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "kubelet API: accept failed");
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "kubelet API: TLS handshake failed");
                    return;
                }
            };
            // rustls verified any certificate offered against the client CA.
            let user = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(component_base::tls::subject_identity)
                .map(|(user, _)| user);
            let user = Arc::new(user);
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                let user = user.clone();
                async move { Ok::<_, Infallible>(handle(state, req, user.as_deref()).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "kubelet API: connection ended with an error");
            }
        });
    }
}

async fn handle(
    state: Arc<ServerState>,
    req: Request<Incoming>,
    user: Option<&str>,
) -> Response<Body> {
    let route = query::route(req.uri().path());
    if route != query::Route::Healthz && user.is_none() {
        return text(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = routes::dispatch(state, route, req).await;
    tracing::debug!(target: "httplog", verb = %method, uri = path, user = user.unwrap_or(""), status = resp.status().as_u16(), "kubelet API request");
    resp
}
