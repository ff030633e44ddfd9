//! /healthz, /livez, /readyz, /version, /metrics and the OpenAPI documents.

use std::sync::atomic::Ordering;

use api_types::ApiError;
use http::{HeaderValue, Response, StatusCode};

use crate::server::{full, json_response, ApiServer, Body, RequestContext};

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Health endpoints with upstream's check names and verbose format.
pub async fn health(
    server: &ApiServer,
    which: &str,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let etcd_ok = server.etcd_healthy.load(Ordering::Relaxed);
    let caches_ok = server.caches.values().all(|c| c.is_ready());
    let mut checks: Vec<(&str, bool)> = vec![("ping", true), ("log", true)];
    if which != "livez" {
        checks.push(("etcd", etcd_ok));
    }
    if which == "readyz" {
        checks.push(("informer-sync", caches_ok));
        // Upstream's system-namespaces post-start hook: not ready until default,
        // kube-system, kube-public and kube-node-lease exist (requests into them would
        // be refused as "not found" meanwhile).
        let namespaces_ok = server.cache("namespaces").is_some_and(|c| {
            crate::bootstrap::SYSTEM_NAMESPACES
                .iter()
                .all(|ns| c.get(&server.store.key("namespaces", None, ns)).is_some())
        });
        checks.push((
            "poststarthook/start-system-namespaces-controller",
            namespaces_ok,
        ));
        checks.push(("poststarthook/start-apiserver-admission-initializer", true));
    }
    // /readyz/etcd asks for one check.
    let sub = ctx
        .path
        .trim_start_matches('/')
        .split_once('/')
        .map(|(_, s)| s.to_string());
    if let Some(name) = sub.filter(|s| !s.is_empty()) {
        return match checks.iter().find(|(n, _)| *n == name) {
            Some((_, true)) => Ok(text(StatusCode::OK, "ok".into())),
            Some((_, false)) => Ok(text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal server error: {name} check failed"),
            )),
            None => Err(ApiError::not_found_message(format!(
                "{which}/{name} not found"
            ))),
        };
    }
    let excluded: Vec<&str> = ctx
        .query
        .0
        .get("exclude")
        .map(|e| e.split(',').collect())
        .unwrap_or_default();
    let ok = checks.iter().all(|(n, ok)| *ok || excluded.contains(n));
    let verbose = ctx.query.0.contains_key("verbose");
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    if verbose || !ok {
        let mut out = String::new();
        for (n, pass) in &checks {
            if *pass {
                out.push_str(&format!("[+]{n} ok\n"));
            } else {
                out.push_str(&format!("[-]{n} failed: reason withheld\n"));
            }
        }
        out.push_str(&format!(
            "{which} check {}\n",
            if ok { "passed" } else { "failed" }
        ));
        return Ok(text(status, out));
    }
    Ok(text(status, "ok".into()))
}

pub fn version() -> Response<Body> {
    let body = serde_json::json!({
        "major": api_types::KUBERNETES_MAJOR,
        "minor": api_types::KUBERNETES_MINOR,
        "emulationMajor": api_types::KUBERNETES_MAJOR,
        "emulationMinor": api_types::KUBERNETES_MINOR,
        "minCompatibilityMajor": api_types::KUBERNETES_MAJOR,
        "minCompatibilityMinor": "32",
        "gitVersion": format!("{}-ferrokube.{}", api_types::KUBERNETES_GIT_VERSION, env!("CARGO_PKG_VERSION")),
        "gitCommit": option_env!("FERROKUBE_GIT_COMMIT").unwrap_or("unknown"),
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, match std::env::consts::ARCH { "x86_64" => "amd64", "aarch64" => "arm64", other => other }),
    });
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

pub fn metrics() -> Response<Body> {
    let mut resp = Response::new(full(crate::metrics::render()));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

pub fn openapi_v2(server: &ApiServer, ctx: &RequestContext) -> Result<Response<Body>, ApiError> {
    use crate::openapi::{negotiate_v2, V2Format, V2_PROTOBUF_CONTENT_TYPE};
    // client-go asks for protobuf only; kubectl 1.27/1.28 reject the "@v1.0" spelling
    // of the media type in the answer, so the dotted form is sent (as upstream).
    let mut resp = match negotiate_v2(ctx.accept.as_deref()) {
        Some(V2Format::Protobuf) => {
            let pb = server.openapi.v2_protobuf().ok_or_else(|| {
                ApiError::not_acceptable("the protobuf OpenAPI v2 document is not available")
            })?;
            let mut resp = Response::new(full(pb));
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static(V2_PROTOBUF_CONTENT_TYPE),
            );
            resp
        }
        Some(V2Format::Json) => json_response(StatusCode::OK, server.openapi.v2_json()),
        None => {
            return Err(ApiError::not_acceptable(
                "only application/json and protobuf are served for /openapi/v2",
            ))
        }
    };
    resp.headers_mut()
        .insert(http::header::VARY, HeaderValue::from_static("Accept"));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", server.openapi.v2_etag())) {
        resp.headers_mut().insert(http::header::ETAG, v);
    }
    Ok(resp)
}

pub fn openapi_v3(
    server: &ApiServer,
    path: Option<&str>,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let Some(p) = path else {
        return Ok(json_response(StatusCode::OK, server.openapi.v3_index()));
    };
    if !crate::openapi::v3_accepts_json(ctx.accept.as_deref()) {
        return Err(ApiError::not_acceptable(
            "only application/json is served for /openapi/v3",
        ));
    }
    let Some((doc, hash)) = server.openapi.v3_group_version(p) else {
        return Err(ApiError::not_found_message(format!(
            "openapi/v3/{p} not found"
        )));
    };
    match ctx.query.get("hash") {
        // A stale hash is redirected to the current document, as kube-openapi does.
        Some(h) if h != hash => {
            let mut resp = Response::new(full(Vec::new()));
            *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(v) = HeaderValue::from_str(&format!("/openapi/v3/{p}?hash={hash}")) {
                resp.headers_mut().insert(http::header::LOCATION, v);
            }
            Ok(resp)
        }
        matched => {
            let mut resp = json_response(StatusCode::OK, doc);
            if let Ok(v) = HeaderValue::from_str(&format!("\"{hash}\"")) {
                resp.headers_mut().insert(http::header::ETAG, v);
            }
            if matched.is_some() {
                resp.headers_mut().insert(
                    http::header::CACHE_CONTROL,
                    HeaderValue::from_static("public, immutable"),
                );
                let expires = jiff::Timestamp::now()
                    .checked_add(jiff::SignedDuration::from_hours(24 * 365))
                    .unwrap_or_else(|_| jiff::Timestamp::now());
                if let Ok(v) = HeaderValue::from_str(
                    &expires.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                ) {
                    resp.headers_mut().insert(http::header::EXPIRES, v);
                }
            } else {
                resp.headers_mut().insert(
                    http::header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache, private"),
                );
            }
            Ok(resp)
        }
    }
}
