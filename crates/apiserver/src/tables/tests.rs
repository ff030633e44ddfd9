//! Table printing tests: typed k8s-openapi objects go through serde_json into a
//! DynamicObject, as stored objects do, and the cells are compared with what upstream's
//! printers produce for the same objects.

mod core_kinds;
mod pods;
mod workloads;

use api_types::resources::{self, ResourceInfo};
use api_types::table::IncludeObject;
use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, NamespaceStatus, Secret};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta, Time};
use k8s_openapi::ByteString;
use serde::Serialize;
use serde_json::{json, Value};

use super::{column_definitions, row_cells, to_table};

pub(super) fn now() -> Timestamp {
    "2025-06-01T12:00:00Z".parse().unwrap()
}

/// A time `secs` seconds before [`now`].
pub(super) fn ago(secs: i64) -> Time {
    Time(now() - jiff::SignedDuration::from_secs(secs))
}

pub(super) fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some("default".to_string()),
        creation_timestamp: Some(ago(300)),
        ..Default::default()
    }
}

pub(super) fn dynamic<T: Serialize>(typed: &T) -> DynamicObject {
    serde_json::from_value(serde_json::to_value(typed).unwrap()).unwrap()
}

pub(super) fn info(group: &str, version: &str, plural: &str) -> &'static ResourceInfo {
    resources::find(group, version, plural).unwrap()
}

pub(super) fn cells_of<T: Serialize>(
    group: &str,
    version: &str,
    plural: &str,
    typed: &T,
) -> Vec<Value> {
    row_cells(info(group, version, plural), &dynamic(typed), now())
}

/// Column headers as kubectl prints them, with their priority.
pub(super) fn headers(r: &ResourceInfo) -> Vec<(String, i32)> {
    column_definitions(r)
        .into_iter()
        .map(|c| (c.name.to_uppercase(), c.priority))
        .collect()
}

pub(super) fn strs(v: &[(&str, i32)]) -> Vec<(String, i32)> {
    v.iter().map(|(n, p)| (n.to_string(), *p)).collect()
}

