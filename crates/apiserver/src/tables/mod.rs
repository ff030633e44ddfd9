//! Server-side printing: the Table responses `kubectl get` prints, with upstream's
//! printer columns (pkg/printers/internalversion/printers.go, v1.33).
//!
//! Upstream's server always prints with `Wide: true`, so every row carries the
//! priority-1 cells too and kubectl hides them unless `-o wide`. Kinds without a
//! printer get upstream's defaults: NAME + CREATED AT for built-in kinds
//! (`rest.NewDefaultTableConvertor`) and NAME + AGE for custom resources (the CRD
//! handler's default `Age` column).

mod apps;
mod autoscaling;
mod batch;
mod cluster;
mod core_v1;
mod events;
mod format;
mod networking;
mod pods;
mod storage;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex};

use api_types::resources::ResourceInfo;
use api_types::table::{
    partial_object_metadata, IncludeObject, Table, TableColumnDefinition, TableRow,
    TableRowCondition,
};
use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where a column's description comes from.
#[derive(Clone, Copy)]
pub(crate) enum Desc {
    Text(&'static str),
    /// The OpenAPI description of a field of a k8s-openapi type: the same text upstream
    /// takes from `SwaggerDoc()`.
    Field(fn(&mut SchemaGenerator) -> Schema, &'static str),
}

/// A column as a printer declares it.
#[derive(Clone, Copy)]
pub(crate) struct Col {
    pub name: &'static str,
    pub type_: &'static str,
    pub format: &'static str,
    pub priority: i32,
    pub desc: Desc,
}

pub(crate) const fn col(name: &'static str, type_: &'static str, desc: Desc) -> Col {
    Col {
        name,
        type_,
        format: "",
        priority: 0,
        desc,
    }
}

/// A column only `-o wide` shows.
pub(crate) const fn wide(name: &'static str, type_: &'static str, desc: Desc) -> Col {
    Col {
        name,
        type_,
        format: "",
        priority: 1,
        desc,
    }
}

pub(crate) const fn field<T: JsonSchema>(name: &'static str) -> Desc {
    Desc::Field(T::json_schema, name)
}

pub(crate) const NAME: Col = Col {
    name: "Name",
    type_: "string",
    format: "name",
    priority: 0,
    desc: field::<ObjectMeta>("name"),
};
pub(crate) const AGE: Col = col("Age", "string", field::<ObjectMeta>("creationTimestamp"));
const CREATED_AT: Col = col(
    "Created At",
    "date",
    field::<ObjectMeta>("creationTimestamp"),
);
/// The CRD handler's default column (type `date`, shown as an age).
const CR_AGE: Col = col("Age", "date", field::<ObjectMeta>("creationTimestamp"));

pub(crate) const CONTAINERS_DESC: Desc = Desc::Text("Names of each container in the template.");
pub(crate) const IMAGES_DESC: Desc =
    Desc::Text("Images referenced by each container in the template.");

/// Fills the cells of one row, or `None` when the object does not decode as its kind.
pub(crate) type CellsFn = fn(&DynamicObject, Timestamp) -> Option<Vec<Value>>;

/// A kind's printer: its columns and how one object becomes cells.
pub(crate) struct Printer {
    pub columns: &'static [Col],
    pub cells: CellsFn,
}

static BUILTIN_DEFAULT: Printer = Printer {
    columns: &[NAME, CREATED_AT],
    cells: created_at_cells,
};
static CUSTOM_DEFAULT: Printer = Printer {
    columns: &[NAME, CR_AGE],
    cells: name_age_cells,
};

/// The printer upstream registers for this resource, or upstream's default.
fn printer(r: &ResourceInfo) -> &'static Printer {
    let found = pods::printer(r.group, r.kind)
        .or_else(|| apps::printer(r.group, r.kind))
        .or_else(|| autoscaling::printer(r.group, r.version, r.kind))
        .or_else(|| batch::printer(r.group, r.kind))
        .or_else(|| core_v1::printer(r.group, r.kind))
        .or_else(|| events::printer(r.group, r.kind))
        .or_else(|| networking::printer(r.group, r.kind))
        .or_else(|| storage::printer(r.group, r.kind))
        .or_else(|| cluster::printer(r.group, r.kind));
    match found {
        Some(p) => p,
        None if api_types::resources::find(r.group, r.version, r.plural).is_some() => {
            &BUILTIN_DEFAULT
        }
        None => &CUSTOM_DEFAULT,
    }
}

/// The column definitions of a resource's Table (wide columns included, priority 1).
pub fn column_definitions(r: &ResourceInfo) -> Vec<TableColumnDefinition> {
    resolved_columns(printer(r).columns).to_vec()
}

/// The cells of one object's row, one per column definition. Never panics: an object
/// that does not decode as its kind gets its name, its age and `<unknown>` elsewhere.
pub fn row_cells(r: &ResourceInfo, obj: &DynamicObject, now: Timestamp) -> Vec<Value> {
    let p = printer(r);
    match (p.cells)(obj, now) {
        Some(cells) => cells,
        None => fallback_cells(p.columns, &obj.metadata, now),
    }
}

/// A whole Table: columns, one row per object with its object as `include` asks, and
/// `list_meta` (resourceVersion, continue, remainingItemCount) as upstream copies it.
pub fn to_table(
    r: &ResourceInfo,
    objs: &[DynamicObject],
    include: IncludeObject,
    list_meta: ListMeta,
    now: Timestamp,
) -> Table {
    let mut table = Table::new(list_meta);
    table.column_definitions = column_definitions(r);
    table.rows = objs
        .iter()
        .map(|obj| TableRow {
            cells: row_cells(r, obj, now),
            conditions: row_conditions(r, obj),
            object: embedded_object(r, obj, include),
        })
        .collect();
    table
}

/// Upstream marks finished pods with a `Completed` row condition; no other kind has any.
fn row_conditions(r: &ResourceInfo, obj: &DynamicObject) -> Option<Vec<TableRowCondition>> {
    if r.group.is_empty() && r.kind == "Pod" {
        pods::row_conditions(obj)
    } else {
        None
    }
}

fn embedded_object(r: &ResourceInfo, obj: &DynamicObject, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Metadata => Some(partial_object_metadata(&obj.metadata)),
        IncludeObject::Object => {
            let mut value = serde_json::to_value(obj).ok()?;
            // Upstream converts the object to the request's version, which sets both.
            if let Value::Object(map) = &mut value {
                map.entry("apiVersion")
                    .or_insert_with(|| Value::String(r.api_version()));
                map.entry("kind")
                    .or_insert_with(|| Value::String(r.kind.to_string()));
            }
            Some(value)
        }
    }
}

