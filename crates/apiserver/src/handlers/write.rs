//! CREATE, UPDATE and PATCH: decode, admit, default, validate, then one etcd
//! transaction guarded by the revision that was read.

use api_types::patch::{self, BuiltinPatchMeta, PatchType};
use api_types::resources::ResourceInfo;
use api_types::{ApiError, DynamicObject};
use http::{Response, StatusCode};
use rand::Rng;
use serde_json::Value;

use super::objects::{self, FieldValidation};
use super::read::{self, storage_error};
use crate::admission;
use crate::fieldmanager;
use crate::registry;
use crate::request::ResourceRequest;
use crate::server::{ApiServer, Body, RequestContext};
use crate::storage::{CachedObject, StorageError};

/// Which part of the object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The object (its status is kept when the kind has a status subresource).
    Main,
    /// Only `.status`.
    Status,
    /// Only `spec.finalizers` (namespaces/finalize).
    Finalize,
}

const GENERATE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const MAX_RETRIES: usize = 8;

/// Upstream's generateName suffix: five characters of a consonant-and-digit alphabet.
fn generate_suffix() -> String {
    let mut rng = rand::rng();
    (0..5)
        .map(|_| GENERATE_ALPHABET[rng.random_range(0..GENERATE_ALPHABET.len())] as char)
        .collect()
}

fn check_namespace(
    r: &ResourceInfo,
    req: &ResourceRequest,
    obj: &mut DynamicObject,
) -> Result<(), ApiError> {
    if r.namespaced {
        let url_ns = req.namespace.clone().unwrap_or_default();
        match obj.metadata.namespace.as_deref() {
            None | Some("") => obj.metadata.namespace = Some(url_ns),
            Some(ns) if ns == url_ns => {}
            Some(_) => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
        }
    } else {
        obj.metadata.namespace = None;
    }
    Ok(())
}

fn response(
    r: &ResourceInfo,
    ctx: &RequestContext,
    status: StatusCode,
    obj: &DynamicObject,
    warnings: &[String],
) -> Result<Response<Body>, ApiError> {
    let mut resp = objects::object_response(r, ctx, status, obj, None)?;
    objects::add_warnings(&mut resp, warnings);
    Ok(resp)
}

/// Fills in what the server owns on a new object.
fn prepare_new(r: &ResourceInfo, obj: &mut DynamicObject) -> Result<(), ApiError> {
    let strategy = registry::strategy_for(r);
    obj.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
    obj.metadata.creation_timestamp = Some(objects::now_time());
    obj.metadata.resource_version = None;
    obj.metadata.deletion_timestamp = None;
    obj.metadata.deletion_grace_period_seconds = None;
    obj.metadata.generation = if strategy.tracks_generation() && obj.data.get("spec").is_some() {
        Some(1)
    } else {
        None
    };
    if r.has_subresource("status") && r.plural != "namespaces" {
        // A create cannot set status on kinds whose status has its own endpoint.
        if let Some(map) = obj.data.as_object_mut() {
            map.remove("status");
        }
    }
    strategy.default(obj)?;
    strategy.prepare_for_create(obj)?;
    let errors = strategy.validate(obj);
    if !errors.is_empty() {
        return Err(ApiError::invalid(
            r.group,
            r.kind,
            obj.metadata.name.as_deref().unwrap_or(""),
            &errors,
        ));
    }
    Ok(())
}

/// The field manager of a write: `?fieldManager=`, else upstream's prefix of the
/// User-Agent ("kubectl-edit", "kubectl-client-side-apply", ...).
pub fn manager(ctx: &RequestContext) -> Result<String, ApiError> {
    match ctx.query.get("fieldManager").filter(|m| !m.is_empty()) {
        Some(m) if m.len() > 128 => Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            &[api_types::validation::FieldError::too_long(
                "fieldManager",
                128,
            )],
        )),
        Some(m) => Ok(m.to_string()),
        None => Ok(fieldmanager::manager_from_user_agent(&ctx.user_agent)),
    }
}

