//! Which lists a strategic merge patch merges, and by which key: upstream's Go struct
//! tags `patchStrategy:"merge" patchMergeKey:"..."` (k8s.io/api v0.33 and
//! apimachinery's ObjectMeta), as a table of field paths per kind.

/// How a list field is patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListStrategy {
    /// The patch's list replaces the object's (the default).
    Replace,
    /// Lists of objects merged element by element, matched on this field.
    MergeByKey(&'static str),
    /// Lists of scalars merged as sets (e.g. `metadata.finalizers`).
    MergePrimitives,
}

/// Patch metadata for one kind. `path` holds field names from the object root, array
/// indices omitted: `["spec", "template", "spec", "containers", "env"]`.
pub trait PatchMeta {
    fn list_strategy(&self, path: &[&str]) -> ListStrategy;

    /// Objects tagged `patchStrategy:"replace"` (PodDisruptionBudget `spec.selector`)
    /// are replaced by the patch's object instead of merged.
    fn replaces_map(&self, _path: &[&str]) -> bool {
        false
    }
}

/// Any `Fn(path) -> ListStrategy` is patch metadata; handy for tests and ad-hoc schemas.
impl<F: Fn(&[&str]) -> ListStrategy> PatchMeta for F {
    fn list_strategy(&self, path: &[&str]) -> ListStrategy {
        self(path)
    }
}

type Path = &'static [&'static str];

const fn key(k: &'static str) -> ListStrategy {
    ListStrategy::MergeByKey(k)
}

struct KindMeta {
    group: &'static str,
    kind: &'static str,
    /// Where PodSpecs sit.
    pod_specs: &'static [Path],
    /// Where ObjectMetas sit besides the root `metadata`.
    metas: &'static [Path],
    lists: &'static [(Path, ListStrategy)],
    replace_maps: &'static [Path],
}

const NONE: &[(Path, ListStrategy)] = &[];
const CONDITIONS: &[(Path, ListStrategy)] = &[(&["status", "conditions"], key("type"))];
const TEMPLATE: &[Path] = &[&["spec", "template", "spec"]];
const TEMPLATE_META: &[Path] = &[&["spec", "template", "metadata"]];

/// Lists of a PodSpec, relative to it.
const POD_SPEC_LISTS: &[(Path, ListStrategy)] = &[
    (&["volumes"], key("name")),
    (&["imagePullSecrets"], key("name")),
    (&["hostAliases"], key("ip")),
    (&["topologySpreadConstraints"], key("topologyKey")),
    (&["schedulingGates"], key("name")),
    (&["resourceClaims"], key("name")),
];

const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// Lists of a Container (and EphemeralContainerCommon), relative to it.
const CONTAINER_FIELD_LISTS: &[(&str, ListStrategy)] = &[
    ("ports", key("containerPort")),
    ("env", key("name")),
    ("volumeMounts", key("mountPath")),
    ("volumeDevices", key("devicePath")),
];

const CONTAINER_STATUS_LISTS: &[&str] = &[
    "containerStatuses",
    "initContainerStatuses",
    "ephemeralContainerStatuses",
];

const fn kind_meta(
    group: &'static str,
    kind: &'static str,
    lists: &'static [(Path, ListStrategy)],
) -> KindMeta {
    KindMeta {
        group,
        kind,
        pod_specs: &[],
        metas: &[],
        lists,
        replace_maps: &[],
    }
}

const fn workload(
    group: &'static str,
    kind: &'static str,
    lists: &'static [(Path, ListStrategy)],
) -> KindMeta {
    KindMeta {
        group,
        kind,
        pod_specs: TEMPLATE,
        metas: TEMPLATE_META,
        lists,
        replace_maps: &[],
    }
}