#[test]
fn namespaces_print_phase() {
    let ns = Namespace {
        metadata: ObjectMeta {
            namespace: None,
            ..meta("kube-system")
        },
        status: Some(NamespaceStatus {
            phase: Some("Active".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let r = info("", "v1", "namespaces");
    assert_eq!(headers(r), strs(&[("NAME", 0), ("STATUS", 0), ("AGE", 0)]));
    assert_eq!(
        cells_of("", "v1", "namespaces", &ns),
        vec![json!("kube-system"), json!("Active"), json!("5m")]
    );
    let terminating = Namespace {
        status: Some(NamespaceStatus {
            phase: Some("Terminating".into()),
            ..Default::default()
        }),
        ..ns
    };
    assert_eq!(
        cells_of("", "v1", "namespaces", &terminating)[1],
        json!("Terminating")
    );
}

#[test]
fn config_maps_count_data_and_binary_data() {
    let cm = ConfigMap {
        metadata: meta("cfg"),
        data: Some([("a".into(), "1".into()), ("b".into(), "2".into())].into()),
        binary_data: Some([("c".into(), ByteString(vec![1]))].into()),
        ..Default::default()
    };
    let r = info("", "v1", "configmaps");
    assert_eq!(headers(r), strs(&[("NAME", 0), ("DATA", 0), ("AGE", 0)]));
    assert_eq!(
        cells_of("", "v1", "configmaps", &cm),
        vec![json!("cfg"), json!(3), json!("5m")]
    );
    let empty = ConfigMap {
        metadata: meta("empty"),
        ..Default::default()
    };
    assert_eq!(cells_of("", "v1", "configmaps", &empty)[1], json!(0));
}

#[test]
fn secrets_print_type_and_data_count() {
    let secret = Secret {
        metadata: meta("tls"),
        type_: Some("kubernetes.io/tls".into()),
        data: Some(
            [
                ("tls.crt".into(), ByteString(vec![1])),
                ("tls.key".into(), ByteString(vec![2])),
            ]
            .into(),
        ),
        ..Default::default()
    };
    let r = info("", "v1", "secrets");
    assert_eq!(
        headers(r),
        strs(&[("NAME", 0), ("TYPE", 0), ("DATA", 0), ("AGE", 0)])
    );
    assert_eq!(
        cells_of("", "v1", "secrets", &secret),
        vec![
            json!("tls"),
            json!("kubernetes.io/tls"),
            json!(2),
            json!("5m")
        ]
    );
}

#[test]
fn kinds_without_a_printer_get_name_and_created_at() {
    let role = ClusterRole {
        metadata: ObjectMeta {
            name: Some("admin".into()),
            creation_timestamp: Some(Time("2024-03-05T06:07:08Z".parse().unwrap())),
            ..Default::default()
        },
        ..Default::default()
    };
    let r = info("rbac.authorization.k8s.io", "v1", "clusterroles");
    let cols = column_definitions(r);
    assert_eq!(cols.len(), 2);
    assert_eq!(
        (
            cols[0].name.as_str(),
            cols[0].type_.as_str(),
            cols[0].format.as_str()
        ),
        ("Name", "string", "name")
    );
    assert_eq!(
        (cols[1].name.as_str(), cols[1].type_.as_str()),
        ("Created At", "date")
    );
    assert!(cols[1]
        .description
        .starts_with("CreationTimestamp is a timestamp"));
    assert_eq!(
        cells_of("rbac.authorization.k8s.io", "v1", "clusterroles", &role),
        vec![json!("admin"), json!("2024-03-05T06:07:08Z")]
    );
    let crd = info("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    assert_eq!(headers(crd), strs(&[("NAME", 0), ("CREATED AT", 0)]));
}

#[test]
fn custom_resources_get_name_and_age() {
    let mut r = *info("", "v1", "configmaps");
    r.group = "example.com";
    r.kind = "Widget";
    r.plural = "widgets";
    let cols = column_definitions(&r);
    assert_eq!(cols.len(), 2);
    assert_eq!(
        (cols[1].name.as_str(), cols[1].type_.as_str()),
        ("Age", "date")
    );
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "creationTimestamp": "2025-06-01T11:00:00Z"},
        "spec": {"size": 3},
    }))
    .unwrap();
    assert_eq!(row_cells(&r, &obj, now()), vec![json!("w1"), json!("60m")]);
}

#[test]
fn malformed_objects_fall_back_without_panicking() {
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "broken", "creationTimestamp": "2025-06-01T11:55:00Z"},
        "spec": {"containers": "not-a-list"},
    }))
    .unwrap();
    let r = info("", "v1", "pods");
    let cells = row_cells(r, &obj, now());
    assert_eq!(cells.len(), column_definitions(r).len());
    assert_eq!(cells[0], json!("broken"));
    assert_eq!(cells[1], json!("<unknown>"));
    assert_eq!(cells[4], json!("5m"));
    // No creation timestamp at all: upstream's "<unknown>" age.
    let bare: DynamicObject = serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
    let cm = info("", "v1", "configmaps");
    assert_eq!(
        row_cells(cm, &bare, now()),
        vec![json!("x"), json!(0), json!("<unknown>")]
    );
}