/// Records in managedFields which fields `manager` set with this (non-apply) write.
fn track_update(
    server: &ApiServer,
    r: &ResourceInfo,
    old: Option<&DynamicObject>,
    new: DynamicObject,
    manager: &str,
    target: Target,
) -> Result<DynamicObject, ApiError> {
    let subresource = match target {
        Target::Main => None,
        Target::Status => Some("status"),
        Target::Finalize => Some("finalize"),
    };
    track_subresource_update(server, r, old, new, manager, subresource)
}

/// As `track_update`, for writes through any subresource (scale, say).
pub fn track_subresource_update(
    server: &ApiServer,
    r: &ResourceInfo,
    old: Option<&DynamicObject>,
    new: DynamicObject,
    manager: &str,
    subresource: Option<&str>,
) -> Result<DynamicObject, ApiError> {
    let old_json = match old {
        Some(o) => Some(serde_json::to_value(o).map_err(ApiError::internal)?),
        None => None,
    };
    let new_json = serde_json::to_value(&new).map_err(ApiError::internal)?;
    let tracked = server.field_manager.update(
        r,
        old_json.as_ref(),
        &new_json,
        manager,
        subresource,
        objects::now(),
    );
    serde_json::from_value(tracked).map_err(ApiError::internal)
}

/// Stores a new object (after decoding): namespace checks, name generation,
/// defaulting, validation, admission, field ownership, one etcd create.
async fn insert(
    server: &ApiServer,
    req: &ResourceRequest,
    mut obj: DynamicObject,
    manager: Option<&str>,
    dry_run: bool,
) -> Result<DynamicObject, ApiError> {
    let r = req.resource;
    objects::set_types(&mut obj, r);
    check_namespace(r, req, &mut obj)?;
    if let Some(ns) = obj.metadata.namespace.clone().filter(|_| r.namespaced) {
        admission::namespace_lifecycle::admit_create(server, &ns).await?;
    }
    let generate = obj.metadata.generate_name.clone().filter(|g| !g.is_empty());
    let named = obj.metadata.name.clone().filter(|n| !n.is_empty());
    if named.is_none() && generate.is_none() {
        return Err(ApiError::invalid(
            r.group,
            r.kind,
            "",
            &[api_types::validation::FieldError::required(
                "metadata.name",
                "name or generateName is required",
            )],
        ));
    }
    // Services need addresses from the allocator, serialised against other creates.
    let _alloc_guard = if r.group.is_empty() && r.plural == "services" {
        Some(server.services.lock().await)
    } else {
        None
    };
    for _ in 0..MAX_RETRIES {
        let mut candidate = obj.clone();
        if named.is_none() {
            candidate.metadata.name = generate
                .as_ref()
                .map(|g| format!("{g}{}", generate_suffix()));
        }
        prepare_new(r, &mut candidate)?;
        admission::admit_create(server, r, &mut candidate).await?;
        if let Some(m) = manager {
            candidate = track_update(server, r, None, candidate, m, Target::Main)?;
        }
        let name = candidate.metadata.name.clone().unwrap_or_default();
        // A version stored as another: status the client put in round-trip
        // annotations is dropped like any status on create, and the answer is what
        // was stored, read back in the client's version.
        let keep = r.has_subresource("status").then_some("status");
        let stored = crate::conversion::stored_write(r, keep, None, &candidate)
            .map_err(|e| objects::cannot_handle(r, e))?;
        if let Some((_, view)) = &stored {
            candidate = view.clone();
        }
        if dry_run {
            return Ok(candidate);
        }
        let key = server.store.key(
            r.storage_resource(),
            candidate.metadata.namespace.as_deref(),
            &name,
        );
        let bytes = match &stored {
            Some((stored, _)) => objects::encode_for_storage(stored)?,
            None => objects::encode_for_storage_as(r, &candidate)?,
        };
        match server.store.create(&key, bytes).await {
            Ok(rev) => {
                candidate.metadata.resource_version = Some(rev.to_string());
                return Ok(candidate);
            }
            // A generated name that collided: try another suffix.
            Err(StorageError::AlreadyExists) if named.is_none() => continue,
            Err(StorageError::AlreadyExists) => return Err(ApiError::already_exists(r, &name)),
            Err(e) => return Err(storage_error(e, req)),
        }
    }
    Err(ApiError::new(
        500,
        "AlreadyExists",
        format!(
            "could not find a free name for generateName {:?}",
            generate.unwrap_or_default()
        ),
    ))
}

