//! Server-side apply (`PATCH` with `application/apply-patch+yaml`) and
//! `metadata.managedFields` tracking, as upstream's field manager does it
//! (k8s.io/apimachinery `pkg/util/managedfields` on structured-merge-diff v4+):
//!
//! - every write records, per manager, the fields it set: applies own exactly the
//!   fields of their configuration (operation `Apply`), other writes own the fields they
//!   changed (operation `Update`, the manager named by `fieldManager` or derived from the
//!   User-Agent, see [`manager_from_user_agent`]);
//! - an apply merges its configuration into the live object along the schema (keyed
//!   lists by key, sets as unions, atomic values whole), fails with a 409 listing the
//!   fields other managers own that it would change (unless forced, which takes them),
//!   and removes fields it applied before and no longer does, unless another manager
//!   owns them;
//! - identity and bookkeeping fields (name, namespace, uid, resourceVersion, generation,
//!   creationTimestamp, managedFields) are never owned, and fields the endpoint's
//!   strategy resets (`status` through the main resource of kinds with a status
//!   subresource, `spec` through `/status`) are not recorded.
//!
//! Everything is pure: JSON in, JSON out, the time passed in.

mod compare;
mod conflicts;
mod fieldset;
mod gojson;
mod lastapplied;
mod managed;
mod merge;
mod schema;
mod typed;
mod updater;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_update;

use std::sync::Arc;

use api_types::resources::ResourceInfo;
use serde_json::{Map, Value};

pub use conflicts::{conflicts_message, print_manager, ApplyError, Conflict};
pub use fieldset::{path_string, Path, PathElement, Set};
pub use managed::{manager_from_user_agent, ManagerId};

use managed::{format_time, Managed, VersionedSet, APPLY, UPDATE};
use schema::{Schema, TypeRef};
use updater::{ConflictSets, Updater};

/// Metadata the server sets (the registry restores them from the stored object).
const SYSTEM_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "selfLink",
];

/// Upstream credits fields that existed before an object's first apply to this manager.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// Computes merged objects and `metadata.managedFields` for writes. Cheap to clone;
/// building one compiles the OpenAPI document's schemas once per document.
#[derive(Clone)]
pub struct FieldManager {
    schema: Arc<Schema>,
}

impl std::fmt::Debug for FieldManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldManager").finish_non_exhaustive()
    }
}

/// What one endpoint (a resource, or one of its subresources) tracks.
struct Endpoint {
    root: TypeRef,
    api_version: String,
    ignored: Set,
    subresource: String,
}

impl FieldManager {
    pub fn new(openapi: crate::openapi::OpenApi) -> Self {
        FieldManager {
            schema: schema::for_openapi(&openapi),
        }
    }

    fn endpoint(&self, r: &ResourceInfo, subresource: Option<&str>) -> Endpoint {
        let subresource = subresource.unwrap_or_default();
        let mut ignored = Set::new();
        let field = |n: &str| PathElement::Field(n.into());
        match subresource {
            "" if r.has_subresource("status") => ignored.insert(&[field("status")]),
            "status" => ignored.insert(&[field("spec")]),
            _ => {}
        }
        Endpoint {
            root: self.schema.root(&(r.schema_name)()),
            api_version: r.api_version(),
            ignored,
            subresource: subresource.to_string(),
        }
    }

    fn updater<'a>(&'a self, ep: &'a Endpoint) -> Updater<'a> {
        Updater {
            schema: &self.schema,
            root: ep.root,
            ignored: &ep.ignored,
            api_version: &ep.api_version,
        }
    }

    /// Server-side apply: merges `config` (the parsed apply body: a whole object with
    /// apiVersion, kind and metadata.name) into `live` (`None`: the apply creates the
    /// object) for `manager`, and returns the new object with its managedFields. Fields
    /// other managers own that the apply would change are a
    /// [`ApplyError::Conflicts`] unless `force`.
    pub fn apply(
        &self,
        r: &ResourceInfo,
        live: Option<&Value>,
        config: &Value,
        manager: &str,
        force: bool,
        now: jiff::Timestamp,
    ) -> Result<Value, ApplyError> {
        self.apply_at(r, "", live, config, manager, force, now)
    }