static KINDS: &[KindMeta] = &[
    // core
    KindMeta {
        group: "",
        kind: "Pod",
        pod_specs: &[&["spec"]],
        metas: &[],
        lists: &[
            (&["status", "conditions"], key("type")),
            (&["status", "hostIPs"], key("ip")),
            (&["status", "podIPs"], key("ip")),
            (&["status", "resourceClaimStatuses"], key("name")),
        ],
        replace_maps: &[],
    },
    KindMeta {
        group: "",
        kind: "PodTemplate",
        pod_specs: &[&["template", "spec"]],
        metas: &[&["template", "metadata"]],
        lists: NONE,
        replace_maps: &[],
    },
    workload("", "ReplicationController", CONDITIONS),
    kind_meta(
        "",
        "Node",
        &[
            (&["spec", "podCIDRs"], ListStrategy::MergePrimitives),
            (&["status", "conditions"], key("type")),
            (&["status", "addresses"], key("type")),
        ],
    ),
    kind_meta("", "Namespace", CONDITIONS),
    kind_meta("", "PersistentVolumeClaim", CONDITIONS),
    kind_meta(
        "",
        "Service",
        &[
            (&["spec", "ports"], key("port")),
            (&["status", "conditions"], key("type")),
        ],
    ),
    kind_meta("", "ServiceAccount", &[(&["secrets"], key("name"))]),
    kind_meta("", "ComponentStatus", &[(&["conditions"], key("type"))]),
    // apps
    workload("apps", "Deployment", CONDITIONS),
    workload("apps", "ReplicaSet", CONDITIONS),
    workload("apps", "StatefulSet", CONDITIONS),
    workload("apps", "DaemonSet", CONDITIONS),
    // batch
    workload("batch", "Job", CONDITIONS),
    KindMeta {
        group: "batch",
        kind: "CronJob",
        pod_specs: &[&["spec", "jobTemplate", "spec", "template", "spec"]],
        metas: &[
            &["spec", "jobTemplate", "metadata"],
            &["spec", "jobTemplate", "spec", "template", "metadata"],
        ],
        lists: NONE,
        replace_maps: &[],
    },
    kind_meta("autoscaling", "HorizontalPodAutoscaler", CONDITIONS),
    KindMeta {
        group: "policy",
        kind: "PodDisruptionBudget",
        pod_specs: &[],
        metas: &[],
        lists: CONDITIONS,
        replace_maps: &[&["spec", "selector"]],
    },
    kind_meta(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        &[
            (&["webhooks"], key("name")),
            (&["webhooks", "matchConditions"], key("name")),
        ],
    ),
    kind_meta(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        &[
            (&["webhooks"], key("name")),
            (&["webhooks", "matchConditions"], key("name")),
        ],
    ),
    kind_meta(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        &[
            (&["spec", "matchConditions"], key("name")),
            (&["spec", "variables"], key("name")),
        ],
    ),
    kind_meta(
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicy",
        &[(&["spec", "matchConditions"], key("name"))],
    ),
    kind_meta("flowcontrol.apiserver.k8s.io", "FlowSchema", CONDITIONS),
    kind_meta(
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        CONDITIONS,
    ),
    kind_meta("networking.k8s.io", "ServiceCIDR", CONDITIONS),
    kind_meta(
        "resource.k8s.io",
        "ResourceClaim",
        &[(&["status", "reservedFor"], key("uid"))],
    ),
    kind_meta(
        "storage.k8s.io",
        "CSINode",
        &[(&["spec", "drivers"], key("name"))],
    ),
    kind_meta(
        "storagemigration.k8s.io",
        "StorageVersionMigration",
        CONDITIONS,
    ),
];

/// Strategic-merge metadata of a built-in kind. Unknown kinds still merge the root
/// `metadata.finalizers` and `metadata.ownerReferences`, and replace every other list.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinPatchMeta {
    kind: Option<&'static KindMeta>,
}

impl std::fmt::Debug for KindMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.group, self.kind)
    }
}

impl BuiltinPatchMeta {
    /// `group` is "" for the core group, e.g. `for_kind("apps", "Deployment")`.
    pub fn for_kind(group: &str, kind: &str) -> Self {
        BuiltinPatchMeta {
            kind: KINDS.iter().find(|k| k.group == group && k.kind == kind),
        }
    }

    /// True when the kind has its own entry (merge lists beyond ObjectMeta's).
    pub fn has_kind_table(&self) -> bool {
        self.kind.is_some()
    }
}

fn meta_list(rel: &[&str]) -> ListStrategy {
    match rel {
        ["finalizers"] => ListStrategy::MergePrimitives,
        ["ownerReferences"] => key("uid"),
        _ => ListStrategy::Replace,
    }
}

fn pod_spec_list(rel: &[&str]) -> ListStrategy {
    match rel {
        [c] if CONTAINER_LISTS.contains(c) => key("name"),
        [c, f] if CONTAINER_LISTS.contains(c) => CONTAINER_FIELD_LISTS
            .iter()
            .find(|(n, _)| n == f)
            .map_or(ListStrategy::Replace, |(_, s)| *s),
        _ => POD_SPEC_LISTS
            .iter()
            .find(|(p, _)| *p == rel)
            .map_or(ListStrategy::Replace, |(_, s)| *s),
    }
}

fn pod_status_list(rel: &[&str]) -> Option<ListStrategy> {
    match rel {
        [c, "volumeMounts"] if CONTAINER_STATUS_LISTS.contains(c) => Some(key("mountPath")),
        [c, "allocatedResourcesStatus"] if CONTAINER_STATUS_LISTS.contains(c) => Some(key("name")),
        _ => None,
    }
}

impl PatchMeta for BuiltinPatchMeta {
    fn list_strategy(&self, path: &[&str]) -> ListStrategy {
        if let Some(rel) = path.strip_prefix(&["metadata"][..]) {
            return meta_list(rel);
        }
        let Some(k) = self.kind else {
            return ListStrategy::Replace;
        };
        if let Some(rel) = k.metas.iter().find_map(|m| path.strip_prefix(*m)) {
            return meta_list(rel);
        }
        if let Some(rel) = k.pod_specs.iter().find_map(|p| path.strip_prefix(*p)) {
            return pod_spec_list(rel);
        }
        if k.kind == "Pod" && k.group.is_empty() {
            if let Some(s) = path.strip_prefix(&["status"][..]).and_then(pod_status_list) {
                return s;
            }
        }
        k.lists
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(ListStrategy::Replace, |(_, s)| *s)
    }

    fn replaces_map(&self, path: &[&str]) -> bool {
        self.kind.is_some_and(|k| k.replace_maps.contains(&path))
    }
}
