//! The small HTTP(S) endpoint every daemon but the apiserver serves: /healthz, /livez,
//! /readyz (with `?verbose` and per-check paths, as upstream's healthz package), /metrics
//! in the Prometheus text format, plus any extra routes a daemon adds (kube-proxy's JSON
//! /healthz, the kubelet's /pods ...).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

type Check = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// Named health checks; /healthz and /livez run the liveness ones, /readyz those plus
/// the readiness ones. Cloning shares the set.
#[derive(Clone, Default)]
pub struct Health {
    live: Arc<RwLock<BTreeMap<String, Check>>>,
    ready: Arc<RwLock<BTreeMap<String, Check>>>,
}

impl Health {
    /// A check that gates /healthz, /livez and /readyz.
    pub fn add_liveness(
        &self,
        name: &str,
        check: impl Fn() -> Result<(), String> + Send + Sync + 'static,
    ) {
        if let Ok(mut m) = self.live.write() {
            m.insert(name.to_string(), Arc::new(check));
        }
    }

    /// A check that gates only /readyz (e.g. "leaderElection", "informer-sync").
    pub fn add_readiness(
        &self,
        name: &str,
        check: impl Fn() -> Result<(), String> + Send + Sync + 'static,
    ) {
        if let Ok(mut m) = self.ready.write() {
            m.insert(name.to_string(), Arc::new(check));
        }
    }

