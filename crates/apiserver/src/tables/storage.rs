//! Volumes and storage.k8s.io: persistent volumes and claims, storage classes, CSI
//! drivers, nodes and capacities, volume attachments.

use std::collections::BTreeMap;

use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimStatus, PersistentVolumeSpec, PersistentVolumeStatus,
};
use k8s_openapi::api::storage::v1::{
    CSIDriver, CSIDriverSpec, CSINode, CSIStorageCapacity, StorageClass, VolumeAttachment,
    VolumeAttachmentSource, VolumeAttachmentSpec, VolumeAttachmentStatus,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value;

use super::format::access_modes;
use super::{age, col, count, field, name, s, typed, wide, Col, Desc, Printer, AGE, NAME};

static PV_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Capacity",
        "string",
        field::<PersistentVolumeSpec>("capacity"),
    ),
    col(
        "Access Modes",
        "string",
        field::<PersistentVolumeSpec>("accessModes"),
    ),
    col(
        "Reclaim Policy",
        "string",
        field::<PersistentVolumeSpec>("persistentVolumeReclaimPolicy"),
    ),
    col("Status", "string", field::<PersistentVolumeStatus>("phase")),
    col("Claim", "string", field::<PersistentVolumeSpec>("claimRef")),
    col(
        "StorageClass",
        "string",
        Desc::Text("StorageClass of the pv"),
    ),
    col(
        "VolumeAttributesClass",
        "string",
        Desc::Text("VolumeAttributesClass of the pv"),
    ),
    col(
        "Reason",
        "string",
        field::<PersistentVolumeStatus>("reason"),
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        field::<PersistentVolumeSpec>("volumeMode"),
    ),
];

static PVC_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Status",
        "string",
        field::<PersistentVolumeClaimStatus>("phase"),
    ),
    col(
        "Volume",
        "string",
        field::<PersistentVolumeClaimSpec>("volumeName"),
    ),
    col(
        "Capacity",
        "string",
        field::<PersistentVolumeClaimStatus>("capacity"),
    ),
    col(
        "Access Modes",
        "string",
        field::<PersistentVolumeClaimStatus>("accessModes"),
    ),
    col(
        "StorageClass",
        "string",
        Desc::Text("StorageClass of the pvc"),
    ),
    col(
        "VolumeAttributesClass",
        "string",
        Desc::Text("VolumeAttributesClass of the pvc"),
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        field::<PersistentVolumeClaimSpec>("volumeMode"),
    ),
];

static STORAGE_CLASS_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Provisioner",
        "string",
        field::<StorageClass>("provisioner"),
    ),
    col(
        "ReclaimPolicy",
        "string",
        field::<StorageClass>("reclaimPolicy"),
    ),
    col(
        "VolumeBindingMode",
        "string",
        field::<StorageClass>("volumeBindingMode"),
    ),
    col(
        "AllowVolumeExpansion",
        "string",
        field::<StorageClass>("allowVolumeExpansion"),
    ),
    AGE,
];

static CSI_DRIVER_COLUMNS: &[Col] = &[
    NAME,
    col(
        "AttachRequired",
        "boolean",
        field::<CSIDriverSpec>("attachRequired"),
    ),
    col(
        "PodInfoOnMount",
        "boolean",
        field::<CSIDriverSpec>("podInfoOnMount"),
    ),
    col(
        "StorageCapacity",
        "boolean",
        field::<CSIDriverSpec>("storageCapacity"),
    ),
    col(
        "TokenRequests",
        "string",
        field::<CSIDriverSpec>("tokenRequests"),
    ),
    col(
        "RequiresRepublish",
        "boolean",
        field::<CSIDriverSpec>("requiresRepublish"),
    ),
    col(
        "Modes",
        "string",
        field::<CSIDriverSpec>("volumeLifecycleModes"),
    ),
    AGE,
];

static CSI_NODE_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Drivers",
        "integer",
        Desc::Text("Drivers indicates the number of CSI drivers registered on the node"),
    ),
    AGE,
];

static CSI_STORAGE_CAPACITY_COLUMNS: &[Col] = &[
    NAME,
    col(
        "StorageClassName",
        "string",
        field::<CSIStorageCapacity>("storageClassName"),
    ),
    col(
        "Capacity",
        "string",
        field::<CSIStorageCapacity>("capacity"),
    ),
];