pub async fn create(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let r = req.resource;
    if req.name.is_some() {
        return Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({})",
            r.group_resource()
        )));
    }
    let dry_run = objects::dry_run(ctx)?;
    let manager = manager(ctx)?;
    let decoded = objects::decode_object(server, r, ctx)?;
    let created = insert(server, req, decoded.object, Some(&manager), dry_run).await?;
    response(r, ctx, StatusCode::CREATED, &created, &decoded.warnings)
}

/// Everything but status and metadata: what a spec change is.
fn spec_part(obj: &DynamicObject) -> Value {
    let mut v = obj.data.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    v
}

/// Builds the object to store from what the client sent and what is stored.
fn merge_for_update(
    r: &ResourceInfo,
    target: Target,
    mut new: DynamicObject,
    old: &DynamicObject,
) -> Result<DynamicObject, ApiError> {
    let strategy = registry::strategy_for(r);
    match target {
        Target::Status => {
            // Only status (and metadata labels/annotations) come from the request.
            let status = new.data.get("status").cloned();
            let mut merged = old.clone();
            match (merged.data.as_object_mut(), status) {
                (Some(m), Some(s)) => {
                    m.insert("status".into(), s);
                }
                (Some(m), None) => {
                    m.remove("status");
                }
                _ => {}
            }
            merged.metadata.labels = new.metadata.labels.take();
            merged.metadata.annotations = new.metadata.annotations.take();
            merged.metadata.resource_version = new.metadata.resource_version.take();
            new = merged;
        }
        Target::Finalize => {
            let finalizers = new.data["spec"]["finalizers"].clone();
            let mut merged = old.clone();
            if let Some(spec) = merged.data.get_mut("spec").and_then(Value::as_object_mut) {
                spec.insert("finalizers".into(), finalizers);
            } else if let Some(m) = merged.data.as_object_mut() {
                m.insert(
                    "spec".into(),
                    serde_json::json!({ "finalizers": finalizers }),
                );
            }
            merged.metadata.resource_version = new.metadata.resource_version.take();
            new = merged;
        }
        Target::Main => {
            if r.has_subresource("status") {
                match (new.data.as_object_mut(), old.data.get("status")) {
                    (Some(m), Some(s)) => {
                        m.insert("status".into(), s.clone());
                    }
                    (Some(m), None) => {
                        m.remove("status");
                    }
                    _ => {}
                }
            }
        }
    }
    // Fields only the server sets.
    new.metadata.uid = old.metadata.uid.clone();
    new.metadata.creation_timestamp = old.metadata.creation_timestamp.clone();
    new.metadata.deletion_timestamp = old.metadata.deletion_timestamp.clone();
    new.metadata.deletion_grace_period_seconds = old.metadata.deletion_grace_period_seconds;
    new.metadata.generation = old.metadata.generation;
    new.metadata.namespace = old.metadata.namespace.clone();
    strategy.default(&mut new)?;
    // Status and finalize writes have their own rules above; the kind's update
    // preparation (which restores status, say) applies to the main resource only.
    if target == Target::Main {
        strategy.prepare_for_update(&mut new, old)?;
    }
    if let Some(g) = old.metadata.generation {
        if spec_part(&new) != spec_part(old) {
            new.metadata.generation = Some(g + 1);
        }
    }
    let errors = strategy.validate_update(&new, old);
    if !errors.is_empty() {
        return Err(ApiError::invalid(
            r.group,
            r.kind,
            old.metadata.name.as_deref().unwrap_or(""),
            &errors,
        ));
    }
    Ok(new)
}

/// Whether two objects are the same apart from resourceVersion.
fn same_object(a: &DynamicObject, b: &DynamicObject) -> bool {
    let strip = |o: &DynamicObject| {
        let mut o = o.clone();
        o.metadata.resource_version = None;
        serde_json::to_value(o).unwrap_or(Value::Null)
    };
    strip(a) == strip(b)
}

