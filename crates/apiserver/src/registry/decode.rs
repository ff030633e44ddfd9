//! Decoding stored objects into k8s-openapi types the way Go decodes them.
//!
//! Go's JSON decoding leaves a missing field at its zero value and validation then
//! reports it ("spec.containers: Required value"); k8s-openapi instead refuses to
//! decode an object that lacks a field its schema marks required. [`decode`] first
//! fills every missing or null required field with its zero value (walking the type's
//! OpenAPI schema), so validation sees what upstream sees.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use api_types::validation::{FieldError, FieldErrorType};
use api_types::{ApiError, DynamicObject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::Metadata;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::from_typed;

/// Bounds the schema walk (some schemas are recursive).
const MAX_DEPTH: usize = 64;
/// How many `$ref` hops a schema position may take to reach its definition.
const MAX_REF_HOPS: usize = 8;
/// The node of schemas that fill nothing.
const LEAF: usize = 0;

/// What `fill` does at one schema position, precompiled from the type's JSON schema
/// (refs resolved once) so a request walks numbered nodes instead of interpreting
/// schema JSON and JSON pointers.
#[derive(Default)]
struct FillNode {
    /// The schema's `properties`: its required fields with their zero values (`None`
    /// when `properties` does not describe the field: nothing is filled in), and the
    /// node of each property.
    object: Option<FillObject>,
    /// The `additionalProperties` schema (used only for schemas without `properties`).
    additional: Option<usize>,
    /// The `items` schema.
    items: Option<usize>,
}

struct FillObject {
    required: Vec<(Box<str>, Option<Value>)>,
    props: HashMap<Box<str>, usize>,
}

/// The compiled fill program of one type.
struct Filler {
    nodes: Vec<FillNode>,
    root: usize,
}

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut s = schema;
    // A few hops at most: definitions refer to definitions.
    for _ in 0..MAX_REF_HOPS {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => match root.pointer(&r[1..]) {
                Some(target) => s = target,
                None => return s,
            },
            _ => return s,
        }
    }
    s
}

fn zero_value(schema: &Value, root: &Value) -> Value {
    let s = resolve(schema, root);
    if s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
        return Value::from(0);
    }
    match s.get("type").and_then(Value::as_str) {
        Some("string") => Value::from(""),
        Some("integer") | Some("number") => Value::from(0),
        Some("boolean") => Value::from(false),
        Some("array") => Value::Array(Vec::new()),
        _ => Value::Object(Map::new()),
    }
}

impl Filler {
    fn compile(root: &Value) -> Filler {
        let mut compiler = Compiler {
            root,
            nodes: vec![FillNode::default()],
            seen: HashMap::new(),
        };
        let root_node = compiler.node(root);
        Filler {
            nodes: compiler.nodes,
            root: root_node,
        }
    }

    fn fill(&self, value: &mut Value) {
        self.walk(value, self.root, 0);
    }