static VOLUME_ATTACHMENT_COLUMNS: &[Col] = &[
    NAME,
    Col {
        format: "name",
        ..col(
            "Attacher",
            "string",
            field::<VolumeAttachmentSpec>("attacher"),
        )
    },
    col(
        "PV",
        "string",
        field::<VolumeAttachmentSource>("persistentVolumeName"),
    ),
    col("Node", "string", field::<VolumeAttachmentSpec>("nodeName")),
    col(
        "Attached",
        "boolean",
        field::<VolumeAttachmentStatus>("attached"),
    ),
    AGE,
];

static PV: Printer = Printer {
    columns: PV_COLUMNS,
    cells: persistent_volume,
};
static PVC: Printer = Printer {
    columns: PVC_COLUMNS,
    cells: persistent_volume_claim,
};
static STORAGE_CLASS: Printer = Printer {
    columns: STORAGE_CLASS_COLUMNS,
    cells: storage_class,
};
static CSI_DRIVER: Printer = Printer {
    columns: CSI_DRIVER_COLUMNS,
    cells: csi_driver,
};
static CSI_NODE: Printer = Printer {
    columns: CSI_NODE_COLUMNS,
    cells: csi_node,
};
static CSI_STORAGE_CAPACITY: Printer = Printer {
    columns: CSI_STORAGE_CAPACITY_COLUMNS,
    cells: csi_storage_capacity,
};
static VOLUME_ATTACHMENT: Printer = Printer {
    columns: VOLUME_ATTACHMENT_COLUMNS,
    cells: volume_attachment,
};

pub(super) fn printer(group: &str, kind: &str) -> Option<&'static Printer> {
    match (group, kind) {
        ("", "PersistentVolume") => Some(&PV),
        ("", "PersistentVolumeClaim") => Some(&PVC),
        ("storage.k8s.io", "StorageClass") => Some(&STORAGE_CLASS),
        ("storage.k8s.io", "CSIDriver") => Some(&CSI_DRIVER),
        ("storage.k8s.io", "CSINode") => Some(&CSI_NODE),
        ("storage.k8s.io", "CSIStorageCapacity") => Some(&CSI_STORAGE_CAPACITY),
        ("storage.k8s.io", "VolumeAttachment") => Some(&VOLUME_ATTACHMENT),
        _ => None,
    }
}

/// The beta annotation that still overrides `storageClassName`.
const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

fn annotation<'a>(annotations: Option<&'a BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    annotations.and_then(|a| a.get(key)).map(String::as_str)
}

/// `Quantity.String()` of `map[storage]`; a missing quantity is zero.
fn storage_quantity(map: Option<&BTreeMap<String, Quantity>>) -> String {
    map.and_then(|m| m.get("storage"))
        .map_or_else(|| "0".to_string(), |q| q.0.clone())
}

