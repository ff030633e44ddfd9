//! The types structured merge works with, compiled from the definitions of the served
//! `/openapi/v2` document the way kube-openapi's `schemaconv` converts them: structs and
//! maps (granular unless `x-kubernetes-map-type: atomic`), lists (`atomic` unless
//! `x-kubernetes-list-type` or a merge patch strategy says otherwise) and scalars. The
//! document already carries the `x-kubernetes-*` extensions of
//! [`crate::openapi::extensions`], so reading it keeps one source of truth (and covers
//! whatever else the document describes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value};

const REF_PREFIX: &str = "#/definitions/";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const RAW_EXTENSION: &str = "io.k8s.apimachinery.pkg.runtime.RawExtension";

/// List-map key fields with a default (upstream publishes `default`; the k8s-openapi
/// schemas do not): an item omitting them is keyed with the default.
const KEY_DEFAULTS: &[(&str, &str, &str)] = &[
    ("io.k8s.api.core.v1.ContainerPort", "protocol", "TCP"),
    ("io.k8s.api.core.v1.ServicePort", "protocol", "TCP"),
];

/// Any value, kept whole (upstream's `__untyped_atomic_`).
pub(crate) const UNTYPED: usize = 0;
/// Any value; maps merge key by key (upstream's `__untyped_deduced_`).
pub(crate) const DEDUCED: usize = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Numeric,
    String,
    Boolean,
    Untyped,
}

/// A use of a type; `atomic` overrides the map type where a property says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypeRef {
    pub(crate) node: usize,
    pub(crate) atomic: Option<bool>,
}

impl TypeRef {
    pub(crate) const fn of(node: usize) -> TypeRef {
        TypeRef { node, atomic: None }
    }
}

#[derive(Debug)]
pub(crate) struct ListType {
    pub(crate) element: TypeRef,
    pub(crate) atomic: bool,
    /// Key fields of a `map` list; empty for a `set`.
    pub(crate) keys: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) ty: TypeRef,
    pub(crate) default: Option<Value>,
}

#[derive(Debug)]
pub(crate) struct MapType {
    /// Declared fields (a struct); empty for a plain map.
    pub(crate) fields: HashMap<String, Field>,
    /// The type of undeclared keys; `None` rejects them.
    pub(crate) element: Option<TypeRef>,
    pub(crate) atomic: bool,
}

impl MapType {
    /// The type of `key`; undeclared keys of a struct without an element type get
    /// `None` (strict) or the deduced type (lenient, for live objects).
    pub(crate) fn field_type(&self, key: &str) -> Option<TypeRef> {
        match self.fields.get(key) {
            Some(f) => Some(f.ty),
            None => self.element,
        }
    }
}

/// A type: the forms its values may take.
#[derive(Debug, Default)]
pub(crate) struct Atom {
    pub(crate) scalar: Option<Scalar>,
    pub(crate) list: Option<ListType>,
    pub(crate) map: Option<MapType>,
}

/// A resolved use of a type.
pub(crate) struct Resolved<'a> {
    pub(crate) scalar: Option<Scalar>,
    pub(crate) list: Option<&'a ListType>,
    pub(crate) map: Option<(&'a MapType, bool)>,
}

impl Resolved<'_> {
    /// The map form, whether the map is atomic.
    pub(crate) fn map_atomic(&self) -> bool {
        self.map.is_some_and(|(_, atomic)| atomic)
    }

    /// Whether a value of this type is a struct whose absence Go would have encoded as
    /// an empty object (non-pointer struct fields always exist in Go objects).
    pub(crate) fn is_struct(&self) -> bool {
        matches!(self.map, Some((m, false)) if !m.fields.is_empty())
    }
}

#[derive(Debug)]
pub struct Schema {
    atoms: Vec<Atom>,
    by_name: HashMap<String, usize>,
}

fn untyped_atom(element_map: usize, map_atomic: bool) -> Atom {
    Atom {
        scalar: Some(Scalar::Untyped),
        list: Some(ListType {
            element: TypeRef::of(UNTYPED),
            atomic: true,
            keys: Vec::new(),
        }),
        map: Some(MapType {
            fields: HashMap::new(),
            element: Some(TypeRef::of(element_map)),
            atomic: map_atomic,
        }),
    }
}

impl Schema {
    /// A schema with no definitions: every object is deduced.
    pub(crate) fn empty() -> Schema {
        Schema {
            atoms: vec![untyped_atom(UNTYPED, true), untyped_atom(DEDUCED, false)],
            by_name: HashMap::new(),
        }
    }