    fn walk(&self, value: &mut Value, node: usize, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let Some(n) = self.nodes.get(node) else {
            return;
        };
        match value {
            Value::Object(map) => {
                if let Some(obj) = &n.object {
                    for (name, zero) in &obj.required {
                        let Some(zero) = zero else { continue };
                        if map.get(&**name).is_none_or(Value::is_null) {
                            map.insert(name.to_string(), zero.clone());
                        }
                    }
                    for (k, v) in map.iter_mut() {
                        if let Some(&p) = obj.props.get(k.as_str()) {
                            self.walk(v, p, depth + 1);
                        }
                    }
                } else if let Some(ap) = n.additional {
                    for v in map.values_mut() {
                        self.walk(v, ap, depth + 1);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item) = n.items {
                    for v in items {
                        self.walk(v, item, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
}

struct Compiler<'a> {
    root: &'a Value,
    nodes: Vec<FillNode>,
    /// Resolved schema positions already compiled (or being compiled: recursive
    /// schemas point back at their own slot).
    seen: HashMap<*const Value, usize>,
}

impl<'a> Compiler<'a> {
    /// The node of a schema position, as `fill` would interpret it there.
    fn node(&mut self, schema: &'a Value) -> usize {
        let s = resolve(schema, self.root);
        if let Some(&i) = self.seen.get(&(s as *const Value)) {
            return i;
        }
        let props = s.get("properties").and_then(Value::as_object);
        let additional = s.get("additionalProperties").filter(|v| v.is_object());
        let items = s.get("items");
        if props.is_none() && additional.is_none() && items.is_none() {
            self.seen.insert(s, LEAF);
            return LEAF;
        }
        let slot = self.nodes.len();
        self.nodes.push(FillNode::default());
        self.seen.insert(s, slot);
        let object = props.map(|props| {
            let required = s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|name| {
                    let zero = props
                        .get(name)
                        .map(|p| zero_value(p, self.root))
                        .filter(|z| !z.is_null());
                    (Box::from(name), zero)
                })
                .collect();
            let props = props
                .iter()
                .map(|(k, p)| (Box::from(k.as_str()), self.node(p)))
                .collect();
            FillObject { required, props }
        });
        let additional = match (&object, additional) {
            (None, Some(ap)) => Some(self.node(ap)),
            _ => None,
        };
        let items = items.map(|it| self.node(it));
        self.nodes[slot] = FillNode {
            object,
            additional,
            items,
        };
        slot
    }
}

/// The fill program of `T`, compiled on first use.
fn filler_of<T: JsonSchema + 'static>() -> Arc<Filler> {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, Arc<Filler>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| RwLock::new(HashMap::new()));
    let id = TypeId::of::<T>();
    if let Some(f) = cache.read().unwrap_or_else(|p| p.into_inner()).get(&id) {
        return f.clone();
    }
    let schema = schemars::SchemaGenerator::default()
        .into_root_schema_for::<T>()
        .to_value();
    let filler = Arc::new(Filler::compile(&schema));
    cache
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(id)
        .or_insert(filler)
        .clone()
}

/// The earliest and latest instants `Time` writes as a four-digit year (0001..=9999).
const TIME_MIN_SECOND: i64 = -62_135_596_800;
const TIME_MAX_SECOND: i64 = 253_402_300_799;

/// Whether `Time` survives its JSON round trip unchanged (whole seconds, four-digit
/// year), so the typed metadata can be copied instead of re-encoded and re-decoded.
fn time_round_trips(t: &Time) -> bool {
    t.0.subsec_nanosecond() == 0 && (TIME_MIN_SECOND..=TIME_MAX_SECOND).contains(&t.0.as_second())
}

fn metadata_round_trips(m: &ObjectMeta) -> bool {
    m.creation_timestamp.as_ref().is_none_or(time_round_trips)
        && m.deletion_timestamp.as_ref().is_none_or(time_round_trips)
        && m.managed_fields
            .iter()
            .flatten()
            .all(|f| f.time.as_ref().is_none_or(time_round_trips))
}

/// `obj` as JSON without its metadata, in the order it serialises in: what
/// `serde_json::to_value(obj)` gives minus the `metadata` entry. None when the object
/// is not a plain one (its metadata does not round-trip, or its other fields are not
/// a map of fields other than `metadata`).
fn value_without_metadata(obj: &DynamicObject) -> Option<Value> {
    let data = match &obj.data {
        Value::Object(data) => Some(data),
        Value::Null => None,
        _ => return None,
    };
    if !metadata_round_trips(&obj.metadata) || data.is_some_and(|d| d.contains_key("metadata")) {
        return None;
    }
    let mut map = Map::with_capacity(data.map_or(0, Map::len) + 2);
    if let Some(t) = &obj.types {
        map.insert("apiVersion".into(), Value::String(t.api_version.clone()));
        map.insert("kind".into(), Value::String(t.kind.clone()));
    }
    for (k, v) in data.into_iter().flatten() {
        map.insert(k.clone(), v.clone());
    }
    Some(Value::Object(map))
}

/// The slow, general form of `decode`: through the whole object's JSON.
fn decode_via_json<T: DeserializeOwned>(
    obj: &DynamicObject,
    filler: &Filler,
) -> Result<T, ApiError> {
    let mut value = serde_json::to_value(obj).map_err(ApiError::internal)?;
    filler.fill(&mut value);
    serde_json::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Decodes `obj` as `T`, treating missing required fields as Go's zero values.
///
/// The metadata is already typed: it is copied rather than encoded and decoded again
/// (which would give the same value: it has no required fields to fill and, checked
/// first, no timestamps that JSON would change).
pub fn decode<T>(obj: &DynamicObject) -> Result<T, ApiError>
where
    T: DeserializeOwned + JsonSchema + Metadata<Ty = ObjectMeta> + 'static,
{
    let filler = filler_of::<T>();
    let Some(mut value) = value_without_metadata(obj) else {
        return decode_via_json(obj, &filler);
    };
    filler.fill(&mut value);
    let mut typed: T =
        serde_json::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))?;
    *typed.metadata_mut() = obj.metadata.clone();
    Ok(typed)
}

/// A decode failure met during validation (defaulting normally reports it first).
pub fn decode_failure(e: &ApiError) -> FieldError {
    FieldError {
        kind: FieldErrorType::Internal,
        field: String::new(),
        value: None,
        detail: e.message.clone(),
    }
}

/// Runs `f` on the decoded form of `obj` and stores the result back (defaulting, prepare).
pub fn with_decoded<T, F>(obj: &mut DynamicObject, f: F) -> Result<(), ApiError>
where
    T: DeserializeOwned + Serialize + JsonSchema + Metadata<Ty = ObjectMeta> + 'static,
    F: FnOnce(&mut T),
{
    let mut typed: T = decode(obj)?;
    f(&mut typed);
    *obj = from_typed(&typed, obj)?;
    Ok(())
}

/// Runs a validation on the decoded form of `obj`.
pub fn validate_decoded<T, F>(obj: &DynamicObject, f: F) -> Vec<FieldError>
where
    T: DeserializeOwned + JsonSchema + Metadata<Ty = ObjectMeta> + 'static,
    F: FnOnce(&T) -> Vec<FieldError>,
{
    match decode::<T>(obj) {
        Ok(t) => f(&t),
        Err(e) => vec![decode_failure(&e)],
    }
}

/// Runs an update validation on the decoded forms of the new and old objects.
pub fn validate_decoded_update<T, F>(
    new: &DynamicObject,
    old: &DynamicObject,
    f: F,
) -> Vec<FieldError>
where
    T: DeserializeOwned + JsonSchema + Metadata<Ty = ObjectMeta> + 'static,
    F: FnOnce(&T, &T) -> Vec<FieldError>,
{
    match (decode::<T>(new), decode::<T>(old)) {
        (Ok(n), Ok(o)) => super::metadata::dedup(f(&n, &o)),
        (Err(e), _) | (_, Err(e)) => vec![decode_failure(&e)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    fn dynobj(v: Value) -> DynamicObject {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn missing_required_fields_become_zero_values() {
        let obj = dynobj(json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"volumes": [{"configMap": {"items": [{}]}}], "initContainers": [{"ports": [{}]}]}
        }));
        let pod: Pod = decode(&obj).unwrap();
        let spec = pod.spec.unwrap();
        assert!(spec.containers.is_empty());
        let vols = spec.volumes.unwrap();
        assert_eq!(vols[0].name, "");
        assert_eq!(
            vols[0].config_map.as_ref().unwrap().items.as_ref().unwrap()[0].key,
            ""
        );
        let init = spec.init_containers.unwrap();
        assert_eq!(init[0].name, "");
        assert_eq!(init[0].ports.as_ref().unwrap()[0].container_port, 0);

        let d: Deployment = decode(&dynobj(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}, "spec": {}}),
        ))
        .unwrap();
        assert!(d.spec.unwrap().template.spec.is_none());
    }