/// The write step shared by update and patch: store `new` if `old` is still current.
/// A deleted object whose last finalizer went away is removed instead.
async fn commit(
    server: &ApiServer,
    req: &ResourceRequest,
    old: &CachedObject,
    mut new: DynamicObject,
    target: Option<Target>,
    dry_run: bool,
) -> Result<DynamicObject, StorageError> {
    if same_object(&new, &old.object) {
        return Ok(old.object.clone());
    }
    // Server-side changes (scale, say) bump generation like client updates do.
    if let Some(g) = old.object.metadata.generation {
        if new.metadata.generation == Some(g) && spec_part(&new) != spec_part(&old.object) {
            new.metadata.generation = Some(g + 1);
        }
    }
    // A version stored as another: the status/spec rules and the generation apply to
    // the stored form (an autoscaling/v1 HPA carries part of both in annotations), and
    // the client is answered with what was stored, read back in its version.
    let keep = match target {
        Some(Target::Main) if req.resource.has_subresource("status") => Some("status"),
        Some(Target::Status) => Some("spec"),
        _ => None,
    };
    let stored = match crate::conversion::for_resource(req.resource) {
        None => None,
        Some(_) => {
            // The stored form of `old` (the handlers hold its converted view).
            let raw = server
                .store
                .get(&read::key(server, req))
                .await?
                .ok_or(StorageError::NotFound)?;
            if raw.mod_revision != old.revision {
                return Err(StorageError::Conflict { current: None });
            }
            let old_stored = CachedObject::decode(&raw)?.object;
            crate::conversion::stored_write(req.resource, keep, Some(&old_stored), &new)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?
        }
    };
    if let Some((_, view)) = &stored {
        new = view.clone();
    }
    if dry_run {
        return Ok(new);
    }
    let key = read::key(server, req);
    let finalizers_left = new
        .metadata
        .finalizers
        .as_ref()
        .is_some_and(|f| !f.is_empty())
        || (req.resource.plural == "namespaces"
            && new.data["spec"]["finalizers"]
                .as_array()
                .is_some_and(|f| !f.is_empty()));
    if new.metadata.deletion_timestamp.is_some()
        && !finalizers_left
        && !is_graceful_pending(req.resource, &new)
    {
        let rev = server.store.delete(&key, old.revision).await?;
        new.metadata.resource_version = Some(rev.to_string());
        return Ok(new);
    }
    let bytes = match &stored {
        Some((stored, _)) => objects::encode_for_storage(stored),
        None => objects::encode_for_storage_as(req.resource, &new),
    }
    .map_err(|e| StorageError::Corrupt(e.message))?;
    let rev = server.store.update(&key, bytes, old.revision).await?;
    new.metadata.resource_version = Some(rev.to_string());
    Ok(new)
}

/// Pods being deleted gracefully stay until the kubelet (or the grace period) ends them.
fn is_graceful_pending(r: &ResourceInfo, obj: &DynamicObject) -> bool {
    r.group.is_empty()
        && r.plural == "pods"
        && obj
            .metadata
            .deletion_grace_period_seconds
            .is_some_and(|g| g > 0)
}

pub async fn update(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
    target: Target,
) -> Result<Response<Body>, ApiError> {
    let r = req.resource;
    if !r.has_verb("update") {
        return Err(ApiError::method_not_allowed(format!(
            "update is not allowed on {}",
            r.group_resource()
        )));
    }
    let dry_run = objects::dry_run(ctx)?;
    let decoded = objects::decode_object(server, r, ctx)?;
    let mut obj = decoded.object;
    objects::set_types(&mut obj, r);
    let url_name = req.name.clone().unwrap_or_default();
    match obj.metadata.name.as_deref() {
        None | Some("") => obj.metadata.name = Some(url_name.clone()),
        Some(n) if n == url_name => {}
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({url_name})"
            )))
        }
    }
    check_namespace(r, req, &mut obj)?;
    let precondition = obj
        .metadata
        .resource_version
        .clone()
        .filter(|v| !v.is_empty());
    let manager = manager(ctx)?;
    for _ in 0..MAX_RETRIES {
        let old = read::current(server, req).await?;
        if let Some(rv) = &precondition {
            if *rv != old.revision.to_string() {
                return Err(ApiError::conflict_modified(r, &url_name));
            }
        }
        let retry = precondition.is_none();
        let attempt = replace(
            server,
            req,
            &old,
            obj.clone(),
            target,
            &manager,
            dry_run,
            retry,
        )
        .await?;
        if let Attempt::Done(stored) = attempt {
            return response(r, ctx, StatusCode::OK, &stored, &decoded.warnings);
        }
    }
    Err(ApiError::conflict_modified(r, &url_name))
}

