//! Subresources: scale, binding, and the review kinds (create-only objects that are
//! answered, not stored).

use api_types::patch::PatchType;
use api_types::validation::FieldError;
use api_types::{ApiError, DynamicObject};
use http::{Response, StatusCode};
use serde_json::{json, Value};

use super::objects;
use super::read;
use super::write::{self, apply_patch, guaranteed_update};
use crate::authz::Attributes;
use crate::request::ResourceRequest;
use crate::server::{json_response, ApiServer, Body, RequestContext};

/// The label selector of a workload as the Scale's status.selector string.
fn selector_string(obj: &DynamicObject) -> String {
    let sel = &obj.data["spec"]["selector"];
    // ReplicationControllers have a plain map selector.
    let match_labels = if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some()
    {
        &sel["matchLabels"]
    } else {
        sel
    };
    let mut parts: Vec<String> = match_labels
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let key = e["key"].as_str().unwrap_or("");
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        match e["operator"].as_str() {
            Some("In") => parts.push(format!("{key} in ({})", values.join(","))),
            Some("NotIn") => parts.push(format!("{key} notin ({})", values.join(","))),
            Some("Exists") => parts.push(key.to_string()),
            Some("DoesNotExist") => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.join(",")
}

fn scale_of(obj: &DynamicObject) -> Value {
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": obj.metadata.name,
            "namespace": obj.metadata.namespace,
            "uid": obj.metadata.uid,
            "resourceVersion": obj.metadata.resource_version,
            "creationTimestamp": obj.metadata.creation_timestamp,
        },
        "spec": { "replicas": obj.data["spec"]["replicas"].as_i64().unwrap_or(1) },
        "status": {
            "replicas": obj.data["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector_string(obj),
        }
    })
}

pub async fn get_scale(
    server: &ApiServer,
    req: &ResourceRequest,
    _ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let obj = read::current(server, req).await?;
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_vec(&scale_of(&obj.object)).map_err(ApiError::internal)?,
    ))
}

pub async fn update_scale(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
    is_patch: bool,
) -> Result<Response<Body>, ApiError> {
    let dry_run = objects::dry_run(ctx)?;
    let patch_type = if is_patch {
        let essence = crate::negotiate::content_essence(ctx.content_type.as_deref());
        Some(PatchType::from_content_type(&essence).ok_or_else(|| {
            ApiError::unsupported_media_type(format!(
                "unsupported patch type {essence:?} for scale"
            ))
        })?)
    } else {
        None
    };
    let body_scale: Option<Value> = if is_patch {
        None
    } else {
        let format = crate::negotiate::body_format(ctx.content_type.as_deref())?;
        Some(
            objects::parse_body(&ctx.body, format)
                .map_err(|e| ApiError::bad_request(format!("Scale: {e}")))?,
        )
    };
    let name = req.name.clone().unwrap_or_default();
    let manager = write::manager(ctx)?;
    let scale_resource =
        api_types::resources::find("autoscaling", "v1", "horizontalpodautoscalers")
            .unwrap_or(req.resource);
    let mut result: Option<DynamicObject> = None;
    let updated = guaranteed_update(server, req, |obj| {
        let current = scale_of(obj);
        let wanted = match (&body_scale, patch_type) {
            (Some(b), _) => b.clone(),
            (None, Some(t)) => apply_patch(scale_resource, &current, &ctx.body, t)?,
            (None, None) => current.clone(),
        };
        if let Some(rv) = wanted["metadata"]["resourceVersion"]
            .as_str()
            .filter(|v| !v.is_empty())
        {
            if Some(rv) != obj.metadata.resource_version.as_deref() {
                return Err(ApiError::conflict_modified(req.resource, &name));
            }
        }
        let replicas = wanted["spec"]["replicas"].as_i64().unwrap_or(0);
        if replicas < 0 {
            return Err(ApiError::invalid(
                "autoscaling",
                "Scale",
                &name,
                &[FieldError::invalid(
                    "spec.replicas",
                    replicas,
                    "must be greater than or equal to 0",
                )],
            ));
        }
        let mut new = obj.clone();
        if let Some(spec) = new.data.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), json!(replicas));
        }
        if new.data["spec"] != obj.data["spec"] {
            new = write::track_subresource_update(
                server,
                req.resource,
                Some(obj),
                new,
                &manager,
                Some("scale"),
            )?;
        }
        if dry_run {
            result = Some(new);
            return Ok(None);
        }
        Ok(Some(new))
    })
    .await?;
    let obj = result.unwrap_or(updated);
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_vec(&scale_of(&obj)).map_err(ApiError::internal)?,
    ))
}