/// Decodes an object as its k8s-openapi type. apiVersion and kind are left out so a
/// stored object is read whatever version it was written as.
pub(crate) fn typed<T: DeserializeOwned>(obj: &DynamicObject) -> Option<T> {
    let mut map = match &obj.data {
        Value::Object(m) => m.clone(),
        Value::Null => serde_json::Map::new(),
        _ => return None,
    };
    map.remove("apiVersion");
    map.remove("kind");
    map.insert(
        "metadata".to_string(),
        serde_json::to_value(&obj.metadata).ok()?,
    );
    serde_json::from_value(Value::Object(map)).ok()
}

/// `translateTimestampSince`: the age of a timestamp, `<unknown>` when unset.
pub(crate) fn since(
    t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    now: Timestamp,
) -> String {
    match t {
        Some(t) => api_types::table::timestamp_since(t.0, now),
        None => "<unknown>".to_string(),
    }
}

/// The AGE cell of an object.
pub(crate) fn age(meta: &ObjectMeta, now: Timestamp) -> Value {
    Value::String(since(meta.creation_timestamp.as_ref(), now))
}

pub(crate) fn name(meta: &ObjectMeta) -> Value {
    Value::String(meta.name.clone().unwrap_or_default())
}

pub(crate) fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

pub(crate) fn int(v: impl Into<i64>) -> Value {
    Value::from(v.into())
}

/// A length as an integer cell (Go's `int64(len(..))`).
pub(crate) fn count(n: usize) -> Value {
    Value::from(n)
}

fn created_at_cells(obj: &DynamicObject, _now: Timestamp) -> Option<Vec<Value>> {
    // Go formats the zero time as well: 0001-01-01T00:00:00Z.
    let created = match &obj.metadata.creation_timestamp {
        // RFC 3339 without fractions, as Go's time.RFC3339; `write!` rather than
        // `to_string` so a formatting error cannot panic.
        Some(t) => {
            let mut out = String::new();
            match write!(out, "{}", t.0.strftime("%Y-%m-%dT%H:%M:%SZ")) {
                Ok(()) => out,
                Err(_) => t.0.to_string(),
            }
        }
        None => "0001-01-01T00:00:00Z".to_string(),
    };
    Some(vec![name(&obj.metadata), s(created)])
}

fn name_age_cells(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    Some(vec![name(&obj.metadata), age(&obj.metadata, now)])
}

fn fallback_cells(columns: &[Col], meta: &ObjectMeta, now: Timestamp) -> Vec<Value> {
    columns
        .iter()
        .map(|c| match (c.format, c.name) {
            ("name", _) => name(meta),
            (_, "Age") => age(meta, now),
            _ => s("<unknown>"),
        })
        .collect()
}

/// Resolved column sets, keyed by the address and length of their static declaration: looking
/// descriptions up walks k8s-openapi's schemas, which is worth doing once.
type ColumnCache = HashMap<(usize, usize), Arc<[TableColumnDefinition]>>;
static RESOLVED: LazyLock<Mutex<ColumnCache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn resolved_columns(cols: &'static [Col]) -> Arc<[TableColumnDefinition]> {
    let key = (cols.as_ptr() as usize, cols.len());
    if let Some(found) = RESOLVED.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return found.clone();
    }
    let resolved: Arc<[TableColumnDefinition]> = cols
        .iter()
        .map(|c| {
            TableColumnDefinition::new(c.name, c.type_, c.format, &description(c.desc), c.priority)
        })
        .collect();
    RESOLVED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, resolved.clone());
    resolved
}

fn description(desc: Desc) -> String {
    match desc {
        Desc::Text(text) => text.to_string(),
        Desc::Field(schema, field) => {
            let mut generator = SchemaGenerator::default();
            let schema = schema(&mut generator);
            let text = schema
                .get("properties")
                .and_then(|p| p.get(field))
                .and_then(|f| f.get("description"))
                .and_then(Value::as_str)
                .unwrap_or("");
            // OpenAPI appends the enum list that Go's SwaggerDoc does not carry.
            match text.find("\n\nPossible enum values:") {
                Some(end) => text[..end].to_string(),
                None => text.to_string(),
            }
        }
    }
}
