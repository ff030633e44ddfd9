//! The message tables the decoder walks: for every protobuf message of the built-in API
//! groups, its fields as (field number, JSON name, type, flags). The per-group files are
//! generated output; this file (the types, flags and the apiVersion -> group table) is not.
//!
//! How the tables were derived, and how to regenerate them:
//!
//! - Field numbers, proto types and `repeated` come from the wire protocol upstream publishes
//!   in its `generated.proto` files, at the v0.33 tags (Kubernetes 1.33) of k8s.io/api
//!   (core/v1, apps/v1, batch/v1, autoscaling/v1+v2, coordination, discovery, events,
//!   flowcontrol, networking, node, policy, rbac, scheduling, storage, certificates,
//!   admissionregistration, authentication, authorization, all v1), k8s.io/apimachinery
//!   (pkg/apis/meta/v1, pkg/api/resource, pkg/util/intstr, pkg/runtime) and
//!   k8s.io/apiextensions-apiserver (pkg/apis/apiextensions/v1). Each `message` became one
//!   `static` named after it, each field one `f(...)` line; message-typed fields point at the
//!   other statics, so the tables are plain data with no lookups at decode time.
//! - A proto field name is not always the JSON name (inlined structs such as
//!   `Volume.volumeSource`, `JSONSchemaProps.ref` = `$ref`, `ValidatingWebhookConfiguration.
//!   Webhooks`), so every field was joined, by message name and field number, with the Go
//!   struct field carrying the same `protobuf:"...,N,..."` tag in that package's Go sources.
//!   From the Go field come the JSON name (`json:"name"`; `",inline"` written as ""),
//!   `omitempty` (flag `O`), pointer-ness (`*T`, flag `P`) and the field order (Go's JSON key
//!   order).
//! - Messages whose Go type has its own JSON form get a [`Shape`] other than `Plain`, chosen by
//!   name: Quantity, IntOrString, Time, MicroTime, Duration, RawExtension / FieldsV1 /
//!   apiextensions JSON, the three JSONSchemaPropsOr* unions, and messages whose Go type is a
//!   named string slice (`type ExtraValue []string`, `Verbs`).
//!
//! To regenerate for a newer release: repeat that join with a small throwaway script over the
//! same files at the new tag, check that it reports no proto field without a Go field, and
//! replace the per-group files wholesale. Add new API groups to `GROUPS` below.

use std::fmt;

#[rustfmt::skip] pub mod admissionregistration_v1;
#[rustfmt::skip] pub mod apiextensions_v1;
#[rustfmt::skip] pub mod apps_v1;
#[rustfmt::skip] pub mod authentication_v1;
#[rustfmt::skip] pub mod authorization_v1;
#[rustfmt::skip] pub mod autoscaling_v1;
#[rustfmt::skip] pub mod autoscaling_v2;
#[rustfmt::skip] pub mod batch_v1;
#[rustfmt::skip] pub mod certificates_v1;
#[rustfmt::skip] pub mod coordination_v1;
#[rustfmt::skip] pub mod core_v1;
#[rustfmt::skip] pub mod discovery_v1;
#[rustfmt::skip] pub mod events_v1;
#[rustfmt::skip] pub mod flowcontrol_v1;
#[rustfmt::skip] pub mod machinery;
#[rustfmt::skip] pub mod meta_v1;
#[rustfmt::skip] pub mod networking_v1;
#[rustfmt::skip] pub mod node_v1;
#[rustfmt::skip] pub mod policy_v1;
#[rustfmt::skip] pub mod rbac_v1;
#[rustfmt::skip] pub mod scheduling_v1;
#[rustfmt::skip] pub mod storage_v1;

/// One protobuf message and how its Go type renders as JSON.
pub struct Msg {
    pub name: &'static str,
    pub shape: Shape,
    pub fields: &'static [Field],
}

// By hand: the tables are cyclic (JSONSchemaProps contains itself), a derived Debug would recurse.
impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Msg {
    pub fn field(&self, num: u32) -> Option<(usize, &'static Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.num == num)
    }
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub num: u32,
    /// The Go `json` tag name; "" for an inlined (embedded) struct.
    pub json: &'static str,
    pub ty: Ty,
    /// [`R`], [`O`], [`P`] or'ed.
    pub flags: u8,
}

impl Field {
    pub fn repeated(&self) -> bool {
        self.flags & R != 0
    }
    pub fn omitempty(&self) -> bool {
        self.flags & O != 0
    }
    pub fn pointer(&self) -> bool {
        self.flags & P != 0
    }
}

