//! Workload controllers: deployments, replica sets, stateful sets, daemon sets,
//! controller revisions, replication controllers and pod templates.

use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, DaemonSetSpec, DaemonSetStatus, Deployment, DeploymentSpec,
    DeploymentStatus, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, StatefulSet,
};
use k8s_openapi::api::core::v1::{
    PodSpec, PodTemplate, PodTemplateSpec, ReplicationController, ReplicationControllerSpec,
    ReplicationControllerStatus,
};
use serde_json::Value;

use super::format::{
    format_label_selector, format_labels, label_selector_string, layout_containers, resource_name,
};
use super::{
    age, col, field, int, name, s, typed, wide, Col, Desc, Printer, AGE, CONTAINERS_DESC,
    IMAGES_DESC, NAME,
};

const READY_DESC: Desc = Desc::Text("Number of the pod with ready state");

static DEPLOYMENT_COLUMNS: &[Col] = &[
    NAME,
    col("Ready", "string", READY_DESC),
    col(
        "Up-to-date",
        "string",
        field::<DeploymentStatus>("updatedReplicas"),
    ),
    col(
        "Available",
        "string",
        field::<DeploymentStatus>("availableReplicas"),
    ),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", field::<DeploymentSpec>("selector")),
];

static REPLICA_SET_COLUMNS: &[Col] = &[
    NAME,
    col("Desired", "integer", field::<ReplicaSetSpec>("replicas")),
    col("Current", "integer", field::<ReplicaSetStatus>("replicas")),
    col(
        "Ready",
        "integer",
        field::<ReplicaSetStatus>("readyReplicas"),
    ),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", field::<ReplicaSetSpec>("selector")),
];

static STATEFUL_SET_COLUMNS: &[Col] = &[
    NAME,
    col("Ready", "string", READY_DESC),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
];

static DAEMON_SET_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Desired",
        "integer",
        field::<DaemonSetStatus>("desiredNumberScheduled"),
    ),
    col(
        "Current",
        "integer",
        field::<DaemonSetStatus>("currentNumberScheduled"),
    ),
    col("Ready", "integer", field::<DaemonSetStatus>("numberReady")),
    col(
        "Up-to-date",
        "integer",
        field::<DaemonSetStatus>("updatedNumberScheduled"),
    ),
    col(
        "Available",
        "integer",
        field::<DaemonSetStatus>("numberAvailable"),
    ),
    col("Node Selector", "string", field::<PodSpec>("nodeSelector")),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", field::<DaemonSetSpec>("selector")),
];

static CONTROLLER_REVISION_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Controller",
        "string",
        Desc::Text("Controller of the object"),
    ),
    col(
        "Revision",
        "string",
        field::<ControllerRevision>("revision"),
    ),
    AGE,
];

static REPLICATION_CONTROLLER_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Desired",
        "integer",
        field::<ReplicationControllerSpec>("replicas"),
    ),
    col(
        "Current",
        "integer",
        field::<ReplicationControllerStatus>("replicas"),
    ),
    col(
        "Ready",
        "integer",
        field::<ReplicationControllerStatus>("readyReplicas"),
    ),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide(
        "Selector",
        "string",
        field::<ReplicationControllerSpec>("selector"),
    ),
];

static POD_TEMPLATE_COLUMNS: &[Col] = &[
    NAME,
    col("Containers", "string", CONTAINERS_DESC),
    col("Images", "string", IMAGES_DESC),
    col(
        "Pod Labels",
        "string",
        Desc::Text("The labels for the pod template."),
    ),
];

static DEPLOYMENT: Printer = Printer {
    columns: DEPLOYMENT_COLUMNS,
    cells: deployment,
};
static REPLICA_SET: Printer = Printer {
    columns: REPLICA_SET_COLUMNS,
    cells: replica_set,
};
static STATEFUL_SET: Printer = Printer {
    columns: STATEFUL_SET_COLUMNS,
    cells: stateful_set,
};
static DAEMON_SET: Printer = Printer {
    columns: DAEMON_SET_COLUMNS,
    cells: daemon_set,
};
static CONTROLLER_REVISION: Printer = Printer {
    columns: CONTROLLER_REVISION_COLUMNS,
    cells: controller_revision,
};
static REPLICATION_CONTROLLER: Printer = Printer {
    columns: REPLICATION_CONTROLLER_COLUMNS,
    cells: replication_controller,
};
static POD_TEMPLATE: Printer = Printer {
    columns: POD_TEMPLATE_COLUMNS,
    cells: pod_template,
};

