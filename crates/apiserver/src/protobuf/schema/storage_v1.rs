//! Protobuf field table of `k8s.io.api.storage.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{Bool, I32, I64, M, MapStr, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{core_v1, machinery, meta_v1};


pub static CSIDriver: Msg = msg("CSIDriver", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&CSIDriverSpec), N),
]);
pub static CSIDriverList: Msg = msg("CSIDriverList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&CSIDriver), R),
]);
pub static CSIDriverSpec: Msg = msg("CSIDriverSpec", Plain, &[
    f(1, "attachRequired", Bool, O | P),
    f(2, "podInfoOnMount", Bool, O | P),
    f(3, "volumeLifecycleModes", Str, R | O),
    f(4, "storageCapacity", Bool, O | P),
    f(5, "fsGroupPolicy", Str, O | P),
    f(6, "tokenRequests", M(&TokenRequest), R | O),
    f(7, "requiresRepublish", Bool, O | P),
    f(8, "seLinuxMount", Bool, O | P),
    f(9, "nodeAllocatableUpdatePeriodSeconds", I64, O | P),
]);
pub static CSINode: Msg = msg("CSINode", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&CSINodeSpec), N),
]);
pub static CSINodeDriver: Msg = msg("CSINodeDriver", Plain, &[
    f(1, "name", Str, N),
    f(2, "nodeID", Str, N),
    f(3, "topologyKeys", Str, R),
    f(4, "allocatable", M(&VolumeNodeResources), O | P),
]);
pub static CSINodeList: Msg = msg("CSINodeList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&CSINode), R),
]);
pub static CSINodeSpec: Msg = msg("CSINodeSpec", Plain, &[
    f(1, "drivers", M(&CSINodeDriver), R),
]);
pub static CSIStorageCapacity: Msg = msg("CSIStorageCapacity", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "nodeTopology", M(&meta_v1::LabelSelector), O | P),
    f(3, "storageClassName", Str, N),
    f(4, "capacity", M(&machinery::Quantity), O | P),
    f(5, "maximumVolumeSize", M(&machinery::Quantity), O | P),
]);
pub static CSIStorageCapacityList: Msg = msg("CSIStorageCapacityList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&CSIStorageCapacity), R),
]);
pub static StorageClass: Msg = msg("StorageClass", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "provisioner", Str, N),
    f(3, "parameters", MapStr, O),
    f(4, "reclaimPolicy", Str, O | P),
    f(5, "mountOptions", Str, R | O),
    f(6, "allowVolumeExpansion", Bool, O | P),
    f(7, "volumeBindingMode", Str, O | P),
    f(8, "allowedTopologies", M(&core_v1::TopologySelectorTerm), R | O),
]);
pub static StorageClassList: Msg = msg("StorageClassList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&StorageClass), R),
]);
pub static TokenRequest: Msg = msg("TokenRequest", Plain, &[
    f(1, "audience", Str, N),
    f(2, "expirationSeconds", I64, O | P),
]);
pub static VolumeAttachment: Msg = msg("VolumeAttachment", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&VolumeAttachmentSpec), N),
    f(3, "status", M(&VolumeAttachmentStatus), O),
]);
pub static VolumeAttachmentList: Msg = msg("VolumeAttachmentList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&VolumeAttachment), R),
]);
pub static VolumeAttachmentSource: Msg = msg("VolumeAttachmentSource", Plain, &[
    f(1, "persistentVolumeName", Str, O | P),
    f(2, "inlineVolumeSpec", M(&core_v1::PersistentVolumeSpec), O | P),
]);
pub static VolumeAttachmentSpec: Msg = msg("VolumeAttachmentSpec", Plain, &[
    f(1, "attacher", Str, N),
    f(2, "source", M(&VolumeAttachmentSource), N),
    f(3, "nodeName", Str, N),
]);
pub static VolumeAttachmentStatus: Msg = msg("VolumeAttachmentStatus", Plain, &[
    f(1, "attached", Bool, N),
    f(2, "attachmentMetadata", MapStr, O),
    f(3, "attachError", M(&VolumeError), O | P),
    f(4, "detachError", M(&VolumeError), O | P),
]);
pub static VolumeError: Msg = msg("VolumeError", Plain, &[
    f(1, "time", M(&meta_v1::Time), O),
    f(2, "message", Str, O),
    f(3, "errorCode", I32, O | P),
]);
pub static VolumeNodeResources: Msg = msg("VolumeNodeResources", Plain, &[
    f(1, "count", I32, O | P),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &CSIDriver,
    &CSIDriverList,
    &CSIDriverSpec,
    &CSINode,
    &CSINodeDriver,
    &CSINodeList,
    &CSINodeSpec,
    &CSIStorageCapacity,
    &CSIStorageCapacityList,
    &StorageClass,
    &StorageClassList,
    &TokenRequest,
    &VolumeAttachment,
    &VolumeAttachmentList,
    &VolumeAttachmentSource,
    &VolumeAttachmentSpec,
    &VolumeAttachmentStatus,
    &VolumeError,
    &VolumeNodeResources,
];
