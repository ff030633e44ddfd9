//! Cluster-wide machinery: RBAC bindings, priority and runtime classes, leases,
//! disruption budgets, admission webhooks and policies, certificate signing requests.

use api_types::table::human_duration;
use api_types::DynamicObject;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    ValidatingWebhookConfiguration,
};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestSpec, CertificateSigningRequestStatus,
};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::{age, col, count, field, int, name, s, typed, wide, Col, Desc, Printer, AGE, NAME};

static ROLE_BINDING_COLUMNS: &[Col] = &[
    NAME,
    col("Role", "string", field::<RoleBinding>("roleRef")),
    AGE,
    wide("Users", "string", Desc::Text("Users in the roleBinding")),
    wide("Groups", "string", Desc::Text("Groups in the roleBinding")),
    wide(
        "ServiceAccounts",
        "string",
        Desc::Text("ServiceAccounts in the roleBinding"),
    ),
];

static CLUSTER_ROLE_BINDING_COLUMNS: &[Col] = &[
    NAME,
    col("Role", "string", field::<ClusterRoleBinding>("roleRef")),
    AGE,
    wide(
        "Users",
        "string",
        Desc::Text("Users in the clusterRoleBinding"),
    ),
    wide(
        "Groups",
        "string",
        Desc::Text("Groups in the clusterRoleBinding"),
    ),
    wide(
        "ServiceAccounts",
        "string",
        Desc::Text("ServiceAccounts in the clusterRoleBinding"),
    ),
];

static PRIORITY_CLASS_COLUMNS: &[Col] = &[
    NAME,
    col("Value", "integer", field::<PriorityClass>("value")),
    col(
        "Global-Default",
        "boolean",
        field::<PriorityClass>("globalDefault"),
    ),
    AGE,
    col(
        "PreemptionPolicy",
        "string",
        field::<PriorityClass>("preemptionPolicy"),
    ),
];

static RUNTIME_CLASS_COLUMNS: &[Col] = &[
    NAME,
    col("Handler", "string", field::<ObjectMeta>("handler")),
    AGE,
];

static LEASE_COLUMNS: &[Col] = &[
    NAME,
    col("Holder", "string", field::<LeaseSpec>("holderIdentity")),
    AGE,
];

static PDB_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Min Available",
        "string",
        Desc::Text("The minimum number of pods that must be available."),
    ),
    col(
        "Max Unavailable",
        "string",
        Desc::Text("The maximum number of pods that may be unavailable."),
    ),
    col(
        "Allowed Disruptions",
        "integer",
        Desc::Text("Calculated number of pods that may be disrupted at this time."),
    ),
    AGE,
];

static WEBHOOK_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Webhooks",
        "integer",
        Desc::Text("Webhooks indicates the number of webhooks registered in this configuration"),
    ),
    AGE,
];

static VAP_COLUMNS: &[Col] = &[
    NAME,
    col(
        "Validations",
        "integer",
        Desc::Text(
            "Validations indicates the number of validation rules defined in this configuration",
        ),
    ),
    col(
        "ParamKind",
        "string",
        Desc::Text("ParamKind specifies the kind of resources used to parameterize this policy"),
    ),
    AGE,
];

static VAP_BINDING_COLUMNS: &[Col] = &[
    NAME,
    col(
        "PolicyName",
        "string",
        Desc::Text("PolicyName indicates the policy definition which the policy binding binded to"),
    ),
    col(
        "ParamRef",
        "string",
        Desc::Text("ParamRef indicates the param resource which sets the configration param"),
    ),
    AGE,
];

static CSR_COLUMNS: &[Col] = &[
    NAME,
    AGE,
    col(
        "SignerName",
        "string",
        field::<CertificateSigningRequestSpec>("signerName"),
    ),
    col(
        "Requestor",
        "string",
        field::<CertificateSigningRequestSpec>("request"),
    ),
    col(
        "RequestedDuration",
        "string",
        field::<CertificateSigningRequestSpec>("expirationSeconds"),
    ),
    col(
        "Condition",
        "string",
        field::<CertificateSigningRequestStatus>("conditions"),
    ),
];

