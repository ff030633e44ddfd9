//! Protobuf field table of `k8s.io.api.admissionregistration.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{Bytes, I32, I64, M, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::meta_v1;


pub static AuditAnnotation: Msg = msg("AuditAnnotation", Plain, &[
    f(1, "key", Str, N),
    f(2, "valueExpression", Str, N),
]);
pub static ExpressionWarning: Msg = msg("ExpressionWarning", Plain, &[
    f(2, "fieldRef", Str, N),
    f(3, "warning", Str, N),
]);
pub static MatchCondition: Msg = msg("MatchCondition", Plain, &[
    f(1, "name", Str, N),
    f(2, "expression", Str, N),
]);
pub static MatchResources: Msg = msg("MatchResources", Plain, &[
    f(1, "namespaceSelector", M(&meta_v1::LabelSelector), O | P),
    f(2, "objectSelector", M(&meta_v1::LabelSelector), O | P),
    f(3, "resourceRules", M(&NamedRuleWithOperations), R | O),
    f(4, "excludeResourceRules", M(&NamedRuleWithOperations), R | O),
    f(7, "matchPolicy", Str, O | P),
]);
pub static MutatingWebhook: Msg = msg("MutatingWebhook", Plain, &[
    f(1, "name", Str, N),
    f(2, "clientConfig", M(&WebhookClientConfig), N),
    f(3, "rules", M(&RuleWithOperations), R | O),
    f(4, "failurePolicy", Str, O | P),
    f(9, "matchPolicy", Str, O | P),
    f(5, "namespaceSelector", M(&meta_v1::LabelSelector), O | P),
    f(11, "objectSelector", M(&meta_v1::LabelSelector), O | P),
    f(6, "sideEffects", Str, P),
    f(7, "timeoutSeconds", I32, O | P),
    f(8, "admissionReviewVersions", Str, R),
    f(10, "reinvocationPolicy", Str, O | P),
    f(12, "matchConditions", M(&MatchCondition), R | O),
]);
pub static MutatingWebhookConfiguration: Msg = msg("MutatingWebhookConfiguration", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "webhooks", M(&MutatingWebhook), R | O),
]);
pub static MutatingWebhookConfigurationList: Msg = msg("MutatingWebhookConfigurationList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&MutatingWebhookConfiguration), R),
]);
pub static NamedRuleWithOperations: Msg = msg("NamedRuleWithOperations", Plain, &[
    f(1, "resourceNames", Str, R | O),
    f(2, "", M(&RuleWithOperations), N),
]);
pub static ParamKind: Msg = msg("ParamKind", Plain, &[
    f(1, "apiVersion", Str, O),
    f(2, "kind", Str, O),
]);
pub static ParamRef: Msg = msg("ParamRef", Plain, &[
    f(1, "name", Str, O),
    f(2, "namespace", Str, O),
    f(3, "selector", M(&meta_v1::LabelSelector), O | P),
    f(4, "parameterNotFoundAction", Str, O | P),
]);
pub static Rule: Msg = msg("Rule", Plain, &[
    f(1, "apiGroups", Str, R | O),
    f(2, "apiVersions", Str, R | O),
    f(3, "resources", Str, R | O),
    f(4, "scope", Str, O | P),
]);
pub static RuleWithOperations: Msg = msg("RuleWithOperations", Plain, &[
    f(1, "operations", Str, R | O),
    f(2, "", M(&Rule), N),
]);
pub static ServiceReference: Msg = msg("ServiceReference", Plain, &[
    f(1, "namespace", Str, N),
    f(2, "name", Str, N),
    f(3, "path", Str, O | P),
    f(4, "port", I32, O | P),
]);
pub static TypeChecking: Msg = msg("TypeChecking", Plain, &[
    f(1, "expressionWarnings", M(&ExpressionWarning), R | O),
]);
pub static ValidatingAdmissionPolicy: Msg = msg("ValidatingAdmissionPolicy", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&ValidatingAdmissionPolicySpec), O),
    f(3, "status", M(&ValidatingAdmissionPolicyStatus), O),
]);
pub static ValidatingAdmissionPolicyBinding: Msg = msg("ValidatingAdmissionPolicyBinding", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&ValidatingAdmissionPolicyBindingSpec), O),
]);
pub static ValidatingAdmissionPolicyBindingList: Msg = msg("ValidatingAdmissionPolicyBindingList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ValidatingAdmissionPolicyBinding), R),
]);
pub static ValidatingAdmissionPolicyBindingSpec: Msg = msg("ValidatingAdmissionPolicyBindingSpec", Plain, &[
    f(1, "policyName", Str, O),
    f(2, "paramRef", M(&ParamRef), O | P),
    f(3, "matchResources", M(&MatchResources), O | P),
    f(4, "validationActions", Str, R | O),
]);
pub static ValidatingAdmissionPolicyList: Msg = msg("ValidatingAdmissionPolicyList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ValidatingAdmissionPolicy), R),
]);
pub static ValidatingAdmissionPolicySpec: Msg = msg("ValidatingAdmissionPolicySpec", Plain, &[
    f(1, "paramKind", M(&ParamKind), O | P),
    f(2, "matchConstraints", M(&MatchResources), O | P),
    f(3, "validations", M(&Validation), R | O),
    f(4, "failurePolicy", Str, O | P),
    f(5, "auditAnnotations", M(&AuditAnnotation), R | O),
    f(6, "matchConditions", M(&MatchCondition), R | O),
    f(7, "variables", M(&Variable), R | O),
]);
pub static ValidatingAdmissionPolicyStatus: Msg = msg("ValidatingAdmissionPolicyStatus", Plain, &[
    f(1, "observedGeneration", I64, O),
    f(2, "typeChecking", M(&TypeChecking), O | P),
    f(3, "conditions", M(&meta_v1::Condition), R | O),
]);
pub static ValidatingWebhook: Msg = msg("ValidatingWebhook", Plain, &[
    f(1, "name", Str, N),
    f(2, "clientConfig", M(&WebhookClientConfig), N),
    f(3, "rules", M(&RuleWithOperations), R | O),
    f(4, "failurePolicy", Str, O | P),
    f(9, "matchPolicy", Str, O | P),
    f(5, "namespaceSelector", M(&meta_v1::LabelSelector), O | P),
    f(10, "objectSelector", M(&meta_v1::LabelSelector), O | P),
    f(6, "sideEffects", Str, P),
    f(7, "timeoutSeconds", I32, O | P),
    f(8, "admissionReviewVersions", Str, R),
    f(11, "matchConditions", M(&MatchCondition), R | O),
]);
pub static ValidatingWebhookConfiguration: Msg = msg("ValidatingWebhookConfiguration", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "webhooks", M(&ValidatingWebhook), R | O),
]);
pub static ValidatingWebhookConfigurationList: Msg = msg("ValidatingWebhookConfigurationList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ValidatingWebhookConfiguration), R),
]);
pub static Validation: Msg = msg("Validation", Plain, &[
    f(1, "expression", Str, N),
    f(2, "message", Str, O),
    f(3, "reason", Str, O | P),
    f(4, "messageExpression", Str, O),
]);
pub static Variable: Msg = msg("Variable", Plain, &[
    f(1, "name", Str, N),
    f(2, "expression", Str, N),
]);
pub static WebhookClientConfig: Msg = msg("WebhookClientConfig", Plain, &[
    f(3, "url", Str, O | P),
    f(1, "service", M(&ServiceReference), O | P),
    f(2, "caBundle", Bytes, O),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &AuditAnnotation,
    &ExpressionWarning,
    &MatchCondition,
    &MatchResources,
    &MutatingWebhook,
    &MutatingWebhookConfiguration,
    &MutatingWebhookConfigurationList,
    &NamedRuleWithOperations,
    &ParamKind,
    &ParamRef,
    &Rule,
    &RuleWithOperations,
    &ServiceReference,
    &TypeChecking,
    &ValidatingAdmissionPolicy,
    &ValidatingAdmissionPolicyBinding,
    &ValidatingAdmissionPolicyBindingList,
    &ValidatingAdmissionPolicyBindingSpec,
    &ValidatingAdmissionPolicyList,
    &ValidatingAdmissionPolicySpec,
    &ValidatingAdmissionPolicyStatus,
    &ValidatingWebhook,
    &ValidatingWebhookConfiguration,
    &ValidatingWebhookConfigurationList,
    &Validation,
    &Variable,
    &WebhookClientConfig,
];