    fn checks(&self, readiness: bool) -> Vec<(String, Check)> {
        let mut out: Vec<(String, Check)> = Vec::new();
        if let Ok(m) = self.live.read() {
            out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if readiness {
            if let Ok(m) = self.ready.read() {
                out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        out
    }

    /// Upstream's healthz output: "ok", or with `verbose` one `[+]name ok` /
    /// `[-]name failed: reason withheld` line per check; 500 when any fails.
    /// `only` answers a single check's path (/healthz/<name>).
    pub fn render(
        &self,
        endpoint: &str,
        readiness: bool,
        verbose: bool,
        only: Option<&str>,
    ) -> (StatusCode, String) {
        let checks = self.checks(readiness);
        if let Some(name) = only {
            return match checks.iter().find(|(n, _)| n == name) {
                Some((_, c)) => match c() {
                    Ok(()) => (StatusCode::OK, "ok".to_string()),
                    Err(e) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("internal server error: {e}\n"),
                    ),
                },
                None => (StatusCode::NOT_FOUND, "404 page not found\n".to_string()),
            };
        }
        let mut failed = false;
        let mut lines = String::from("[+]ping ok\n");
        for (name, check) in &checks {
            match check() {
                Ok(()) => lines.push_str(&format!("[+]{name} ok\n")),
                Err(e) => {
                    failed = true;
                    tracing::info!(check = %name, error = %e, "{endpoint} check failed");
                    lines.push_str(&format!("[-]{name} failed: reason withheld\n"));
                }
            }
        }
        if failed {
            lines.push_str(&format!("{endpoint} check failed\n"));
            return (StatusCode::INTERNAL_SERVER_ERROR, lines);
        }
        if verbose {
            lines.push_str(&format!("{endpoint} check passed\n"));
            (StatusCode::OK, lines)
        } else {
            (StatusCode::OK, "ok".to_string())
        }
    }
}

/// A daemon-specific route: gets the request (path + query, body not read) and answers.
pub type Route = Arc<dyn Fn(&http::request::Parts) -> Response<Full<Bytes>> + Send + Sync>;

/// What the endpoint serves.
#[derive(Clone)]
pub struct Serving {
    pub registry: prometheus::Registry,
    pub health: Health,
    /// Exact-path routes checked before the built-in ones.
    pub routes: BTreeMap<String, Route>,
}

impl Serving {
    pub fn new(registry: prometheus::Registry) -> Self {
        Serving {
            registry,
            health: Health::default(),
            routes: BTreeMap::new(),
        }
    }

    pub fn route(
        mut self,
        path: &str,
        route: impl Fn(&http::request::Parts) -> Response<Full<Bytes>> + Send + Sync + 'static,
    ) -> Self {
        self.routes.insert(path.to_string(), Arc::new(route));
        self
    }

    /// Answers one request (public so daemons with their own server can reuse it).
    pub fn respond(&self, parts: &http::request::Parts) -> Response<Full<Bytes>> {
        let path = parts.uri.path();
        if let Some(route) = self.routes.get(path) {
            return route(parts);
        }
        let verbose = parts.uri.query().is_some_and(|q| {
            q.split('&')
                .any(|kv| kv == "verbose" || kv.starts_with("verbose="))
        });
        for (endpoint, readiness) in [("healthz", false), ("livez", false), ("readyz", true)] {
            let base = format!("/{endpoint}");
            if path == base {
                let (status, body) = self.health.render(endpoint, readiness, verbose, None);
                return text(status, body);
            }
            if let Some(name) = path.strip_prefix(&format!("{base}/")) {
                let (status, body) = self.health.render(endpoint, readiness, verbose, Some(name));
                return text(status, body);
            }
        }
        if path == "/metrics" {
            return match render_metrics(&self.registry) {
                Ok(body) => Response::builder()
                    .status(StatusCode::OK)
                    .header(
                        http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )
                    .body(Full::new(Bytes::from(body)))
                    .unwrap_or_default(),
                Err(e) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("encoding metrics: {e}\n"),
                ),
            };
        }
        text(StatusCode::NOT_FOUND, "404 page not found\n".to_string())
    }
}

/// The registry's metrics plus the process collector's, in the text exposition format.
pub fn render_metrics(registry: &prometheus::Registry) -> Result<String, prometheus::Error> {
    use prometheus::Encoder;
    let mut families = registry.gather();
    families.extend(prometheus::default_registry().gather());
    let mut buf = Vec::new();
    prometheus::TextEncoder::new().encode(&families, &mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

pub fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header("X-Content-Type-Options", "nosniff")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// Binds `addr` (an error names the address) and serves until `shutdown` resolves.
/// With `tls`, HTTPS; without, plain HTTP (upstream's --bind-address/--secure-port
/// pairs are HTTPS, the kube-proxy health port is HTTP).
pub async fn serve(
    addr: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    serving: Serving,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    serve_listener(listener, tls, serving, shutdown).await
}

pub async fn serve_listener(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    serving: Serving,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let serving = Arc::new(serving);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let serving = serving.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let serving = serving.clone();
                async move {
                    let (parts, _body) = req.into_parts();
                    Ok::<_, Infallible>(serving.respond(&parts))
                }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let result = match acceptor {
                Some(acceptor) => match acceptor.accept(tcp).await {
                    Ok(tls) => builder.serve_connection(TokioIo::new(tls), service).await,
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                },
                None => builder.serve_connection(TokioIo::new(tcp), service).await,
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str) -> http::request::Parts {
        Request::builder()
            .uri(uri)
            .body(())
            .map(|r| r.into_parts().0)
            .unwrap_or_else(|_| Request::new(()).into_parts().0)
    }

    #[test]
    fn healthz_is_ok_then_fails_with_the_check_named() {
        let s = Serving::new(prometheus::Registry::new());
        assert_eq!(s.respond(&parts("/healthz")).status(), StatusCode::OK);
        s.health
            .add_readiness("leaderElection", || Err("not leading".into()));
        assert_eq!(s.respond(&parts("/healthz")).status(), StatusCode::OK);
        let (status, body) = s.health.render("readyz", true, false, None);
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            body.contains("[-]leaderElection failed: reason withheld"),
            "{body}"
        );
        assert!(body.ends_with("readyz check failed\n"), "{body}");
        assert_eq!(
            s.respond(&parts("/readyz/leaderElection")).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            s.respond(&parts("/readyz/nothing")).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn verbose_lists_every_check() {
        let s = Serving::new(prometheus::Registry::new());
        s.health.add_liveness("informer-sync", || Ok(()));
        let (status, body) = s.health.render("healthz", false, true, None);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            "[+]ping ok\n[+]informer-sync ok\nhealthz check passed\n"
        );
    }

    #[test]
    fn metrics_render_registered_families() {
        let registry = prometheus::Registry::new();
        let c = prometheus::IntCounter::new("workqueue_adds_total", "adds")
            .unwrap_or_else(|_| unreachable!());
        registry.register(Box::new(c.clone())).unwrap_or_default();
        c.inc();
        let body = render_metrics(&registry).unwrap_or_default();
        assert!(body.contains("workqueue_adds_total 1"), "{body}");
    }

    #[test]
    fn extra_routes_win() {
        let s = Serving::new(prometheus::Registry::new())
            .route("/healthz", |_| text(StatusCode::OK, "{}".into()));
        let resp = s.respond(&parts("/healthz"));
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