    /// The decoding this module did before the precompiled fill and the metadata copy:
    /// the whole object through JSON, the schema interpreted at every position.
    mod reference {
        use super::super::{resolve, zero_value, MAX_DEPTH};
        use api_types::DynamicObject;
        use schemars::JsonSchema;
        use serde::de::DeserializeOwned;
        use serde_json::Value;

        pub fn fill(value: &mut Value, schema: &Value, root: &Value, depth: usize) {
            if depth > MAX_DEPTH {
                return;
            }
            let s = resolve(schema, root);
            match value {
                Value::Object(map) => {
                    if let Some(props) = s.get("properties").and_then(Value::as_object) {
                        for name in s
                            .get("required")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            let Some(name) = name.as_str() else { continue };
                            if map.get(name).is_none_or(Value::is_null) {
                                let zero =
                                    props.get(name).map_or(Value::Null, |p| zero_value(p, root));
                                if !zero.is_null() {
                                    map.insert(name.to_string(), zero);
                                }
                            }
                        }
                        for (k, v) in map.iter_mut() {
                            if let Some(p) = props.get(k) {
                                fill(v, p, root, depth + 1);
                            }
                        }
                    } else if let Some(ap) = s.get("additionalProperties").filter(|v| v.is_object())
                    {
                        for v in map.values_mut() {
                            fill(v, ap, root, depth + 1);
                        }
                    }
                }
                Value::Array(items) => {
                    if let Some(item_schema) = s.get("items") {
                        for v in items {
                            fill(v, item_schema, root, depth + 1);
                        }
                    }
                }
                _ => {}
            }
        }