    /// Compiles the `definitions` of a swagger 2.0 document.
    pub(crate) fn from_v2_document(doc: &Value) -> Schema {
        let mut s = Schema::empty();
        let Some(Value::Object(defs)) = doc.get("definitions") else {
            return s;
        };
        // One slot per definition first, so refs (and recursive types) resolve.
        for name in defs.keys() {
            s.by_name.insert(name.clone(), s.atoms.len());
            s.atoms.push(Atom::default());
        }
        // A definition that is only a ref is its target (followed a few levels).
        for _ in 0..4 {
            for (name, def) in defs {
                if let Some(target) = ref_name(def) {
                    let slot = s.by_name.get(target).copied().unwrap_or(DEDUCED);
                    s.by_name.insert(name.clone(), slot);
                }
            }
        }
        for (name, def) in defs {
            let atom = if name == QUANTITY {
                Atom {
                    scalar: Some(Scalar::Untyped),
                    ..Atom::default()
                }
            } else if name == RAW_EXTENSION {
                untyped_atom(UNTYPED, true)
            } else if ref_name(def).is_some() {
                continue;
            } else {
                let mut atom = s.parse(def, false);
                if let Some(m) = atom.map.as_mut() {
                    for (def_name, prop, default) in KEY_DEFAULTS {
                        if def_name == name {
                            if let Some(f) = m.fields.get_mut(*prop) {
                                f.default.get_or_insert_with(|| Value::from(*default));
                            }
                        }
                    }
                }
                atom
            };
            if let Some(slot) = s.by_name.get(name).and_then(|&i| s.atoms.get_mut(i)) {
                *slot = atom;
            }
        }
        s
    }

    /// The type of a definition; unknown definitions are deduced from their values.
    pub(crate) fn root(&self, definition: &str) -> TypeRef {
        TypeRef::of(self.by_name.get(definition).copied().unwrap_or(DEDUCED))
    }

    pub(crate) fn resolve(&self, tr: TypeRef) -> Resolved<'_> {
        match self.atoms.get(tr.node) {
            Some(a) => Resolved {
                scalar: a.scalar,
                list: a.list.as_ref(),
                map: a.map.as_ref().map(|m| (m, tr.atomic.unwrap_or(m.atomic))),
            },
            None => Resolved {
                scalar: Some(Scalar::Untyped),
                list: None,
                map: None,
            },
        }
    }

    /// The type at a schema position: a ref, or an inline schema compiled into a new slot.
    fn type_ref(&mut self, s: &Value, preserve_unknown: bool) -> TypeRef {
        if let Some(name) = ref_name(s) {
            let node = self.by_name.get(name).copied().unwrap_or(DEDUCED);
            let atomic = match s.get("x-kubernetes-map-type").and_then(Value::as_str) {
                Some("atomic") => Some(true),
                Some("granular") => Some(false),
                _ => None,
            };
            return TypeRef { node, atomic };
        }
        let atom = self.parse(s, preserve_unknown);
        self.atoms.push(atom);
        TypeRef::of(self.atoms.len() - 1)
    }

    fn parse(&mut self, s: &Value, mut preserve_unknown: bool) -> Atom {
        let Value::Object(m) = s else {
            return untyped_atom(DEDUCED, false);
        };
        if m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
            preserve_unknown = true;
        }
        let ty = match m.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or(""),
            _ if m.contains_key("properties") => "object",
            _ => "",
        };
        match ty {
            "object" => Atom {
                map: Some(self.parse_object(m, preserve_unknown)),
                ..Atom::default()
            },
            "array" => Atom {
                list: Some(self.parse_list(m, preserve_unknown)),
                ..Atom::default()
            },
            "" => Atom {
                scalar: Some(Scalar::Untyped),
                list: Some(self.parse_list(m, preserve_unknown)),
                map: Some(self.parse_object(m, preserve_unknown)),
            },
            "integer" | "number" => scalar(Scalar::Numeric),
            "boolean" => scalar(Scalar::Boolean),
            "string" => match m.get("format").and_then(Value::as_str).unwrap_or("") {
                "" | "byte" => scalar(Scalar::String),
                // int-or-string, date-time, ...: decoded by custom unmarshallers.
                _ => scalar(Scalar::Untyped),
            },
            _ => scalar(Scalar::Untyped),
        }
    }

    fn parse_object(&mut self, m: &Map<String, Value>, preserve_unknown: bool) -> MapType {
        let mut fields = HashMap::new();
        let props = match m.get("properties") {
            Some(Value::Object(p)) => Some(p),
            _ => None,
        };
        for (name, prop) in props.into_iter().flatten() {
            let ty = self.type_ref(prop, preserve_unknown);
            let default = prop.get("default").cloned();
            fields.insert(name.clone(), Field { ty, default });
        }
        let element = match m.get("additionalProperties") {
            None if preserve_unknown || fields.is_empty() => Some(TypeRef::of(DEDUCED)),
            None | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(TypeRef::of(DEDUCED)),
            Some(a) => Some(self.type_ref(a, preserve_unknown)),
        };
        MapType {
            fields,
            element,
            atomic: m.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic"),
        }
    }

    fn parse_list(&mut self, m: &Map<String, Value>, preserve_unknown: bool) -> ListType {
        let ext = |k: &str| m.get(k).and_then(Value::as_str);
        let (atomic, keys) = match ext("x-kubernetes-list-type") {
            Some("set") => (false, Vec::new()),
            Some("map") => {
                let keys: Vec<String> = match m.get("x-kubernetes-list-map-keys") {
                    Some(Value::Array(k)) => k
                        .iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect(),
                    _ => Vec::new(),
                };
                (false, keys)
            }
            Some(_) => (true, Vec::new()),
            None => match ext("x-kubernetes-patch-strategy") {
                Some("merge" | "merge,retainKeys") => (
                    false,
                    ext("x-kubernetes-patch-merge-key")
                        .map(|k| vec![k.to_string()])
                        .unwrap_or_default(),
                ),
                _ => (true, Vec::new()),
            },
        };
        let element = match m.get("items") {
            Some(items @ Value::Object(_)) => self.type_ref(items, preserve_unknown),
            _ => TypeRef::of(UNTYPED),
        };
        ListType {
            element,
            atomic,
            keys,
        }
    }
}