    /// Server-side apply through a subresource whose body is the object itself
    /// (`kubectl apply --server-side --subresource=status`): only what that endpoint
    /// writes (for `status`, everything but `spec`) is applied and recorded, under an
    /// entry naming the subresource.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_subresource(
        &self,
        r: &ResourceInfo,
        subresource: &str,
        live: Option<&Value>,
        config: &Value,
        manager: &str,
        force: bool,
        now: jiff::Timestamp,
    ) -> Result<Value, ApplyError> {
        self.apply_at(r, subresource, live, config, manager, force, now)
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_at(
        &self,
        r: &ResourceInfo,
        subresource: &str,
        live: Option<&Value>,
        config: &Value,
        manager: &str,
        force: bool,
        now: jiff::Timestamp,
    ) -> Result<Value, ApplyError> {
        let ep = self.endpoint(r, Some(subresource));
        let mut live = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
        let managed = Managed::decode(live.pointer("/metadata/managedFields"))
            .map_err(|e| ApplyError::Internal(format!("failed to decode managed fields: {e}")))?;
        set_managed_fields(&mut live, None);
        self.check_config(r, &ep, config)?;
        let mut applied = config.clone();
        if let Value::Object(c) = &mut applied {
            // The strategy resets status on main-resource writes (and spec on status
            // writes): applying them does nothing.
            match ep.subresource.as_str() {
                "" if !ep.ignored.is_empty() => c.shift_remove("status"),
                "status" => c.shift_remove("spec"),
                _ => None,
            };
            // A configuration always names its object; one that does not must still not
            // let pruning drop the live object's metadata as a whole.
            if let Some(name) = live.pointer("/metadata/name") {
                if let Value::Object(meta) = c
                    .entry("metadata")
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    meta.entry("name").or_insert_with(|| name.clone());
                }
            }
            // Generated manifests carry `creationTimestamp: null`; system fields are the
            // server's, so a null there must not clear them.
            if let Some(Value::Object(meta)) = c.get_mut("metadata") {
                for key in SYSTEM_METADATA {
                    if meta.get(*key).is_some_and(Value::is_null) {
                        meta.shift_remove(*key);
                    }
                }
            }
        }
        let (mut obj, managed) =
            self.apply_migrating(&ep, &live, managed, &applied, manager, force, now)?;
        if manager == lastapplied::KUBECTL && lastapplied::has_annotation(&obj) {
            lastapplied::set(&mut obj, lastapplied::build(config));
        }
        set_managed_fields(&mut obj, managed.encode());
        Ok(obj)
    }

    /// The checks upstream makes before merging: the kind, no managedFields, the schema.
    fn check_config(
        &self,
        r: &ResourceInfo,
        ep: &Endpoint,
        config: &Value,
    ) -> Result<(), ApplyError> {
        let Value::Object(c) = config else {
            return Err(ApplyError::BadRequest(format!(
                "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(config)
            )));
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        let api_version = text(c.get("apiVersion"));
        let kind = text(c.get("kind"));
        let (group, version) = match api_version.matches('/').count() {
            _ if api_version == "/" => ("", ""),
            0 => ("", api_version.as_str()),
            1 => api_version.split_once('/').unwrap_or_default(),
            _ => ("", ""),
        };
        let gvk = format!("{group}/{version}, Kind={kind}");
        if (group, version, kind.as_str()) != (r.group, r.version, r.kind) {
            return Err(ApplyError::BadRequest(format!(
                "invalid object type: {gvk}"
            )));
        }
        if let Some(Value::Array(_)) = config.pointer("/metadata/managedFields") {
            return Err(ApplyError::BadRequest(
                "metadata.managedFields must be nil".into(),
            ));
        }
        let errs = typed::validate(&self.schema, ep.root, config);
        if errs.is_empty() {
            return Ok(());
        }
        let describe = |(path, msg): &(String, String)| {
            if path.is_empty() {
                msg.clone()
            } else {
                format!("{path}: {msg}")
            }
        };
        let detail = match errs.as_slice() {
            [one] => describe(one),
            many => {
                let lines: Vec<String> =
                    many.iter().map(|e| format!("  {}", describe(e))).collect();
                format!("errors:\n{}", lines.join("\n"))
            }
        };
        let meta = |k: &str| text(config.pointer(&format!("/metadata/{k}")));
        Err(ApplyError::BadRequest(format!(
            "failed to create typed patch object ({}/{}; {gvk}): {detail}",
            meta("namespace"),
            meta("name")
        )))
    }

    /// An apply by `kubectl` may take, without conflict, the fields its last client-side
    /// apply set (upstream's lastAppliedManager).
    #[allow(clippy::too_many_arguments)]
    fn apply_migrating(
        &self,
        ep: &Endpoint,
        live: &Value,
        managed: Managed,
        config: &Value,
        manager: &str,
        force: bool,
        now: jiff::Timestamp,
    ) -> Result<(Value, Managed), ApplyError> {
        match self.apply_tracked(ep, live, managed.clone(), config, manager, force, now) {
            Err(ApplyError::Conflicts(conflicts)) if manager == lastapplied::KUBECTL => {
                let Some(allowed) =
                    lastapplied::allowed_conflicts(&self.schema, ep.root, &ep.api_version, live)
                else {
                    return Err(ApplyError::Conflicts(conflicts));
                };
                let remaining: Vec<Conflict> = conflicts
                    .into_iter()
                    .filter(|c| !allowed.has(&c.path))
                    .collect();
                if !remaining.is_empty() {
                    return Err(ApplyError::Conflicts(remaining));
                }
                self.apply_tracked(ep, live, managed, config, manager, true, now)
            }
            other => other,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_tracked(
        &self,
        ep: &Endpoint,
        live: &Value,
        mut managed: Managed,
        config: &Value,
        manager: &str,
        force: bool,
        now: jiff::Timestamp,
    ) -> Result<(Value, Managed), ApplyError> {
        if managed.fields.is_empty() {
            // Whatever the object holds before its first apply belongs to someone.
            let empty = Value::Object(Map::new());
            self.update_tracked(ep, &empty, live, &mut managed, BEFORE_FIRST_APPLY, now);
            managed.cap_update_managers();
        }
        let id = ManagerId::new(or_unknown(manager), APPLY, &ep.api_version, &ep.subresource);
        let changed = self
            .updater(ep)
            .apply(live, config, &mut managed.fields, &id, force)
            .map_err(|c| ApplyError::Conflicts(to_conflicts(c)))?;
        managed.strip_meta(&id);
        let obj = match changed {
            Some(obj) => {
                managed.times.insert(id, format_time(now));
                obj
            }
            None => live.clone(),
        };
        Ok((obj, managed))
    }

    /// Any other write (create, update, patch; `subresource` for writes through one):
    /// `manager` gains the fields that changed between `old` (`None` on create) and
    /// `new`, other managers lose them. Returns `new` with its managedFields.
    pub fn update(
        &self,
        r: &ResourceInfo,
        old: Option<&Value>,
        new: &Value,
        manager: &str,
        subresource: Option<&str>,
        now: jiff::Timestamp,
    ) -> Value {
        if !new.is_object() {
            return new.clone();
        }
        let ep = self.endpoint(r, subresource);
        let mut managed = decode_live_or_new(old, new, !ep.subresource.is_empty());
        let mut obj = new.clone();
        set_managed_fields(&mut obj, None);
        let creating = old
            .and_then(|o| o.pointer("/metadata/uid"))
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        // Upstream starts tracking an object at its creation or first apply only.
        if managed.fields.is_empty() && !creating {
            return obj;
        }
        let mut live = old.cloned().unwrap_or_else(|| Value::Object(Map::new()));
        set_managed_fields(&mut live, None);
        self.update_tracked(&ep, &live, &obj, &mut managed, manager, now);
        managed.cap_update_managers();
        set_managed_fields(&mut obj, managed.encode());
        obj
    }

    /// Records a non-apply write for `manager` (upstream's managedFieldsUpdater: the
    /// entry's time moves only when the write changed something it now owns).
    fn update_tracked(
        &self,
        ep: &Endpoint,
        live: &Value,
        new: &Value,
        managed: &mut Managed,
        manager: &str,
        now: jiff::Timestamp,
    ) {
        let id = ManagerId::new(
            or_unknown(manager),
            UPDATE,
            &ep.api_version,
            &ep.subresource,
        );
        let current = ManagerId::current_operation();
        self.updater(ep)
            .update_op(live, new, &mut managed.fields, &current);
        managed.strip_meta(&current);
        if let Some(vs) = managed.fields.remove(&current) {
            let set = match managed.fields.get(&id) {
                Some(previous) => vs.set.union(&previous.set),
                None => vs.set,
            };
            managed.fields.insert(
                id.clone(),
                VersionedSet {
                    set,
                    api_version: vs.api_version,
                    applied: false,
                },
            );
            managed.times.insert(id, format_time(now));
        }
    }
}

fn or_unknown(manager: &str) -> &str {
    if manager.is_empty() {
        "unknown"
    } else {
        manager
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null | Value::Object(_) => "object",
    }
}

/// Conflicts in upstream's reporting order: by manager identifier, then by path.
fn to_conflicts(sets: ConflictSets) -> Vec<Conflict> {
    sets.into_iter()
        .flat_map(|(manager, set)| {
            set.paths().into_iter().map(move |path| Conflict {
                manager: manager.clone(),
                path,
            })
        })
        .collect()
}

/// Upstream's decodeLiveOrNew: a write may set managedFields itself (an empty list, or
/// one empty entry, clears them); unreadable or absent ones keep the live object's.
/// Subresource writes always keep the live object's.
fn decode_live_or_new(old: Option<&Value>, new: &Value, subresource: bool) -> Managed {
    let from_live = || {
        Managed::decode(old.and_then(|o| o.pointer("/metadata/managedFields"))).unwrap_or_default()
    };
    if subresource {
        return from_live();
    }
    let requested = new.pointer("/metadata/managedFields");
    if let Some(Value::Array(entries)) = requested {
        let reset = match entries.as_slice() {
            [] => true,
            [Value::Object(only)] => only.is_empty(),
            _ => false,
        };
        if reset {
            return Managed::default();
        }
    }
    match Managed::decode(requested) {
        Ok(m) if !m.fields.is_empty() => m,
        _ => from_live(),
    }
}

/// Replaces `metadata.managedFields` (last, where Go's ObjectMeta writes it); `None`
/// removes it.
fn set_managed_fields(obj: &mut Value, entries: Option<Value>) {
    let Value::Object(o) = obj else { return };
    if let Some(Value::Object(meta)) = o.get_mut("metadata") {
        meta.shift_remove("managedFields");
        if let Some(e) = entries {
            meta.insert("managedFields".into(), e);
        }
    } else if let Some(e) = entries {
        let mut meta = Map::new();
        meta.insert("managedFields".into(), e);
        o.insert("metadata".into(), Value::Object(meta));
    }
}
