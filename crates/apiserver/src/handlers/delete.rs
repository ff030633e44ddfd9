//! DELETE and DELETECOLLECTION, with finalizers, preconditions, propagation policy and
//! graceful deletion of pods, as upstream's generic registry does them.

use api_types::ApiError;
use http::{Response, StatusCode};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions;

use super::objects;
use super::read::{self, storage_error, Filter};
use crate::admission::namespace_lifecycle;
use crate::request::ResourceRequest;
use crate::server::{json_response, ApiServer, Body, RequestContext};
use crate::storage::StorageError;

fn delete_options(ctx: &RequestContext) -> Result<DeleteOptions, ApiError> {
    let mut opts: DeleteOptions = if ctx.body.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else {
        let format = crate::negotiate::body_format(ctx.content_type.as_deref())?;
        let v = objects::parse_body(&ctx.body, format)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?;
        serde_json::from_value(v)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    if opts.grace_period_seconds.is_none() {
        opts.grace_period_seconds = ctx.query.int("gracePeriodSeconds")?;
    }
    if opts.propagation_policy.is_none() {
        opts.propagation_policy = ctx.query.get("propagationPolicy").map(str::to_string);
    }
    if opts.orphan_dependents.is_none() {
        if let Some(v) = ctx.query.get("orphanDependents") {
            opts.orphan_dependents = Some(v == "true");
        }
    }
    if let Some(p) = opts.propagation_policy.as_deref() {
        if !matches!(p, "Orphan" | "Background" | "Foreground") {
            return Err(ApiError::invalid(
                "",
                "DeleteOptions",
                "",
                &[api_types::validation::FieldError::not_supported(
                    "propagationPolicy",
                    p,
                    &["Foreground", "Background", "Orphan"],
                )],
            ));
        }
    }
    if opts.grace_period_seconds.is_some_and(|g| g < 0) {
        opts.grace_period_seconds = Some(0);
    }
    Ok(opts)
}

/// Deletes one object; returns the object as it was (or is, while finalizers run).
async fn delete_one(
    server: &ApiServer,
    req: &ResourceRequest,
    opts: &DeleteOptions,
    dry_run: bool,
) -> Result<(StatusCode, api_types::DynamicObject), ApiError> {
    let r = req.resource;
    let name = req.name.clone().unwrap_or_default();
    if r.group.is_empty() && r.plural == "namespaces" {
        namespace_lifecycle::admit_delete(&name)?;
    }
    let key = read::key(server, req);
    for _ in 0..8 {
        let old = read::current(server, req).await?;
        let obj = &old.object;
        if let Some(pre) = &opts.preconditions {
            if let Some(uid) = &pre.uid {
                if obj.metadata.uid.as_deref() != Some(uid.as_str()) {
                    return Err(ApiError::conflict(
                        r,
                        &name,
                        &format!(
                            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                            obj.metadata.uid.clone().unwrap_or_default()
                        ),
                    ));
                }
            }
            if let Some(rv) = &pre.resource_version {
                if *rv != old.revision.to_string() {
                    return Err(ApiError::conflict(
                        r,
                        &name,
                        &format!(
                            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                            old.revision
                        ),
                    ));
                }
            }
        }
        let mut new = obj.clone();
        let mut finalizers = new.metadata.finalizers.clone().unwrap_or_default();
        let orphan = opts.propagation_policy.as_deref() == Some("Orphan")
            || opts.orphan_dependents == Some(true);
        let foreground = opts.propagation_policy.as_deref() == Some("Foreground");
        if orphan && !finalizers.iter().any(|f| f == "orphan") {
            finalizers.push("orphan".into());
        }
        if foreground && !finalizers.iter().any(|f| f == "foregroundDeletion") {
            finalizers.push("foregroundDeletion".into());
        }
        let is_pod = r.group.is_empty() && r.plural == "pods";
        let is_namespace = r.group.is_empty() && r.plural == "namespaces";
        // Graceful deletion: a scheduled, unfinished pod waits for its kubelet.
        let grace = if is_pod {
            let phase = obj.data["status"]["phase"].as_str().unwrap_or("");
            let scheduled = obj.data["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty());
            let default = obj.data["spec"]["terminationGracePeriodSeconds"]
                .as_i64()
                .unwrap_or(30);
            let g = opts.grace_period_seconds.unwrap_or(default);
            if !scheduled || phase == "Succeeded" || phase == "Failed" {
                0
            } else {
                g
            }
        } else {
            0
        };
        let pending_ns = is_namespace
            && new.data["spec"]["finalizers"]
                .as_array()
                .is_some_and(|f| !f.is_empty());
        let needs_mark = !finalizers.is_empty() || grace > 0 || pending_ns;
        if !needs_mark {
            if dry_run {
                return Ok((StatusCode::OK, new));
            }
            match server.store.delete(&key, old.revision).await {
                Ok(rev) => {
                    new.metadata.resource_version = Some(rev.to_string());
                    return Ok((StatusCode::OK, new));
                }
                Err(StorageError::Conflict { .. }) => continue,
                Err(e) => return Err(storage_error(e, req)),
            }
        }
        // Already being deleted: only a shorter grace period or a new finalizer
        // changes anything.
        if obj.metadata.deletion_timestamp.is_some() {
            let current_grace = obj.metadata.deletion_grace_period_seconds.unwrap_or(0);
            let same_finalizers = obj.metadata.finalizers.clone().unwrap_or_default() == finalizers;
            if same_finalizers && (!is_pod || grace >= current_grace) {
                return Ok((StatusCode::OK, new));
            }
        }
        let now = jiff::Timestamp::now();
        let at = now
            .checked_add(jiff::SignedDuration::from_secs(grace))
            .unwrap_or(now);
        new.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                jiff::Timestamp::from_second(at.as_second()).unwrap_or(at),
            ));
        new.metadata.deletion_grace_period_seconds = Some(grace);
        new.metadata.finalizers = if finalizers.is_empty() {
            None
        } else {
            Some(finalizers)
        };
        if is_namespace {
            if let Some(status) = new.data.as_object_mut() {
                status.insert("status".into(), serde_json::json!({"phase": "Terminating"}));
            }
        }
        if dry_run {
            return Ok((StatusCode::OK, new));
        }
        let bytes = objects::encode_for_storage_as(r, &new)?;
        match server.store.update(&key, bytes, old.revision).await {
            Ok(rev) => {
                new.metadata.resource_version = Some(rev.to_string());
                let accepted = opts.orphan_dependents == Some(false) || foreground;
                return Ok((
                    if accepted {
                        StatusCode::ACCEPTED
                    } else {
                        StatusCode::OK
                    },
                    new,
                ));
            }
            Err(StorageError::Conflict { .. }) => continue,
            Err(e) => return Err(storage_error(e, req)),
        }
    }
    Err(ApiError::conflict_modified(r, &name))
}