enum Attempt {
    Done(Box<DynamicObject>),
    /// The object changed between read and write: read it again.
    Retry,
}

/// The write step of update, patch and apply: merge with the stored object, record
/// field ownership, and store it if the object is still at the revision read.
#[allow(clippy::too_many_arguments)]
async fn replace(
    server: &ApiServer,
    req: &ResourceRequest,
    old: &CachedObject,
    obj: DynamicObject,
    target: Target,
    manager: &str,
    dry_run: bool,
    retry_on_conflict: bool,
) -> Result<Attempt, ApiError> {
    let r = req.resource;
    let mut new = merge_for_update(r, target, obj, &old.object)?;
    if !same_object(&new, &old.object) {
        new = track_update(server, r, Some(&old.object), new, manager, target)?;
    }
    match commit(server, req, old, new, Some(target), dry_run).await {
        Ok(stored) => Ok(Attempt::Done(Box::new(stored))),
        Err(StorageError::Conflict { .. }) if retry_on_conflict => Ok(Attempt::Retry),
        Err(StorageError::Conflict { .. }) => Err(ApiError::conflict_modified(
            r,
            req.name.as_deref().unwrap_or(""),
        )),
        Err(e) => Err(storage_error(e, req)),
    }
}

/// Applies a PATCH body of the given type to the current JSON of an object.
pub fn apply_patch(
    r: &ResourceInfo,
    current: &Value,
    body: &[u8],
    ty: PatchType,
) -> Result<Value, ApiError> {
    if ty == PatchType::Apply {
        return Err(ApiError::unsupported_media_type(
            "apply patches are not supported on this endpoint",
        ));
    }
    let patch_value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let meta = BuiltinPatchMeta::for_kind(r.group, r.kind);
    patch::apply_patch(ty, current, &patch_value, &meta).map_err(ApiError::from)
}

pub async fn patch(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
    target: Target,
) -> Result<Response<Body>, ApiError> {
    let r = req.resource;
    if !r.has_verb("patch") {
        return Err(ApiError::method_not_allowed(format!(
            "patch is not allowed on {}",
            r.group_resource()
        )));
    }
    let dry_run = objects::dry_run(ctx)?;
    let validation = FieldValidation::from_query(ctx)?;
    let essence = crate::negotiate::content_essence(ctx.content_type.as_deref());
    let ty = PatchType::from_content_type(&essence).ok_or_else(|| {
        ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {essence:?})"
        ))
    })?;
    if ty == PatchType::Apply {
        return server_side_apply(server, req, ctx, target).await;
    }
    let manager = manager(ctx)?;
    let name = req.name.clone().unwrap_or_default();
    for _ in 0..MAX_RETRIES {
        let old = read::current(server, req).await?;
        let current_json = serde_json::to_value(&old.object).map_err(ApiError::internal)?;
        let patched = apply_patch(r, &current_json, &ctx.body, ty)?;
        // A resourceVersion in the patch is a precondition.
        let precondition = patched["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_string);
        if let Some(rv) = &precondition {
            if *rv != old.revision.to_string() {
                return Err(ApiError::conflict_modified(r, &name));
            }
        }
        let decoded = objects::decode_value(server, r, patched, validation)?;
        let mut obj = decoded.object;
        objects::set_types(&mut obj, r);
        if obj.metadata.name.as_deref() != Some(name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                obj.metadata.name.unwrap_or_default()
            )));
        }
        let attempt = replace(server, req, &old, obj, target, &manager, dry_run, true).await?;
        if let Attempt::Done(stored) = attempt {
            return response(r, ctx, StatusCode::OK, &stored, &decoded.warnings);
        }
    }
    Err(ApiError::conflict_modified(r, &name))
}

