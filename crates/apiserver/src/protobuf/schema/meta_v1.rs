//! Protobuf field table of `k8s.io.apimachinery.pkg.apis.meta.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{AsDuration, AsItems, AsMicroTime, AsRawJson, AsTime, Plain};
use super::Ty::{Bool, Bytes, I32, I64, M, MapStr, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::machinery;


pub static APIGroup: Msg = msg("APIGroup", Plain, &[
    f(1, "name", Str, N),
    f(2, "versions", M(&GroupVersionForDiscovery), R),
    f(3, "preferredVersion", M(&GroupVersionForDiscovery), O),
    f(4, "serverAddressByClientCIDRs", M(&ServerAddressByClientCIDR), R | O),
]);
pub static APIGroupList: Msg = msg("APIGroupList", Plain, &[
    f(1, "groups", M(&APIGroup), R),
]);
pub static APIResource: Msg = msg("APIResource", Plain, &[
    f(1, "name", Str, N),
    f(6, "singularName", Str, N),
    f(2, "namespaced", Bool, N),
    f(8, "group", Str, O),
    f(9, "version", Str, O),
    f(3, "kind", Str, N),
    f(4, "verbs", M(&Verbs), N),
    f(5, "shortNames", Str, R | O),
    f(7, "categories", Str, R | O),
    f(10, "storageVersionHash", Str, O),
]);
pub static APIResourceList: Msg = msg("APIResourceList", Plain, &[
    f(1, "groupVersion", Str, N),
    f(2, "resources", M(&APIResource), R),
]);
pub static APIVersions: Msg = msg("APIVersions", Plain, &[
    f(1, "versions", Str, R),
    f(2, "serverAddressByClientCIDRs", M(&ServerAddressByClientCIDR), R),
]);
pub static ApplyOptions: Msg = msg("ApplyOptions", Plain, &[
    f(1, "dryRun", Str, R | O),
    f(2, "force", Bool, N),
    f(3, "fieldManager", Str, N),
]);
pub static Condition: Msg = msg("Condition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "observedGeneration", I64, O),
    f(4, "lastTransitionTime", M(&Time), N),
    f(5, "reason", Str, N),
    f(6, "message", Str, N),
]);
pub static CreateOptions: Msg = msg("CreateOptions", Plain, &[
    f(1, "dryRun", Str, R | O),
    f(3, "fieldManager", Str, O),
    f(4, "fieldValidation", Str, O),
]);
pub static DeleteOptions: Msg = msg("DeleteOptions", Plain, &[
    f(1, "gracePeriodSeconds", I64, O | P),
    f(2, "preconditions", M(&Preconditions), O | P),
    f(3, "orphanDependents", Bool, O | P),
    f(4, "propagationPolicy", Str, O | P),
    f(5, "dryRun", Str, R | O),
    f(6, "ignoreStoreReadErrorWithClusterBreakingPotential", Bool, O | P),
]);
pub static Duration: Msg = msg("Duration", AsDuration, &[
    f(1, "duration", I64, N),
]);
pub static FieldSelectorRequirement: Msg = msg("FieldSelectorRequirement", Plain, &[
    f(1, "key", Str, N),
    f(2, "operator", Str, N),
    f(3, "values", Str, R | O),
]);
pub static FieldsV1: Msg = msg("FieldsV1", AsRawJson, &[
    f(1, "Raw", Bytes, N),
]);
pub static GetOptions: Msg = msg("GetOptions", Plain, &[
    f(1, "resourceVersion", Str, O),
]);
pub static GroupKind: Msg = msg("GroupKind", Plain, &[
    f(1, "group", Str, N),
    f(2, "kind", Str, N),
]);
pub static GroupResource: Msg = msg("GroupResource", Plain, &[
    f(1, "group", Str, N),
    f(2, "resource", Str, N),
]);
pub static GroupVersion: Msg = msg("GroupVersion", Plain, &[
    f(1, "group", Str, N),
    f(2, "version", Str, N),
]);
pub static GroupVersionForDiscovery: Msg = msg("GroupVersionForDiscovery", Plain, &[
    f(1, "groupVersion", Str, N),
    f(2, "version", Str, N),
]);
pub static GroupVersionKind: Msg = msg("GroupVersionKind", Plain, &[
    f(1, "group", Str, N),
    f(2, "version", Str, N),
    f(3, "kind", Str, N),
]);
pub static GroupVersionResource: Msg = msg("GroupVersionResource", Plain, &[
    f(1, "group", Str, N),
    f(2, "version", Str, N),
    f(3, "resource", Str, N),
]);
pub static LabelSelector: Msg = msg("LabelSelector", Plain, &[
    f(1, "matchLabels", MapStr, O),
    f(2, "matchExpressions", M(&LabelSelectorRequirement), R | O),
]);
pub static LabelSelectorRequirement: Msg = msg("LabelSelectorRequirement", Plain, &[
    f(1, "key", Str, N),
    f(2, "operator", Str, N),
    f(3, "values", Str, R | O),
]);
pub static List: Msg = msg("List", Plain, &[
    f(1, "metadata", M(&ListMeta), O),
    f(2, "items", M(&machinery::RawExtension), R),
]);
pub static ListMeta: Msg = msg("ListMeta", Plain, &[
    f(1, "selfLink", Str, O),
    f(2, "resourceVersion", Str, O),
    f(3, "continue", Str, O),
    f(4, "remainingItemCount", I64, O | P),
]);
pub static ListOptions: Msg = msg("ListOptions", Plain, &[
    f(1, "labelSelector", Str, O),
    f(2, "fieldSelector", Str, O),
    f(3, "watch", Bool, O),
    f(9, "allowWatchBookmarks", Bool, O),
    f(4, "resourceVersion", Str, O),
    f(10, "resourceVersionMatch", Str, O),
    f(5, "timeoutSeconds", I64, O | P),
    f(7, "limit", I64, O),
    f(8, "continue", Str, O),
    f(11, "sendInitialEvents", Bool, O | P),
]);
pub static ManagedFieldsEntry: Msg = msg("ManagedFieldsEntry", Plain, &[
    f(1, "manager", Str, O),
    f(2, "operation", Str, O),
    f(3, "apiVersion", Str, O),
    f(4, "time", M(&Time), O | P),
    f(6, "fieldsType", Str, O),
    f(7, "fieldsV1", M(&FieldsV1), O | P),
    f(8, "subresource", Str, O),
]);
pub static MicroTime: Msg = msg("MicroTime", AsMicroTime, &[
    f(1, "seconds", I64, N),
    f(2, "nanos", I32, N),
]);
pub static ObjectMeta: Msg = msg("ObjectMeta", Plain, &[
    f(1, "name", Str, O),
    f(2, "generateName", Str, O),
    f(3, "namespace", Str, O),
    f(4, "selfLink", Str, O),
    f(5, "uid", Str, O),
    f(6, "resourceVersion", Str, O),
    f(7, "generation", I64, O),
    f(8, "creationTimestamp", M(&Time), O),
    f(9, "deletionTimestamp", M(&Time), O | P),
    f(10, "deletionGracePeriodSeconds", I64, O | P),
    f(11, "labels", MapStr, O),
    f(12, "annotations", MapStr, O),
    f(13, "ownerReferences", M(&OwnerReference), R | O),
    f(14, "finalizers", Str, R | O),
    f(17, "managedFields", M(&ManagedFieldsEntry), R | O),
]);
pub static OwnerReference: Msg = msg("OwnerReference", Plain, &[
    f(5, "apiVersion", Str, N),
    f(1, "kind", Str, N),
    f(3, "name", Str, N),
    f(4, "uid", Str, N),
    f(6, "controller", Bool, O | P),
    f(7, "blockOwnerDeletion", Bool, O | P),
]);
pub static PartialObjectMetadata: Msg = msg("PartialObjectMetadata", Plain, &[
    f(1, "metadata", M(&ObjectMeta), O),
]);
pub static PartialObjectMetadataList: Msg = msg("PartialObjectMetadataList", Plain, &[
    f(1, "metadata", M(&ListMeta), O),
    f(2, "items", M(&PartialObjectMetadata), R),
]);
pub static Patch: Msg = msg("Patch", Plain, &[]);
pub static PatchOptions: Msg = msg("PatchOptions", Plain, &[
    f(1, "dryRun", Str, R | O),
    f(2, "force", Bool, O | P),
    f(3, "fieldManager", Str, O),
    f(4, "fieldValidation", Str, O),
]);
pub static Preconditions: Msg = msg("Preconditions", Plain, &[
    f(1, "uid", Str, O | P),
    f(2, "resourceVersion", Str, O | P),
]);
pub static RootPaths: Msg = msg("RootPaths", Plain, &[
    f(1, "paths", Str, R),
]);
pub static ServerAddressByClientCIDR: Msg = msg("ServerAddressByClientCIDR", Plain, &[
    f(1, "clientCIDR", Str, N),
    f(2, "serverAddress", Str, N),
]);
pub static Status: Msg = msg("Status", Plain, &[
    f(1, "metadata", M(&ListMeta), O),
    f(2, "status", Str, O),
    f(3, "message", Str, O),
    f(4, "reason", Str, O),
    f(5, "details", M(&StatusDetails), O | P),
    f(6, "code", I32, O),
]);
pub static StatusCause: Msg = msg("StatusCause", Plain, &[
    f(1, "reason", Str, O),
    f(2, "message", Str, O),
    f(3, "field", Str, O),
]);
pub static StatusDetails: Msg = msg("StatusDetails", Plain, &[
    f(1, "name", Str, O),
    f(2, "group", Str, O),
    f(3, "kind", Str, O),
    f(6, "uid", Str, O),
    f(4, "causes", M(&StatusCause), R | O),
    f(5, "retryAfterSeconds", I32, O),
]);
pub static TableOptions: Msg = msg("TableOptions", Plain, &[
    f(1, "includeObject", Str, O),
]);
pub static Time: Msg = msg("Time", AsTime, &[
    f(1, "seconds", I64, N),
    f(2, "nanos", I32, N),
]);
pub static Timestamp: Msg = msg("Timestamp", Plain, &[
    f(1, "seconds", I64, N),
    f(2, "nanos", I32, N),
]);
pub static TypeMeta: Msg = msg("TypeMeta", Plain, &[
    f(1, "kind", Str, O),
    f(2, "apiVersion", Str, O),
]);
pub static UpdateOptions: Msg = msg("UpdateOptions", Plain, &[
    f(1, "dryRun", Str, R | O),
    f(2, "fieldManager", Str, O),
    f(3, "fieldValidation", Str, O),
]);
pub static Verbs: Msg = msg("Verbs", AsItems, &[
    f(1, "items", Str, R),
]);
pub static WatchEvent: Msg = msg("WatchEvent", Plain, &[
    f(1, "type", Str, N),
    f(2, "object", M(&machinery::RawExtension), N),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &APIGroup,
    &APIGroupList,
    &APIResource,
    &APIResourceList,
    &APIVersions,
    &ApplyOptions,
    &Condition,
    &CreateOptions,
    &DeleteOptions,
    &Duration,
    &FieldSelectorRequirement,
    &FieldsV1,
    &GetOptions,
    &GroupKind,
    &GroupResource,
    &GroupVersion,
    &GroupVersionForDiscovery,
    &GroupVersionKind,
    &GroupVersionResource,
    &LabelSelector,
    &LabelSelectorRequirement,
    &List,
    &ListMeta,
    &ListOptions,
    &ManagedFieldsEntry,
    &MicroTime,
    &ObjectMeta,
    &OwnerReference,
    &PartialObjectMetadata,
    &PartialObjectMetadataList,
    &Patch,
    &PatchOptions,
    &Preconditions,
    &RootPaths,
    &ServerAddressByClientCIDR,
    &Status,
    &StatusCause,
    &StatusDetails,
    &TableOptions,
    &Time,
    &Timestamp,
    &TypeMeta,
    &UpdateOptions,
    &Verbs,
    &WatchEvent,
];