/// A field's protobuf type. Maps are always keyed by string in the Kubernetes API.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    Bool,
    I32,
    I64,
    F64,
    /// JSON: base64 string.
    Bytes,
    M(&'static Msg),
    MapStr,
    MapBytes,
    MapM(&'static Msg),
}

/// How a message's Go type writes itself as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An object of its fields.
    Plain,
    /// `resource.Quantity`: the string in field 1.
    AsQuantity,
    /// `intstr.IntOrString`: a number or a string, by field 1.
    AsIntOrString,
    /// `metav1.Time`: RFC 3339 seconds, or null when zero.
    AsTime,
    /// `metav1.MicroTime`: RFC 3339 with 6 fractional digits, or null when zero.
    AsMicroTime,
    /// `metav1.Duration`: Go's `time.Duration.String()`.
    AsDuration,
    /// `runtime.RawExtension`, `metav1.FieldsV1`, apiextensions `JSON`: field 1 holds JSON text.
    AsRawJson,
    /// A named Go slice (`type ExtraValue []string`): the array of field 1.
    AsItems,
    /// apiextensions `JSONSchemaPropsOrArray`: 1 schema, 2 schemas.
    AsSchemaOrArray,
    /// apiextensions `JSONSchemaPropsOrBool`: 1 allows, 2 schema.
    AsSchemaOrBool,
    /// apiextensions `JSONSchemaPropsOrStringArray`: 1 schema, 2 property.
    AsSchemaOrStringArray,
}

/// No flag.
pub const N: u8 = 0;
/// `repeated`.
pub const R: u8 = 1;
/// The Go field is `omitempty`.
pub const O: u8 = 2;
/// The Go field is a pointer: present means set, even when 0 / false / "".
pub const P: u8 = 4;

pub const fn f(num: u32, json: &'static str, ty: Ty, flags: u8) -> Field {
    Field {
        num,
        json,
        ty,
        flags,
    }
}

pub const fn msg(name: &'static str, shape: Shape, fields: &'static [Field]) -> Msg {
    Msg {
        name,
        shape,
        fields,
    }
}

/// apiVersion -> the messages of that group version.
static GROUPS: &[(&str, &[&Msg])] = &[
    ("v1", core_v1::ALL),
    (
        "admissionregistration.k8s.io/v1",
        admissionregistration_v1::ALL,
    ),
    ("apiextensions.k8s.io/v1", apiextensions_v1::ALL),
    ("apps/v1", apps_v1::ALL),
    ("authentication.k8s.io/v1", authentication_v1::ALL),
    ("authorization.k8s.io/v1", authorization_v1::ALL),
    ("autoscaling/v1", autoscaling_v1::ALL),
    ("autoscaling/v2", autoscaling_v2::ALL),
    ("batch/v1", batch_v1::ALL),
    ("certificates.k8s.io/v1", certificates_v1::ALL),
    ("coordination.k8s.io/v1", coordination_v1::ALL),
    ("discovery.k8s.io/v1", discovery_v1::ALL),
    ("events.k8s.io/v1", events_v1::ALL),
    ("flowcontrol.apiserver.k8s.io/v1", flowcontrol_v1::ALL),
    ("meta.k8s.io/v1", meta_v1::ALL),
    ("networking.k8s.io/v1", networking_v1::ALL),
    ("node.k8s.io/v1", node_v1::ALL),
    ("policy/v1", policy_v1::ALL),
    ("rbac.authorization.k8s.io/v1", rbac_v1::ALL),
    ("scheduling.k8s.io/v1", scheduling_v1::ALL),
    ("storage.k8s.io/v1", storage_v1::ALL),
];

/// The meta/v1 kinds upstream registers in every group version (`metav1.AddToGroupVersion`),
/// e.g. the DeleteOptions body of a DELETE.
const META_IN_EVERY_GROUP: &[&str] = &[
    "APIGroup",
    "APIGroupList",
    "APIResourceList",
    "APIVersions",
    "CreateOptions",
    "DeleteOptions",
    "GetOptions",
    "ListOptions",
    "PatchOptions",
    "Status",
    "UpdateOptions",
    "WatchEvent",
];

fn find(all: &[&'static Msg], name: &str) -> Option<&'static Msg> {
    all.binary_search_by(|m| m.name.cmp(name))
        .ok()
        .and_then(|i| all.get(i).copied())
}

/// The message for a top-level object of `kind` in `api_version`, if we know its schema.
pub fn lookup(api_version: &str, kind: &str) -> Option<&'static Msg> {
    let (_, all) = GROUPS.iter().find(|(v, _)| *v == api_version)?;
    let found = find(all, kind).or_else(|| {
        META_IN_EVERY_GROUP
            .contains(&kind)
            .then(|| find(meta_v1::ALL, kind))
            .flatten()
    })?;
    // Only objects can be top-level; `Time` or `Quantity` are not kinds.
    (found.shape == Shape::Plain).then_some(found)
}

#[cfg(test)]
pub(crate) fn groups() -> &'static [(&'static str, &'static [&'static Msg])] {
    GROUPS
}