static ROLE_BINDING: Printer = Printer {
    columns: ROLE_BINDING_COLUMNS,
    cells: role_binding,
};
static CLUSTER_ROLE_BINDING: Printer = Printer {
    columns: CLUSTER_ROLE_BINDING_COLUMNS,
    cells: cluster_role_binding,
};
static PRIORITY_CLASS: Printer = Printer {
    columns: PRIORITY_CLASS_COLUMNS,
    cells: priority_class,
};
static RUNTIME_CLASS: Printer = Printer {
    columns: RUNTIME_CLASS_COLUMNS,
    cells: runtime_class,
};
static LEASE: Printer = Printer {
    columns: LEASE_COLUMNS,
    cells: lease,
};
static PDB: Printer = Printer {
    columns: PDB_COLUMNS,
    cells: pod_disruption_budget,
};
static MUTATING_WEBHOOK: Printer = Printer {
    columns: WEBHOOK_COLUMNS,
    cells: mutating_webhook,
};
static VALIDATING_WEBHOOK: Printer = Printer {
    columns: WEBHOOK_COLUMNS,
    cells: validating_webhook,
};
static VAP: Printer = Printer {
    columns: VAP_COLUMNS,
    cells: validating_admission_policy,
};
static VAP_BINDING: Printer = Printer {
    columns: VAP_BINDING_COLUMNS,
    cells: validating_admission_policy_binding,
};
static CSR: Printer = Printer {
    columns: CSR_COLUMNS,
    cells: certificate_signing_request,
};

pub(super) fn printer(group: &str, kind: &str) -> Option<&'static Printer> {
    match (group, kind) {
        ("rbac.authorization.k8s.io", "RoleBinding") => Some(&ROLE_BINDING),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => Some(&CLUSTER_ROLE_BINDING),
        ("scheduling.k8s.io", "PriorityClass") => Some(&PRIORITY_CLASS),
        ("node.k8s.io", "RuntimeClass") => Some(&RUNTIME_CLASS),
        ("coordination.k8s.io", "Lease") => Some(&LEASE),
        ("policy", "PodDisruptionBudget") => Some(&PDB),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => Some(&MUTATING_WEBHOOK),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            Some(&VALIDATING_WEBHOOK)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => Some(&VAP),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => Some(&VAP_BINDING),
        ("certificates.k8s.io", "CertificateSigningRequest") => Some(&CSR),
        _ => None,
    }
}

/// `rbac.SubjectsStrings`: users, groups and `namespace/name` service accounts.
fn binding_cells(
    meta: &ObjectMeta,
    role_ref: &RoleRef,
    subjects: &[Subject],
    now: Timestamp,
) -> Vec<Value> {
    let pick = |kind: &str| -> Vec<String> {
        subjects
            .iter()
            .filter(|subject| subject.kind == kind)
            .map(|subject| match kind {
                "ServiceAccount" => format!(
                    "{}/{}",
                    subject.namespace.as_deref().unwrap_or(""),
                    subject.name
                ),
                _ => subject.name.clone(),
            })
            .collect()
    };
    vec![
        name(meta),
        s(format!("{}/{}", role_ref.kind, role_ref.name)),
        age(meta, now),
        s(pick("User").join(", ")),
        s(pick("Group").join(", ")),
        s(pick("ServiceAccount").join(", ")),
    ]
}

fn role_binding(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let rb: RoleBinding = typed(obj)?;
    Some(binding_cells(
        &rb.metadata,
        &rb.role_ref,
        rb.subjects.as_deref().unwrap_or(&[]),
        now,
    ))
}

fn cluster_role_binding(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let crb: ClusterRoleBinding = typed(obj)?;
    Some(binding_cells(
        &crb.metadata,
        &crb.role_ref,
        crb.subjects.as_deref().unwrap_or(&[]),
        now,
    ))
}

fn priority_class(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let pc: PriorityClass = typed(obj)?;
    Some(vec![
        name(&pc.metadata),
        int(pc.value),
        Value::Bool(pc.global_default.unwrap_or(false)),
        age(&pc.metadata, now),
        s(pc.preemption_policy.clone().unwrap_or_default()),
    ])
}

fn runtime_class(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let rc: RuntimeClass = typed(obj)?;
    Some(vec![
        name(&rc.metadata),
        s(rc.handler.clone()),
        age(&rc.metadata, now),
    ])
}

fn lease(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let lease: Lease = typed(obj)?;
    let holder = lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_default();
    Some(vec![
        name(&lease.metadata),
        s(holder),
        age(&lease.metadata, now),
    ])
}

/// `IntOrString.String()`, `N/A` when unset.
fn int_or_string(v: Option<&IntOrString>) -> String {
    match v {
        Some(IntOrString::Int(i)) => i.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "N/A".to_string(),
    }
}

