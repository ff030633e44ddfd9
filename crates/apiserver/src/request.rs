//! What a request is about: upstream's RequestInfo, parsed from the path and query.

use std::collections::HashMap;

use api_types::resources::{self, ResourceInfo};
use api_types::ApiError;

/// A resource request, resolved against the resource table.
#[derive(Debug, Clone)]
pub struct ResourceRequest {
    pub resource: &'static ResourceInfo,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// Upstream's verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: &'static str,
}

/// Every path the server answers.
#[derive(Debug, Clone)]
pub enum Route {
    Healthz(String),
    Version,
    Metrics,
    OpenApiV2,
    OpenApiV3(Option<String>),
    /// `/api` (core) or `/apis`.
    DiscoveryRoot {
        core: bool,
    },
    /// `/apis/<group>`.
    DiscoveryGroup(String),
    /// `/api/v1` or `/apis/<group>/<version>`.
    DiscoveryGroupVersion {
        group: String,
        version: String,
    },
    Resource(ResourceRequest),
}

/// Decoded query parameters (first value wins, as Go's `url.Values.Get`).
#[derive(Debug, Default, Clone)]
pub struct Query(pub HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let mut map = HashMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(k);
            let v = percent_decode(v);
            map.entry(k).or_insert(v);
        }
        Query(map)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "True" | "TRUE"))
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid value {v:?} for query parameter {key}"))
            }),
        }
    }
}

/// Percent-decoding of a query component ('+' is a space, as in forms).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'+' {
            out.push(b' ');
        } else if b == b'%' {
            let decoded = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(d) = decoded {
                out.push(d);
                i += 3;
                continue;
            }
            out.push(b'%');
        } else {
            out.push(b);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_health(path: &str) -> Option<String> {
    for p in ["/healthz", "/livez", "/readyz"] {
        if path == p || path.starts_with(&format!("{p}/")) {
            return Some(p.trim_start_matches('/').to_string());
        }
    }
    None
}

/// Resolves a request path and method to a route.
pub fn route(method: &http::Method, path: &str, query: &Query) -> Result<Route, ApiError> {
    if let Some(h) = is_health(path) {
        return Ok(Route::Healthz(h));
    }
    match path {
        "/version" | "/version/" => return Ok(Route::Version),
        "/metrics" => return Ok(Route::Metrics),
        "/openapi/v2" => return Ok(Route::OpenApiV2),
        "/openapi/v3" | "/openapi/v3/" => return Ok(Route::OpenApiV3(None)),
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/openapi/v3/") {
        return Ok(Route::OpenApiV3(Some(rest.to_string())));
    }
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let not_found =
        || ApiError::not_found_message("the server could not find the requested resource");
    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["api"] => return Ok(Route::DiscoveryRoot { core: true }),
        ["apis"] => return Ok(Route::DiscoveryRoot { core: false }),
        ["api", v] => {
            return Ok(Route::DiscoveryGroupVersion {
                group: String::new(),
                version: v.to_string(),
            })
        }
        ["apis", g] => return Ok(Route::DiscoveryGroup(g.to_string())),
        ["apis", g, v] => {
            return Ok(Route::DiscoveryGroupVersion {
                group: g.to_string(),
                version: v.to_string(),
            })
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found()),
    };
    let (watch_path, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        r => (false, r),
    };
    let lookup = |plural: &str| resources::find(group, version, plural).ok_or_else(not_found);
    // Paths: <plural>[/<name>[/<sub>]] or namespaces/<ns>/<plural>[/<name>[/<sub>]];
    // namespaces/<name>/{status,finalize} is the Namespace's own subresource.
    let (resource, namespace, name, sub) = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if !(group.is_empty()
                && matches!(*plural, "status" | "finalize")
                && tail.is_empty()) =>
        {
            let r = lookup(plural)?;
            if !r.namespaced {
                return Err(not_found());
            }
            match tail {
                [] => (r, Some(*ns), None, None),
                [name] => (r, Some(*ns), Some(*name), None),
                [name, sub] => (r, Some(*ns), Some(*name), Some(*sub)),
                // kubelet-streaming: proxy subresources carry a path.
                [name, "proxy", ..] => (r, Some(*ns), Some(*name), Some("proxy")),
                _ => return Err(not_found()),
            }
        }
        [plural] => (lookup(plural)?, None, None, None),
        [plural, name] => (lookup(plural)?, None, Some(*name), None),
        [plural, name, sub] => (lookup(plural)?, None, Some(*name), Some(*sub)),
        // kubelet-streaming: nodes/<name>/proxy/<path>.
        [plural, name, "proxy", ..] => (lookup(plural)?, None, Some(*name), Some("proxy")),
        _ => return Err(not_found()),
    };
    if let Some(s) = sub {
        if !resource.has_subresource(s) {
            return Err(not_found());
        }
    }
    if resource.namespaced && name.is_some() && namespace.is_none() {
        return Err(not_found());
    }
    let watch = watch_path || query.flag("watch");
    let verb: &'static str = match (method.as_str(), name.is_some(), watch) {
        ("GET" | "HEAD", false, true) => "watch",
        ("GET" | "HEAD", true, true) => "watch",
        ("GET" | "HEAD", false, false) => "list",
        ("GET" | "HEAD", true, false) => "get",
        ("POST", _, _) => "create",
        ("PUT", true, _) => "update",
        ("PATCH", true, _) => "patch",
        ("DELETE", true, _) => "delete",
        ("DELETE", false, _) => "deletecollection",
        _ => {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ))
        }
    };
    Ok(Route::Resource(ResourceRequest {
        resource,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
        subresource: sub.map(str::to_string),
        verb,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(method: &str, path: &str, query: &str) -> ResourceRequest {
        let m = http::Method::from_bytes(method.as_bytes()).unwrap();
        match route(&m, path, &Query::parse(Some(query))) {
            Ok(Route::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn resolves_resource_paths() {
        let r = res("GET", "/api/v1/namespaces/default/pods/p1/log", "");
        assert_eq!(
            (
                r.resource.plural,
                r.namespace.as_deref(),
                r.name.as_deref(),
                r.subresource.as_deref(),
                r.verb
            ),
            ("pods", Some("default"), Some("p1"), Some("log"), "get")
        );
        let r = res("GET", "/apis/apps/v1/deployments", "watch=true");
        assert_eq!((r.resource.plural, r.verb), ("deployments", "watch"));
        let r = res("GET", "/api/v1/watch/namespaces/kube-system/configmaps", "");
        assert_eq!(
            (r.namespace.as_deref(), r.verb),
            (Some("kube-system"), "watch")
        );
        let r = res("PUT", "/api/v1/namespaces/foo/finalize", "");
        assert_eq!(
            (
                r.resource.plural,
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            ("namespaces", Some("foo"), Some("finalize"))
        );
        let r = res("DELETE", "/api/v1/namespaces/foo/pods", "");
        assert_eq!(r.verb, "deletecollection");
    }

    #[test]
    fn unknown_resources_are_404() {
        let get = http::Method::GET;
        assert!(matches!(route(&get, "/api/v1/foos", &Query::default()), Err(e) if e.code == 404));
        assert!(
            matches!(route(&get, "/api/v1/namespaces/x/nodes", &Query::default()), Err(e) if e.code == 404)
        );
        assert!(
            matches!(route(&get, "/api/v1/namespaces/x/pods/p/bogus", &Query::default()), Err(e) if e.code == 404)
        );
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse(Some("labelSelector=app%3Dweb%2Ctier+in+(a)&limit=5"));
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert_eq!(q.int("limit").ok().flatten(), Some(5));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