/// PATCH with application/apply-patch+yaml: server-side apply. The body is the
/// manager's whole intent; the field manager merges it into the live object (or
/// creates the object) and refuses fields other managers own unless `force=true`.
async fn server_side_apply(
    server: &ApiServer,
    req: &ResourceRequest,
    ctx: &RequestContext,
    target: Target,
) -> Result<Response<Body>, ApiError> {
    let r = req.resource;
    let dry_run = objects::dry_run(ctx)?;
    let validation = FieldValidation::from_query(ctx)?;
    let manager = ctx
        .query
        .get("fieldManager")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                &[api_types::validation::FieldError::required(
                    "fieldManager",
                    "is required for apply patch",
                )],
            )
        })?
        .to_string();
    let force = ctx.query.flag("force");
    let config = objects::parse_body(&ctx.body, crate::negotiate::BodyFormat::Yaml)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    let name = req.name.clone().unwrap_or_default();
    if let Some(n) = config["metadata"]["name"].as_str() {
        if n != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
    }
    let subresource = match target {
        Target::Status => Some("status"),
        _ => None,
    };
    for _ in 0..MAX_RETRIES {
        let live = match read::current(server, req).await {
            Ok(o) => Some(o),
            Err(e) if e.code == 404 && subresource.is_none() => None,
            Err(e) => return Err(e),
        };
        let live_json = match &live {
            Some(o) => Some(serde_json::to_value(&o.object).map_err(ApiError::internal)?),
            None => None,
        };
        let now = objects::now();
        let fm = &server.field_manager;
        let applied = match subresource {
            Some(sub) => {
                fm.apply_subresource(r, sub, live_json.as_ref(), &config, &manager, force, now)
            }
            None => fm.apply(r, live_json.as_ref(), &config, &manager, force, now),
        }
        .map_err(ApiError::from)?;
        let decoded = objects::decode_value(server, r, applied, validation)?;
        let mut obj = decoded.object;
        objects::set_types(&mut obj, r);
        obj.metadata.name = Some(name.clone());
        match live {
            None => {
                return match insert(server, req, obj, None, dry_run).await {
                    Ok(created) => {
                        response(r, ctx, StatusCode::CREATED, &created, &decoded.warnings)
                    }
                    // Created by someone else meanwhile: apply onto theirs.
                    Err(e) if e.reason == "AlreadyExists" => continue,
                    Err(e) => Err(e),
                };
            }
            Some(old) => {
                // Ownership is already in the applied object's managedFields.
                let new = merge_for_update(r, target, obj, &old.object)?;
                match commit(server, req, &old, new, Some(target), dry_run).await {
                    Ok(stored) => {
                        return response(r, ctx, StatusCode::OK, &stored, &decoded.warnings)
                    }
                    Err(StorageError::Conflict { .. }) => continue,
                    Err(e) => return Err(storage_error(e, req)),
                }
            }
        }
    }
    Err(ApiError::conflict_modified(r, &name))
}

/// Applies `f` to the stored object in a compare-and-swap loop (for server-side
/// changes such as deletion marks and bindings).
pub async fn guaranteed_update<F>(
    server: &ApiServer,
    req: &ResourceRequest,
    mut f: F,
) -> Result<DynamicObject, ApiError>
where
    F: FnMut(&DynamicObject) -> Result<Option<DynamicObject>, ApiError>,
{
    let name = req.name.clone().unwrap_or_default();
    for _ in 0..MAX_RETRIES {
        let old = read::current(server, req).await?;
        let Some(new) = f(&old.object)? else {
            return Ok(old.object);
        };
        match commit(server, req, &old, new, None, false).await {
            Ok(stored) => return Ok(stored),
            Err(StorageError::Conflict { .. }) => continue,
            Err(e) => return Err(storage_error(e, req)),
        }
    }
    Err(ApiError::conflict_modified(req.resource, &name))
}