fn pod_disruption_budget(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let pdb: PodDisruptionBudget = typed(obj)?;
    let spec = pdb.spec.clone().unwrap_or_default();
    Some(vec![
        name(&pdb.metadata),
        s(int_or_string(spec.min_available.as_ref())),
        s(int_or_string(spec.max_unavailable.as_ref())),
        int(pdb.status.as_ref().map_or(0, |st| st.disruptions_allowed)),
        age(&pdb.metadata, now),
    ])
}

fn mutating_webhook(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let config: MutatingWebhookConfiguration = typed(obj)?;
    let n = config.webhooks.as_ref().map_or(0, |w| w.len());
    Some(vec![
        name(&config.metadata),
        count(n),
        age(&config.metadata, now),
    ])
}

fn validating_webhook(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let config: ValidatingWebhookConfiguration = typed(obj)?;
    let n = config.webhooks.as_ref().map_or(0, |w| w.len());
    Some(vec![
        name(&config.metadata),
        count(n),
        age(&config.metadata, now),
    ])
}

fn validating_admission_policy(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let policy: ValidatingAdmissionPolicy = typed(obj)?;
    let spec = policy.spec.clone().unwrap_or_default();
    let param_kind = match &spec.param_kind {
        Some(p) => format!(
            "{}/{}",
            p.api_version.as_deref().unwrap_or(""),
            p.kind.as_deref().unwrap_or("")
        ),
        None => "<unset>".to_string(),
    };
    Some(vec![
        name(&policy.metadata),
        count(spec.validations.as_ref().map_or(0, |v| v.len())),
        s(param_kind),
        age(&policy.metadata, now),
    ])
}

/// The gogo-protobuf `String()` of a LabelSelector, which upstream prints for a
/// binding's param selector.
fn proto_label_selector(sel: &LabelSelector) -> String {
    let labels: String = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {v},"))
        .collect();
    let expressions: String = sel
        .match_expressions
        .iter()
        .flatten()
        .map(|e| {
            let values = e.values.as_deref().unwrap_or(&[]).join(" ");
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{values}],}},",
                e.key, e.operator
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )
}

fn validating_admission_policy_binding(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let binding: ValidatingAdmissionPolicyBinding = typed(obj)?;
    let spec = binding.spec.clone().unwrap_or_default();
    let param = match &spec.param_ref {
        Some(pr) => match (pr.name.as_deref().filter(|n| !n.is_empty()), &pr.selector) {
            (Some(n), _) => match pr.namespace.as_deref().filter(|ns| !ns.is_empty()) {
                Some(ns) => format!("{ns}/{n}"),
                // Whether the param is cluster-scoped cannot be told from here.
                None => format!("*/{n}"),
            },
            (None, Some(sel)) => proto_label_selector(sel),
            (None, None) => "<unset>".to_string(),
        },
        None => "<unset>".to_string(),
    };
    Some(vec![
        name(&binding.metadata),
        s(spec.policy_name.unwrap_or_default()),
        s(param),
        age(&binding.metadata, now),
    ])
}

/// `extractCSRStatus`: Denied, Approved or Pending, then ",Failed" and ",Issued".
fn csr_status(status: Option<&CertificateSigningRequestStatus>) -> String {
    let conditions = status
        .and_then(|st| st.conditions.as_deref())
        .unwrap_or(&[]);
    let has = |t: &str| conditions.iter().any(|c| c.type_ == t);
    let mut text = if has("Denied") {
        "Denied".to_string()
    } else if has("Approved") {
        "Approved".to_string()
    } else {
        "Pending".to_string()
    };
    if has("Failed") {
        text.push_str(",Failed");
    }
    if status
        .and_then(|st| st.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty())
    {
        text.push_str(",Issued");
    }
    text
}

fn certificate_signing_request(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let csr: CertificateSigningRequest = typed(obj)?;
    let signer = if csr.spec.signer_name.is_empty() {
        "<none>".to_string()
    } else {
        csr.spec.signer_name.clone()
    };
    let requested = csr.spec.expiration_seconds.map_or_else(
        || "<none>".to_string(),
        |secs| human_duration(SignedDuration::from_secs(i64::from(secs))),
    );
    Some(vec![
        name(&csr.metadata),
        age(&csr.metadata, now),
        s(signer),
        s(csr.spec.username.clone().unwrap_or_default()),
        s(requested),
        s(csr_status(csr.status.as_ref())),
    ])
}