pub async fn delete(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    if !req.resource.has_verb("delete") {
        return Err(ApiError::method_not_allowed(format!(
            "delete is not allowed on {}",
            req.resource.group_resource()
        )));
    }
    let dry_run = objects::dry_run(ctx)?;
    let opts = delete_options(ctx)?;
    let (status, obj) = delete_one(server, req, &opts, dry_run).await?;
    objects::object_response(req.resource, ctx, status, &obj, None)
}

pub async fn delete_collection(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let r = req.resource;
    let dry_run = objects::dry_run(ctx)?;
    let opts = delete_options(ctx)?;
    let filter = Filter::from_query(req, ctx)?;
    let prefix = server.store.resource_prefix(
        r.storage_resource(),
        req.namespace.as_deref().filter(|_| r.namespaced),
    );
    let mut names = Vec::new();
    let mut start = prefix.clone();
    loop {
        let page = server
            .store
            .list(&prefix, Some(&start), 0, 500)
            .await
            .map_err(|e| storage_error(e, req))?;
        for stored in &page.items {
            if let Ok(obj) = read::decode(req, stored) {
                if filter.matches(&obj.object) {
                    names.push((
                        obj.object.metadata.namespace.clone(),
                        obj.object.metadata.name.clone(),
                    ));
                }
            }
        }
        match (page.more, page.items.last()) {
            (true, Some(last)) => start = format!("{}\0", last.key),
            _ => break,
        }
    }
    let mut deleted = Vec::new();
    for (ns, name) in names {
        let one = ResourceRequest {
            namespace: ns,
            name,
            verb: "delete",
            subresource: None,
            resource: r,
        };
        match delete_one(server, &one, &opts, dry_run).await {
            Ok((_, obj)) => deleted.push(obj),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let list = serde_json::json!({
        "kind": r.list_kind,
        "apiVersion": r.api_version(),
        "metadata": {},
        "items": deleted,
    });
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_vec(&list).map_err(ApiError::internal)?,
    ))
}