/// POST pods/<name>/binding (or the bindings resource): assigns a node, once.
pub async fn bind(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let format = crate::negotiate::body_format(ctx.content_type.as_deref())?;
    let body = objects::parse_body(&ctx.body, format)
        .map_err(|e| ApiError::bad_request(format!("Binding: {e}")))?;
    let pod_name = body["metadata"]["name"]
        .as_str()
        .map(str::to_string)
        .or_else(|| req.name.clone())
        .unwrap_or_default();
    if req.name.as_deref().is_some_and(|n| n != pod_name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({pod_name}) does not match the name on the URL ({})",
            req.name.clone().unwrap_or_default()
        )));
    }
    let node = body["target"]["name"].as_str().unwrap_or("").to_string();
    if node.is_empty() {
        return Err(ApiError::invalid(
            "",
            "Binding",
            &pod_name,
            &[FieldError::required("target.name", "")],
        ));
    }
    let pods = api_types::resources::find("", "v1", "pods")
        .ok_or_else(|| ApiError::internal("pods missing"))?;
    let pod_req = ResourceRequest {
        resource: pods,
        namespace: req.namespace.clone(),
        name: Some(pod_name.clone()),
        subresource: None,
        verb: "update",
    };
    guaranteed_update(server, &pod_req, |pod| {
        if pod.metadata.deletion_timestamp.is_some() {
            return Err(ApiError::conflict(
                pods,
                &pod_name,
                "pod is being deleted, cannot be assigned to a host",
            ));
        }
        if let Some(existing) = pod.data["spec"]["nodeName"]
            .as_str()
            .filter(|n| !n.is_empty())
        {
            return Err(ApiError::conflict(
                pods,
                &pod_name,
                &format!("pod {pod_name} is already assigned to node \"{existing}\""),
            ));
        }
        let mut new = pod.clone();
        new.data["spec"]["nodeName"] = Value::String(node.clone());
        let conditions = new.data["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut conditions: Vec<Value> = conditions
            .into_iter()
            .filter(|c| c["type"] != "PodScheduled")
            .collect();
        conditions.push(
            json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null,
            "lastTransitionTime": objects::now_time()}),
        );
        new.data["status"]["conditions"] = Value::Array(conditions);
        Ok(Some(new))
    })
    .await?;
    Ok(json_response(
        StatusCode::CREATED,
        serde_json::to_vec(&api_types::status::success_status(None)).map_err(ApiError::internal)?,
    ))
}

/// The create-only kinds: reviews answered from the request's identity and the
/// authorizer, and Bindings.
pub fn review(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let r = req.resource;
    let format = crate::negotiate::body_format(ctx.content_type.as_deref())?;
    let mut body =
        objects::parse_body(&ctx.body, format).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !body.is_object() {
        return Err(ApiError::bad_request(format!(
            "{}: the object must be a JSON object",
            r.kind
        )));
    }
    body["apiVersion"] = Value::String(r.api_version());
    body["kind"] = Value::String(r.kind.to_string());
    let user_json =
        |u: &crate::authn::UserInfo| json!({"username": u.name, "uid": u.uid, "groups": u.groups});
    match (r.group, r.plural) {
        ("authentication.k8s.io", "selfsubjectreviews") => {
            body["status"] = json!({ "userInfo": user_json(&ctx.user) });
        }
        ("authentication.k8s.io", "tokenreviews") => {
            let token = body["spec"]["token"].as_str().unwrap_or("");
            match server.authn.tokens.lookup(token) {
                Some(u) => body["status"] = json!({"authenticated": true, "user": user_json(u)}),
                None => {
                    body["status"] =
                        json!({"authenticated": false, "error": "invalid bearer token"})
                }
            }
        }
        ("authorization.k8s.io", _) => {
            let attrs = &body["spec"]["resourceAttributes"];
            let subject = if r.plural.starts_with("self") {
                ctx.user.clone()
            } else {
                crate::authn::UserInfo {
                    name: body["spec"]["user"].as_str().unwrap_or("").to_string(),
                    uid: body["spec"]["uid"].as_str().unwrap_or("").to_string(),
                    groups: body["spec"]["groups"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|g| g.as_str().map(str::to_string))
                        .collect(),
                }
            };
            let s = |k: &str| attrs[k].as_str().unwrap_or("").to_string();
            let namespace = if r.plural == "localsubjectaccessreviews" {
                req.namespace.clone().unwrap_or_default()
            } else {
                s("namespace")
            };
            let (verb, group, resource, sub, name) = (
                s("verb"),
                s("group"),
                s("resource"),
                s("subresource"),
                s("name"),
            );
            let decision = server.authz.authorize(&Attributes {
                user: &subject,
                verb: &verb,
                group: &group,
                resource: &resource,
                subresource: &sub,
                namespace: &namespace,
                name: &name,
                path: body["spec"]["nonResourceAttributes"]["path"]
                    .as_str()
                    .unwrap_or(""),
            });
            body["status"] = match decision {
                Ok(()) => json!({"allowed": true}),
                Err(e) => json!({"allowed": false, "reason": e.message}),
            };
        }
        _ => {
            return Err(ApiError::method_not_allowed(format!(
                "create is not supported on {}",
                r.group_resource()
            )))
        }
    }
    Ok(json_response(
        StatusCode::CREATED,
        serde_json::to_vec(&body).map_err(ApiError::internal)?,
    ))
}