        pub fn decode<T: DeserializeOwned + JsonSchema>(obj: &DynamicObject) -> Result<T, String> {
            let mut value = serde_json::to_value(obj).map_err(|e| e.to_string())?;
            let schema = schemars::SchemaGenerator::default()
                .into_root_schema_for::<T>()
                .to_value();
            fill(&mut value, &schema, &schema, 0);
            serde_json::from_value(value).map_err(|e| e.to_string())
        }
    }

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    fn odd_value(r: &mut Lcg) -> Value {
        match r.next() % 12 {
            0 => Value::Null,
            1 => json!(-1),
            2 => json!(""),
            3 => json!([]),
            4 => json!({}),
            5 => json!([{}]),
            6 => json!({"x": null}),
            7 => json!(true),
            8 => json!("2024-01-01T00:00:00.5Z"),
            9 => json!(1.5),
            10 => json!([null]),
            _ => json!("x"),
        }
    }

    /// Damages a value: fields replaced, removed or nulled, entries added to lists.
    fn damage(v: &mut Value, r: &mut Lcg, depth: usize) {
        match v {
            Value::Object(m) => {
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    if depth == 0 && (k == "apiVersion" || k == "kind") {
                        continue;
                    }
                    match r.next() % 10 {
                        0 => {
                            m.insert(k, odd_value(r));
                        }
                        1 => {
                            m.shift_remove(&k);
                        }
                        2 => {
                            m.insert(k, Value::Null);
                        }
                        _ => {
                            if let Some(x) = m.get_mut(&k) {
                                if depth < 14 {
                                    damage(x, r, depth + 1)
                                }
                            }
                        }
                    }
                }
            }
            Value::Array(a) => {
                for x in a.iter_mut() {
                    damage(x, r, depth + 1)
                }
                if r.next().is_multiple_of(4) {
                    a.push(json!({}));
                }
            }
            _ => {}
        }
    }

    /// Every variant of `base` with one object field removed or set to null.
    fn one_field_less(base: &Value) -> Vec<Value> {
        fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        at.push(k.clone());
                        out.push(at.clone());
                        paths(x, at, out);
                        at.pop();
                    }
                }
                Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        at.push(i.to_string());
                        paths(x, at, out);
                        at.pop();
                    }
                }
                _ => {}
            }
        }
        let mut all = Vec::new();
        paths(base, &mut Vec::new(), &mut all);
        let mut out = Vec::new();
        for path in all
            .iter()
            .filter(|p| p.len() > 1 || (p[0] != "apiVersion" && p[0] != "kind"))
        {
            let (last, parent) = path.split_last().unwrap();
            let pointer: String = parent.iter().map(|p| format!("/{p}")).collect();
            for null in [false, true] {
                let mut v = base.clone();
                if let Some(Value::Object(m)) = v.pointer_mut(&pointer) {
                    if null {
                        m.insert(last.clone(), Value::Null);
                    } else {
                        m.shift_remove(last);
                    }
                }
                out.push(v);
            }
        }
        out
    }

    /// The new decode must give exactly what the old one gave, value or error, on the
    /// object, on every variant missing one field, and on randomly damaged copies.
    fn same_as_reference<T>(base: &Value, rounds: usize, seed: u64) -> usize
    where
        T: DeserializeOwned + Serialize + JsonSchema + Metadata<Ty = ObjectMeta> + 'static,
    {
        let mut r = Lcg(seed);
        let mut variants = one_field_less(base);
        for _ in 0..rounds {
            let mut v = base.clone();
            damage(&mut v, &mut r, 0);
            variants.push(v);
        }
        variants.push(base.clone());
        let schema = schemars::SchemaGenerator::default()
            .into_root_schema_for::<T>()
            .to_value();
        let filler = filler_of::<T>();
        let mut decoded = 0;
        for (i, v) in variants.into_iter().enumerate() {
            // The compiled fill does what interpreting the schema did, in the same order.
            let (mut ours, mut theirs) = (v.clone(), v.clone());
            filler.fill(&mut ours);
            reference::fill(&mut theirs, &schema, &schema, 0);
            assert_eq!(ours.to_string(), theirs.to_string(), "fill of {v}");
            let Ok(mut obj) = serde_json::from_value::<DynamicObject>(v) else {
                continue;
            };
            if i % 7 == 3 {
                // Strategies also see objects whose fields a handler changed in place.
                obj.data = Value::Null;
            }
            let ours = decode::<T>(&obj)
                .map(|t| serde_json::to_value(&t).unwrap())
                .map_err(|e| e.message);
            let theirs = reference::decode::<T>(&obj).map(|t| serde_json::to_value(&t).unwrap());
            assert_eq!(
                ours,
                theirs,
                "object {i}: {}",
                serde_json::to_string(&obj).unwrap()
            );
            if ours.is_ok() {
                decoded += 1;
            }
        }
        decoded
    }

    #[test]
    fn decode_matches_the_whole_object_round_trip() {
        use k8s_openapi::api::apps::v1::ReplicaSet;
        use k8s_openapi::api::core::v1::{
            ConfigMap, Namespace, ReplicationController, Secret, Service,
        };
        let meta = json!({"name":"x","namespace":"d","uid":"u","generation":3,
            "creationTimestamp":"2024-05-01T10:00:00Z","deletionTimestamp":"2024-05-01T11:00:00Z",
            "labels":{"a":"b"},"annotations":{"c":"d"},"finalizers":["f"],
            "ownerReferences":[{"apiVersion":"v1","kind":"X","name":"n","uid":"u","controller":true}],
            "managedFields":[{"apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:v":{}}},"manager":"m","operation":"Update","time":"2024-05-01T10:00:00Z"}]});
        let pod = json!({"apiVersion":"v1","kind":"Pod","metadata":meta,
            "spec":{"containers":[{"name":"c","image":"x","ports":[{"containerPort":80}],"env":[{"name":"a","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
            "resources":{"limits":{"cpu":"1"}},"livenessProbe":{"httpGet":{"port":80}}}],
            "volumes":[{"name":"v","configMap":{"items":[{"key":"k","path":"p"}]}}],
            "tolerations":[{"key":"k","operator":"Exists"}]},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}});
        assert!(same_as_reference::<Pod>(&pod, 400, 1) > 40);
        let svc = json!({"apiVersion":"v1","kind":"Service","metadata":meta,
            "spec":{"type":"NodePort","clusterIP":"10.0.0.1","ports":[{"port":80,"nodePort":30000,"targetPort":"http"}],
            "selector":{"a":"b"},"sessionAffinityConfig":{"clientIP":{"timeoutSeconds":5}}},"status":{"loadBalancer":{"ingress":[{"ip":"1.1.1.1","ports":[{"port":1,"protocol":"TCP"}]}]}}});
        assert!(same_as_reference::<Service>(&svc, 300, 2) > 30);
        let cm = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":meta,"data":{"a":"b"},"binaryData":{"c":"eA=="},"immutable":true});
        assert!(same_as_reference::<ConfigMap>(&cm, 300, 3) > 30);
        let secret = json!({"apiVersion":"v1","kind":"Secret","metadata":meta,"type":"Opaque","data":{"a":"eA=="},"stringData":{"x":"y"}});
        assert!(same_as_reference::<Secret>(&secret, 300, 4) > 30);
        let ns = json!({"apiVersion":"v1","kind":"Namespace","metadata":meta,"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}});
        assert!(same_as_reference::<Namespace>(&ns, 300, 5) > 30);
        let template = json!({"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}});
        let deploy = json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":meta,"spec":{"replicas":2,"selector":{"matchLabels":{"a":"b"},"matchExpressions":[{"key":"k","operator":"In","values":["v"]}]},
            "strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":"10%"}},"template":template}});
        assert!(same_as_reference::<Deployment>(&deploy, 300, 6) > 30);
        let rs = json!({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":meta,"spec":{"selector":{"matchLabels":{"a":"b"}},"template":template}});
        assert!(same_as_reference::<ReplicaSet>(&rs, 300, 7) > 30);
        let rc = json!({"apiVersion":"v1","kind":"ReplicationController","metadata":meta,"spec":{"selector":{"a":"b"},"template":template}});
        assert!(same_as_reference::<ReplicationController>(&rc, 300, 8) > 30);
    }

    #[test]
    fn compiled_fill_follows_the_schema_like_the_interpreter() {
        let schema = json!({
            "type": "object",
            "required": ["s", "n", "b", "a", "o", "ios", "r", "absent", 7],
            "properties": {
                "s": {"type": "string"}, "n": {"type": "integer"}, "b": {"type": "boolean"},
                "a": {"type": "array"}, "o": {"type": "object"},
                "ios": {"x-kubernetes-int-or-string": true},
                "r": {"$ref": "#/$defs/Node"},
                "m": {"additionalProperties": {"$ref": "#/$defs/Node"}},
                "both": {"properties": {"p": {"$ref": "#/$defs/Node"}},
                         "additionalProperties": {"$ref": "#/$defs/Node"}},
                "list": {"items": {"$ref": "#/$defs/Alias"}},
                "tuple": {"items": [{"$ref": "#/$defs/Node"}]},
                "dangling": {"$ref": "#/$defs/Missing"},
                "far": {"$ref": "#/$defs/H1"}
            },
            "$defs": {
                "Node": {"required": ["name", "child"], "properties": {
                    "name": {"type": "string"}, "child": {"$ref": "#/$defs/Node"},
                    "kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}},
                "Alias": {"$ref": "#/$defs/Node"},
                "H1": {"$ref": "#/$defs/H2"}, "H2": {"$ref": "#/$defs/H3"},
                "H3": {"$ref": "#/$defs/H4"}, "H4": {"$ref": "#/$defs/H5"},
                "H5": {"$ref": "#/$defs/H6"}, "H6": {"$ref": "#/$defs/H7"},
                "H7": {"$ref": "#/$defs/H8"}, "H8": {"$ref": "#/$defs/H9"},
                "H9": {"required": ["deep"], "properties": {"deep": {"type": "string"}}}
            }
        });
        let filler = Filler::compile(&schema);
        let values = [
            json!({}),
            json!({"s": null, "n": null, "r": {"child": {"child": null, "kids": [{}, null, 1]}}}),
            json!({"m": {"x": {}, "y": {"name": null}, "z": 3}, "both": {"p": {}, "q": {}}}),
            json!({"list": [{}, [], {"child": {}}], "tuple": [{}], "dangling": {}, "far": {}}),
            json!([{}]),
            json!("x"),
        ];
        for v in values {
            let (mut ours, mut theirs) = (v.clone(), v.clone());
            filler.fill(&mut ours);
            reference::fill(&mut theirs, &schema, &schema, 0);
            assert_eq!(ours.to_string(), theirs.to_string(), "fill of {v}");
        }
        // Recursion stops at the same depth.
        let mut deep = json!({});
        for _ in 0..80 {
            deep = json!({ "child": deep });
        }
        let mut wrapped = json!({ "r": deep });
        let (mut ours, mut theirs) = (wrapped.clone(), wrapped.take());
        filler.fill(&mut ours);
        reference::fill(&mut theirs, &schema, &schema, 0);
        assert_eq!(ours.to_string(), theirs.to_string());
    }

    #[test]
    fn metadata_that_json_would_change_takes_the_json_path() {
        let mut obj = dynobj(
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","creationTimestamp":"2024-01-01T00:00:00.25Z"}}),
        );
        assert!(value_without_metadata(&obj).is_none());
        let cm: k8s_openapi::api::core::v1::ConfigMap = decode(&obj).unwrap();
        // Through JSON, as before: second precision.
        assert_eq!(
            cm.metadata.creation_timestamp.map(|t| t.0.as_second()),
            Some(1704067200)
        );
        obj.metadata.creation_timestamp = None;
        assert!(value_without_metadata(&obj).is_some());
    }

    #[test]
    fn wrong_types_are_still_bad_requests() {
        let obj = dynobj(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {"containers": "x"}}),
        );
        assert_eq!(decode::<Pod>(&obj).unwrap_err().code, 400);
    }
}

#[cfg(test)]
#[path = "robustness_tests.rs"]
mod robustness_tests;
