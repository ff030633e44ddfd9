//! /healthz, /livez, /readyz, /version, /metrics and the OpenAPI documents.

use std::sync::atomic::Ordering;

use api_types::ApiError;
use http::{HeaderValue, Response, StatusCode};

use crate::server::{full, json_response, ApiServer, Body, RequestContext};

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    resp.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    resp
}

/// Health endpoints with upstream's check names and verbose format.
pub async fn health(server: &ApiServer, which: &str, ctx: &RequestContext) -> Result<Response<Body>, ApiError> {
    let etcd_ok = server.etcd_healthy.load(Ordering::Relaxed);
    let caches_ok = server.caches.values().all(|c| c.is_ready());
    let mut checks: Vec<(&str, bool)> = vec![("ping", true), ("log", true)];
    if which != "livez" {
        checks.push(("etcd", etcd_ok));
    }
    if which == "readyz" {
        checks.push(("informer-sync", caches_ok));
        checks.push(("poststarthook/start-apiserver-admission-initializer", true));
    }
    // /readyz/etcd asks for one check.
    let sub = ctx.path.trim_start_matches('/').split_once('/').map(|(_, s)| s.to_string());
    if let Some(name) = sub.filter(|s| !s.is_empty()) {
        return match checks.iter().find(|(n, _)| *n == name) {
            Some((_, true)) => Ok(text(StatusCode::OK, "ok".into())),
            Some((_, false)) => Ok(text(StatusCode::INTERNAL_SERVER_ERROR, format!("internal server error: {name} check failed"))),
            None => Err(ApiError::not_found_message(format!("{which}/{name} not found"))),
        };
    }
    let excluded: Vec<&str> = ctx.query.0.get("exclude").map(|e| e.split(',').collect()).unwrap_or_default();
    let ok = checks.iter().all(|(n, ok)| *ok || excluded.contains(n));
    let verbose = ctx.query.0.contains_key("verbose");
    let status = if ok { StatusCode::OK } else { StatusCode::INTERNAL_SERVER_ERROR };
    if verbose || !ok {
        let mut out = String::new();
        for (n, pass) in &checks {
            if *pass {
                out.push_str(&format!("[+]{n} ok\n"));
            } else {
                out.push_str(&format!("[-]{n} failed: reason withheld\n"));
            }
        }
        out.push_str(&format!("{which} check {}\n", if ok { "passed" } else { "failed" }));
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
    json_response(StatusCode::OK, serde_json::to_vec(&body).unwrap_or_default())
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
    let accept = ctx.accept.as_deref().unwrap_or("application/json");
    let wants_json = accept.split(',').any(|a| {
        let a = a.trim();
        a.starts_with("application/json") || a.starts_with("*/*") || a.is_empty()
    });
    if !wants_json {
        if let Some(pb) = server.openapi.v2_protobuf() {
            let mut resp = Response::new(full(pb));
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/com.github.proto-openapi.spec.v2.v1.0+protobuf"),
            );
            return Ok(resp);
        }
        return Err(ApiError::not_acceptable("only application/json is served for /openapi/v2"));
    }
    Ok(json_response(StatusCode::OK, server.openapi.v2_json()))
}

pub fn openapi_v3(server: &ApiServer, path: Option<&str>, _ctx: &RequestContext) -> Result<Response<Body>, ApiError> {
    match path {
        None => Ok(json_response(StatusCode::OK, server.openapi.v3_index())),
        Some(p) => match server.openapi.v3_group_version(p) {
            Some((doc, hash)) => {
                let mut resp = json_response(StatusCode::OK, doc);
                if let Ok(v) = HeaderValue::from_str(&format!("\"{hash}\"")) {
                    resp.headers_mut().insert(http::header::ETAG, v);
                }
                resp.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("public, immutable"));
                Ok(resp)
            }
            None => Err(ApiError::not_found_message(format!("openapi/v3/{p} not found"))),
        },
    }
}