#[test]
fn every_builtin_kind_fills_one_cell_per_column() {
    for r in resources::BUILTIN.iter().filter(|r| r.is_stored()) {
        let obj: DynamicObject = serde_json::from_value(json!({
            "apiVersion": r.api_version(), "kind": r.kind,
            "metadata": {"name": "x", "creationTimestamp": "2025-06-01T11:00:00Z"},
        }))
        .unwrap();
        let cells = row_cells(r, &obj, now());
        let columns = column_definitions(r);
        // Upstream prints an AGE cell for IP addresses without declaring the column.
        let extra = usize::from(r.kind == "IPAddress");
        assert_eq!(cells.len(), columns.len() + extra, "{r:?}");
        assert_eq!(
            cells[columns.iter().position(|c| c.format == "name").unwrap()],
            json!("x"),
            "{r:?}"
        );
        for c in &columns {
            assert!(
                c.type_ == "string"
                    || c.type_ == "integer"
                    || c.type_ == "boolean"
                    || c.type_ == "date",
                "{r:?}"
            );
            assert!(c.priority == 0 || c.priority == 1, "{r:?}");
        }
    }
}

#[test]
fn descriptions_come_from_the_api_docs() {
    let cols = column_definitions(info("", "v1", "services"));
    assert!(cols[0]
        .description
        .starts_with("Name must be unique within a namespace."));
    assert!(cols[1]
        .description
        .starts_with("type determines how the Service is exposed."));
    assert!(!cols[1].description.contains("Possible enum values"));
    let pod_cols = column_definitions(info("", "v1", "pods"));
    assert_eq!(
        pod_cols[1].description,
        "The aggregate readiness state of this pod for accepting traffic."
    );
    assert!(
        pod_cols[5].description.contains("podIP"),
        "{}",
        pod_cols[5].description
    );
    // Cached sets come back identical.
    assert_eq!(column_definitions(info("", "v1", "pods")), pod_cols);
}

#[test]
fn to_table_embeds_objects_as_asked() {
    let r = info("", "v1", "configmaps");
    let cm = ConfigMap {
        metadata: meta("cfg"),
        data: Some([("k".into(), "v".into())].into()),
        ..Default::default()
    };
    let objs = vec![dynamic(&cm)];
    let list_meta = ListMeta {
        resource_version: Some("42".into()),
        ..Default::default()
    };

    let table = to_table(r, &objs, IncludeObject::Metadata, list_meta.clone(), now());
    let v = serde_json::to_value(&table).unwrap();
    assert_eq!(v["apiVersion"], json!("meta.k8s.io/v1"));
    assert_eq!(v["kind"], json!("Table"));
    assert_eq!(v["metadata"], json!({"resourceVersion": "42"}));
    assert_eq!(v["columnDefinitions"][0]["name"], json!("Name"));
    assert_eq!(v["columnDefinitions"][0]["format"], json!("name"));
    assert_eq!(v["rows"][0]["cells"], json!(["cfg", 1, "5m"]));
    assert_eq!(
        v["rows"][0]["object"],
        json!({
            "apiVersion": "meta.k8s.io/v1",
            "kind": "PartialObjectMetadata",
            "metadata": {"name": "cfg", "namespace": "default", "creationTimestamp": "2025-06-01T11:55:00Z"},
        })
    );
    assert!(v["rows"][0].get("conditions").is_none());

    let table = to_table(r, &objs, IncludeObject::Object, list_meta.clone(), now());
    let object = &serde_json::to_value(&table).unwrap()["rows"][0]["object"];
    assert_eq!(object["apiVersion"], json!("v1"));
    assert_eq!(object["kind"], json!("ConfigMap"));
    assert_eq!(object["data"], json!({"k": "v"}));

    // An object stored without apiVersion/kind still gets them when embedded.
    let mut bare = objs[0].clone();
    bare.types = None;
    let table = to_table(r, &[bare], IncludeObject::Object, list_meta.clone(), now());
    assert_eq!(
        table.rows[0].object.as_ref().unwrap()["kind"],
        json!("ConfigMap")
    );

    let table = to_table(r, &objs, IncludeObject::None, list_meta, now());
    assert!(serde_json::to_value(&table).unwrap()["rows"][0]
        .get("object")
        .is_none());

    let empty = to_table(r, &[], IncludeObject::Metadata, ListMeta::default(), now());
    assert_eq!(serde_json::to_value(&empty).unwrap()["rows"], json!([]));
}