fn persistent_volume(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let pv: PersistentVolume = typed(obj)?;
    let spec = pv.spec.clone().unwrap_or_default();
    let status = pv.status.clone().unwrap_or_default();
    let claim = spec
        .claim_ref
        .as_ref()
        .map(|c| {
            format!(
                "{}/{}",
                c.namespace.as_deref().unwrap_or(""),
                c.name.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_default();
    let phase = if pv.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        status.phase.unwrap_or_default()
    };
    let class = annotation(
        pv.metadata.annotations.as_ref(),
        BETA_STORAGE_CLASS_ANNOTATION,
    )
    .map(str::to_string)
    .or(spec.storage_class_name)
    .unwrap_or_default();
    Some(vec![
        name(&pv.metadata),
        s(storage_quantity(spec.capacity.as_ref())),
        s(access_modes(spec.access_modes.as_ref())),
        s(spec.persistent_volume_reclaim_policy.unwrap_or_default()),
        s(phase),
        s(claim),
        s(class),
        s(spec
            .volume_attributes_class_name
            .unwrap_or_else(|| "<unset>".to_string())),
        s(status.reason.unwrap_or_default()),
        age(&pv.metadata, now),
        s(spec.volume_mode.unwrap_or_else(|| "<unset>".to_string())),
    ])
}

fn persistent_volume_claim(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let pvc: PersistentVolumeClaim = typed(obj)?;
    let spec = pvc.spec.clone().unwrap_or_default();
    let status = pvc.status.clone().unwrap_or_default();
    let phase = if pvc.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        status.phase.clone().unwrap_or_default()
    };
    let volume_name = spec.volume_name.clone().unwrap_or_default();
    // Capacity and access modes are the bound volume's, so only shown once bound.
    let (capacity, modes) = if volume_name.is_empty() {
        (String::new(), String::new())
    } else {
        (
            storage_quantity(status.capacity.as_ref()),
            access_modes(status.access_modes.as_ref()),
        )
    };
    let class = annotation(
        pvc.metadata.annotations.as_ref(),
        BETA_STORAGE_CLASS_ANNOTATION,
    )
    .map(str::to_string)
    .or(spec.storage_class_name)
    .unwrap_or_default();
    Some(vec![
        name(&pvc.metadata),
        s(phase),
        s(volume_name),
        s(capacity),
        s(modes),
        s(class),
        s(spec
            .volume_attributes_class_name
            .unwrap_or_else(|| "<unset>".to_string())),
        age(&pvc.metadata, now),
        s(spec.volume_mode.unwrap_or_else(|| "<unset>".to_string())),
    ])
}

fn storage_class(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let sc: StorageClass = typed(obj)?;
    let annotations = sc.metadata.annotations.as_ref();
    let is_default = annotation(annotations, "storageclass.kubernetes.io/is-default-class")
        == Some("true")
        || annotation(
            annotations,
            "storageclass.beta.kubernetes.io/is-default-class",
        ) == Some("true");
    let mut display = sc.metadata.name.clone().unwrap_or_default();
    if is_default {
        display.push_str(" (default)");
    }
    Some(vec![
        s(display),
        s(sc.provisioner.clone()),
        s(sc.reclaim_policy
            .clone()
            .unwrap_or_else(|| "Delete".to_string())),
        s(sc.volume_binding_mode
            .clone()
            .unwrap_or_else(|| "Immediate".to_string())),
        Value::Bool(sc.allow_volume_expansion.unwrap_or(false)),
        age(&sc.metadata, now),
    ])
}

fn csi_driver(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let driver: CSIDriver = typed(obj)?;
    let spec = driver.spec.clone();
    let modes = spec
        .volume_lifecycle_modes
        .map(|m| m.join(","))
        .unwrap_or_default();
    let token_requests = match &spec.token_requests {
        Some(requests) => requests
            .iter()
            .map(|t| t.audience.as_str())
            .collect::<Vec<_>>()
            .join(","),
        None => "<unset>".to_string(),
    };
    Some(vec![
        name(&driver.metadata),
        Value::Bool(spec.attach_required.unwrap_or(true)),
        Value::Bool(spec.pod_info_on_mount.unwrap_or(false)),
        Value::Bool(spec.storage_capacity.unwrap_or(false)),
        s(token_requests),
        Value::Bool(spec.requires_republish.unwrap_or(false)),
        s(if modes.is_empty() {
            "<none>".to_string()
        } else {
            modes
        }),
        age(&driver.metadata, now),
    ])
}

fn csi_node(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let node: CSINode = typed(obj)?;
    Some(vec![
        name(&node.metadata),
        count(node.spec.drivers.len()),
        age(&node.metadata, now),
    ])
}

fn csi_storage_capacity(obj: &DynamicObject, _now: Timestamp) -> Option<Vec<Value>> {
    let cap: CSIStorageCapacity = typed(obj)?;
    let capacity = cap
        .capacity
        .as_ref()
        .map_or_else(|| "<unset>".to_string(), |q| q.0.clone());
    Some(vec![
        name(&cap.metadata),
        s(cap.storage_class_name.clone()),
        s(capacity),
    ])
}

fn volume_attachment(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let va: VolumeAttachment = typed(obj)?;
    Some(vec![
        name(&va.metadata),
        s(va.spec.attacher.clone()),
        s(va.spec
            .source
            .persistent_volume_name
            .clone()
            .unwrap_or_default()),
        s(va.spec.node_name.clone()),
        Value::Bool(va.status.as_ref().is_some_and(|st| st.attached)),
        age(&va.metadata, now),
    ])
}