pub(super) fn printer(group: &str, kind: &str) -> Option<&'static Printer> {
    match (group, kind) {
        ("apps", "Deployment") => Some(&DEPLOYMENT),
        ("apps", "ReplicaSet") => Some(&REPLICA_SET),
        ("apps", "StatefulSet") => Some(&STATEFUL_SET),
        ("apps", "DaemonSet") => Some(&DAEMON_SET),
        ("apps", "ControllerRevision") => Some(&CONTROLLER_REVISION),
        ("", "ReplicationController") => Some(&REPLICATION_CONTROLLER),
        ("", "PodTemplate") => Some(&POD_TEMPLATE),
        _ => None,
    }
}

/// Container names and images of a pod template (empty when there is none).
fn template_containers(template: Option<&PodTemplateSpec>) -> (String, String) {
    let containers = template
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    layout_containers(containers)
}

fn deployment(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let d: Deployment = typed(obj)?;
    let spec = d.spec.unwrap_or_default();
    let status = d.status.unwrap_or_default();
    // Upstream prints the defaulted object: replicas defaults to 1.
    let desired = spec.replicas.unwrap_or(1);
    let (containers, images) = template_containers(Some(&spec.template));
    // Deployments print the selector bare (empty, not <none>), <invalid> when broken.
    let selector =
        label_selector_string(Some(&spec.selector)).unwrap_or_else(|()| "<invalid>".to_string());
    Some(vec![
        name(&d.metadata),
        s(format!(
            "{}/{}",
            status.ready_replicas.unwrap_or(0),
            desired
        )),
        int(status.updated_replicas.unwrap_or(0)),
        int(status.available_replicas.unwrap_or(0)),
        age(&d.metadata, now),
        s(containers),
        s(images),
        s(selector),
    ])
}

fn replica_set(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let rs: ReplicaSet = typed(obj)?;
    let spec = rs.spec.unwrap_or_default();
    let status = rs.status.unwrap_or_default();
    let (containers, images) = template_containers(spec.template.as_ref());
    Some(vec![
        name(&rs.metadata),
        int(spec.replicas.unwrap_or(1)),
        int(status.replicas),
        int(status.ready_replicas.unwrap_or(0)),
        age(&rs.metadata, now),
        s(containers),
        s(images),
        s(format_label_selector(Some(&spec.selector))),
    ])
}

fn stateful_set(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let sts: StatefulSet = typed(obj)?;
    let spec = sts.spec.unwrap_or_default();
    let status = sts.status.unwrap_or_default();
    let (containers, images) = template_containers(Some(&spec.template));
    Some(vec![
        name(&sts.metadata),
        s(format!(
            "{}/{}",
            status.ready_replicas.unwrap_or(0),
            spec.replicas.unwrap_or(1)
        )),
        age(&sts.metadata, now),
        s(containers),
        s(images),
    ])
}

fn daemon_set(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let ds: DaemonSet = typed(obj)?;
    let spec = ds.spec.unwrap_or_default();
    let status = ds.status.unwrap_or_default();
    let node_selector = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.as_ref());
    let (containers, images) = template_containers(Some(&spec.template));
    Some(vec![
        name(&ds.metadata),
        int(status.desired_number_scheduled),
        int(status.current_number_scheduled),
        int(status.number_ready),
        int(status.updated_number_scheduled.unwrap_or(0)),
        int(status.number_available.unwrap_or(0)),
        s(format_labels(node_selector)),
        age(&ds.metadata, now),
        s(containers),
        s(images),
        s(format_label_selector(Some(&spec.selector))),
    ])
}

fn controller_revision(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let cr: ControllerRevision = typed(obj)?;
    let controller = cr
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| resource_name(&o.api_version, &o.kind, &o.name))
        .unwrap_or_else(|| "<none>".to_string());
    Some(vec![
        name(&cr.metadata),
        s(controller),
        int(cr.revision),
        age(&cr.metadata, now),
    ])
}

fn replication_controller(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let rc: ReplicationController = typed(obj)?;
    let spec = rc.spec.unwrap_or_default();
    let status = rc.status.unwrap_or_default();
    let (containers, images) = template_containers(spec.template.as_ref());
    Some(vec![
        name(&rc.metadata),
        int(spec.replicas.unwrap_or(1)),
        int(status.replicas),
        int(status.ready_replicas.unwrap_or(0)),
        age(&rc.metadata, now),
        s(containers),
        s(images),
        s(format_labels(spec.selector.as_ref())),
    ])
}

fn pod_template(obj: &DynamicObject, _now: Timestamp) -> Option<Vec<Value>> {
    let pt: PodTemplate = typed(obj)?;
    let (containers, images) = template_containers(pt.template.as_ref());
    let labels = pt
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref());
    Some(vec![
        name(&pt.metadata),
        s(containers),
        s(images),
        s(format_labels(labels)),
    ])
}
