//! Discovery: /api, /apis, /apis/<group>, /api/v1, /apis/<group>/<version>, and the
//! aggregated documents (apidiscovery.k8s.io v2 / v2beta1) kubectl asks for first.

use api_types::resources::{self, ResourceInfo};
use api_types::ApiError;
use http::{HeaderValue, Response, StatusCode};
use serde_json::{json, Value};

use crate::negotiate::{self, Output};
use crate::server::{json_response, Body, RequestContext};

/// Verbs of a subresource, as upstream lists them.
fn subresource_verbs(sub: &str) -> Vec<&'static str> {
    match sub {
        "status" | "scale" | "approval" | "ephemeralcontainers" | "resize" => {
            vec!["get", "patch", "update"]
        }
        "finalize" => vec!["update"],
        "binding" | "eviction" | "token" => vec!["create"],
        "log" => vec!["get"],
        "exec" | "attach" | "portforward" => vec!["create", "get"],
        "proxy" => vec!["create", "delete", "get", "patch", "update"],
        _ => vec!["get"],
    }
}

/// The kind a subresource answers with.
fn subresource_kind(r: &ResourceInfo, sub: &str) -> (&'static str, &'static str, &'static str) {
    match sub {
        "scale" => ("autoscaling", "v1", "Scale"),
        "binding" => ("", "v1", "Binding"),
        "eviction" => ("policy", "v1", "Eviction"),
        "token" => ("authentication.k8s.io", "v1", "TokenRequest"),
        "exec" => ("", "v1", "PodExecOptions"),
        "attach" => ("", "v1", "PodAttachOptions"),
        "portforward" => ("", "v1", "PodPortForwardOptions"),
        "proxy" if r.plural == "pods" => ("", "v1", "PodProxyOptions"),
        "proxy" if r.plural == "nodes" => ("", "v1", "NodeProxyOptions"),
        "proxy" => ("", "v1", "ServiceProxyOptions"),
        "log" => ("", "v1", "Pod"),
        _ => (r.group, r.version, r.kind),
    }
}

fn api_resource(r: &ResourceInfo) -> Value {
    let mut v = json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        v["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        v["categories"] = json!(r.categories);
    }
    v
}

fn api_subresource(r: &ResourceInfo, sub: &str) -> Value {
    let (g, ver, kind) = subresource_kind(r, sub);
    let mut v = json!({
        "name": format!("{}/{}", r.plural, sub),
        "singularName": "",
        "namespaced": r.namespaced,
        "kind": kind,
        "verbs": subresource_verbs(sub),
    });
    if g != r.group {
        v["group"] = json!(g);
        v["version"] = json!(ver);
    }
    v
}

pub fn group_version(group: &str, version: &str) -> Result<Response<Body>, ApiError> {
    let list: Vec<&ResourceInfo> = resources::in_group_version(group, version).collect();
    if list.is_empty() {
        return Err(ApiError::not_found_message(
            "the server could not find the requested resource",
        ));
    }
    let mut out = Vec::new();
    for r in &list {
        out.push(api_resource(r));
        for sub in r.subresources {
            out.push(api_subresource(r, sub));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let body = json!({ "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out });
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
}

fn group_json(group: &str, versions: &[&str]) -> Value {
    let gvs: Vec<Value> = versions
        .iter()
        .map(|v| json!({ "groupVersion": format!("{group}/{v}"), "version": v }))
        .collect();
    json!({
        "name": group,
        "versions": gvs,
        "preferredVersion": gvs.first().cloned().unwrap_or(Value::Null),
    })
}

pub fn group(group: &str) -> Result<Response<Body>, ApiError> {
    let groups = resources::groups();
    let Some((_, versions)) = groups.iter().find(|(g, _)| *g == group && !g.is_empty()) else {
        return Err(ApiError::not_found_message(
            "the server could not find the requested resource",
        ));
    };
    let mut body = group_json(group, versions);
    body["kind"] = json!("APIGroup");
    body["apiVersion"] = json!("v1");
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
}

fn aggregated(core: bool, v2beta1: bool) -> Value {
    let api_version = if v2beta1 {
        "apidiscovery.k8s.io/v2beta1"
    } else {
        "apidiscovery.k8s.io/v2"
    };
    let mut items = Vec::new();
    for (group, versions) in resources::groups() {
        if group.is_empty() != core {
            continue;
        }
        let mut vs = Vec::new();
        for version in versions {
            let mut rs = Vec::new();
            for r in resources::in_group_version(group, version) {
                let subs: Vec<Value> = r
                    .subresources
                    .iter()
                    .map(|sub| {
                        let (g, v, k) = subresource_kind(r, sub);
                        json!({
                            "subresource": sub,
                            "responseKind": { "group": g, "version": v, "kind": k },
                            "verbs": subresource_verbs(sub),
                        })
                    })
                    .collect();
                let mut res = json!({
                    "resource": r.plural,
                    "responseKind": { "group": r.group, "version": r.version, "kind": r.kind },
                    "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                    "singularResource": r.singular,
                    "verbs": r.verbs,
                });
                if !r.short_names.is_empty() {
                    res["shortNames"] = json!(r.short_names);
                }
                if !r.categories.is_empty() {
                    res["categories"] = json!(r.categories);
                }
                if !subs.is_empty() {
                    res["subresources"] = json!(subs);
                }
                rs.push(res);
            }
            vs.push(json!({ "version": version, "resources": rs, "freshness": "Current" }));
        }
        items.push(
            json!({ "metadata": { "name": group, "creationTimestamp": null }, "versions": vs }),
        );
    }
    json!({ "kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items })
}

pub fn root(core: bool, ctx: &RequestContext) -> Result<Response<Body>, ApiError> {
    if let Output::Discovery { v2beta1 } = negotiate::output(ctx.accept.as_deref(), true)? {
        let body = aggregated(core, v2beta1);
        let mut resp = json_response(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
        );
        let ct = if v2beta1 {
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        } else {
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        };
        resp.headers_mut()
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
        return Ok(resp);
    }
    let body = if core {
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": "" }],
        })
    } else {
        let groups: Vec<Value> = resources::groups()
            .iter()
            .filter(|(g, _)| !g.is_empty())
            .map(|(g, vs)| group_json(g, vs))
            .collect();
        json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
    };
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_core_lists_pods_with_subresources() {
        let doc = aggregated(true, false);
        let core = &doc["items"][0];
        assert_eq!(core["metadata"]["name"], "");
        let pods = core["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "pods")
            .unwrap();
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["categories"], json!(["all"]));
        assert!(pods["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subresource"] == "status"));
    }

    #[test]
    fn apps_group_has_deployments_scale() {
        let doc = aggregated(false, false);
        let apps = doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == "apps")
            .unwrap();
        let deploy = apps["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "deployments")
            .unwrap();
        let scale = deploy["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["subresource"] == "scale")
            .unwrap();
        assert_eq!(scale["responseKind"]["kind"], "Scale");
    }
}