fn scalar(s: Scalar) -> Atom {
    Atom {
        scalar: Some(s),
        ..Atom::default()
    }
}

/// The definition a schema refers to (`$ref`, or kube-openapi's single-ref `allOf`).
fn ref_name(s: &Value) -> Option<&str> {
    let r = s
        .get("$ref")
        .and_then(Value::as_str)
        .or_else(|| match s.get("allOf") {
            Some(Value::Array(all)) if all.len() == 1 => all[0].get("$ref")?.as_str(),
            _ => None,
        })?;
    Some(r.strip_prefix(REF_PREFIX).unwrap_or(r))
}

/// The compiled schema of a served OpenAPI document, shared by every field manager built
/// from the same document (keyed by its ETag): compiling costs a parse of the document.
pub(crate) fn for_openapi(openapi: &crate::openapi::OpenApi) -> Arc<Schema> {
    type Cache = Mutex<Option<(String, Arc<Schema>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let etag = openapi.v2_etag();
    let cache = CACHE.get_or_init(|| Mutex::new(None));
    let mut slot = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((tag, schema)) = slot.as_ref() {
        if *tag == etag {
            return schema.clone();
        }
    }
    let schema = match serde_json::from_slice::<Value>(&openapi.v2_json()) {
        Ok(doc) => Arc::new(Schema::from_v2_document(&doc)),
        Err(_) => Arc::new(Schema::empty()),
    };
    *slot = Some((etag, schema.clone()));
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"definitions": {
            "Pod": {"type": "object", "properties": {
                "metadata": {"$ref": "#/definitions/Meta"},
                "spec": {"$ref": "#/definitions/Spec"}
            }},
            "Meta": {"type": "object", "properties": {
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "finalizers": {"type": "array", "items": {"type": "string"},
                    "x-kubernetes-list-type": "set"}
            }},
            "Spec": {"type": "object", "properties": {
                "containers": {"type": "array", "items": {"$ref": "#/definitions/Container"},
                    "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
                "selector": {"$ref": "#/definitions/Meta", "x-kubernetes-map-type": "atomic"},
                "args": {"type": "array", "items": {"type": "string"}},
                "replicas": {"type": "integer"},
                "extra": {"$ref": "#/definitions/Alias"}
            }},
            "Alias": {"$ref": "#/definitions/Meta"},
            "Container": {"type": "object", "properties": {"name": {"type": "string"}}}
        }})
    }

    #[test]
    fn compiles_lists_maps_and_overrides() {
        let s = Schema::from_v2_document(&doc());
        let pod = s.resolve(s.root("Pod"));
        let (pod_map, atomic) = pod.map.unwrap();
        assert!(!atomic && pod.is_struct());
        let spec = s.resolve(pod_map.field_type("spec").unwrap());
        let (spec_map, _) = spec.map.unwrap();
        let containers = s.resolve(spec_map.field_type("containers").unwrap());
        let list = containers.list.unwrap();
        assert_eq!(
            (list.atomic, list.keys.clone()),
            (false, vec!["name".into()])
        );
        assert!(s
            .resolve(spec_map.field_type("selector").unwrap())
            .map_atomic());
        assert!(
            s.resolve(spec_map.field_type("args").unwrap())
                .list
                .unwrap()
                .atomic
        );
        assert_eq!(
            s.resolve(spec_map.field_type("replicas").unwrap()).scalar,
            Some(Scalar::Numeric)
        );
        assert!(spec_map.field_type("unknown").is_none());
        assert!(s.resolve(spec_map.field_type("extra").unwrap()).is_struct());
        // Unknown definitions are deduced: granular maps, atomic lists.
        let unknown = s.resolve(s.root("Nope"));
        assert!(!unknown.map_atomic() && unknown.list.unwrap().atomic);
    }
}
