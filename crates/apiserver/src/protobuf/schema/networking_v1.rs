//! Protobuf field table of `k8s.io.api.networking.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{I32, M, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{core_v1, machinery, meta_v1};


pub static HTTPIngressPath: Msg = msg("HTTPIngressPath", Plain, &[
    f(1, "path", Str, O),
    f(3, "pathType", Str, P),
    f(2, "backend", M(&IngressBackend), N),
]);
pub static HTTPIngressRuleValue: Msg = msg("HTTPIngressRuleValue", Plain, &[
    f(1, "paths", M(&HTTPIngressPath), R),
]);
pub static IPAddress: Msg = msg("IPAddress", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&IPAddressSpec), O),
]);
pub static IPAddressList: Msg = msg("IPAddressList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&IPAddress), R),
]);
pub static IPAddressSpec: Msg = msg("IPAddressSpec", Plain, &[
    f(1, "parentRef", M(&ParentReference), O | P),
]);
pub static IPBlock: Msg = msg("IPBlock", Plain, &[
    f(1, "cidr", Str, N),
    f(2, "except", Str, R | O),
]);
pub static Ingress: Msg = msg("Ingress", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&IngressSpec), O),
    f(3, "status", M(&IngressStatus), O),
]);
pub static IngressBackend: Msg = msg("IngressBackend", Plain, &[
    f(4, "service", M(&IngressServiceBackend), O | P),
    f(3, "resource", M(&core_v1::TypedLocalObjectReference), O | P),
]);
pub static IngressClass: Msg = msg("IngressClass", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&IngressClassSpec), O),
]);
pub static IngressClassList: Msg = msg("IngressClassList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&IngressClass), R),
]);
pub static IngressClassParametersReference: Msg = msg("IngressClassParametersReference", Plain, &[
    f(1, "apiGroup", Str, O | P),
    f(2, "kind", Str, N),
    f(3, "name", Str, N),
    f(4, "scope", Str, P),
    f(5, "namespace", Str, O | P),
]);
pub static IngressClassSpec: Msg = msg("IngressClassSpec", Plain, &[
    f(1, "controller", Str, O),
    f(2, "parameters", M(&IngressClassParametersReference), O | P),
]);
pub static IngressList: Msg = msg("IngressList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Ingress), R),
]);
pub static IngressLoadBalancerIngress: Msg = msg("IngressLoadBalancerIngress", Plain, &[
    f(1, "ip", Str, O),
    f(2, "hostname", Str, O),
    f(4, "ports", M(&IngressPortStatus), R | O),
]);
pub static IngressLoadBalancerStatus: Msg = msg("IngressLoadBalancerStatus", Plain, &[
    f(1, "ingress", M(&IngressLoadBalancerIngress), R | O),
]);
pub static IngressPortStatus: Msg = msg("IngressPortStatus", Plain, &[
    f(1, "port", I32, N),
    f(2, "protocol", Str, N),
    f(3, "error", Str, O | P),
]);
pub static IngressRule: Msg = msg("IngressRule", Plain, &[
    f(1, "host", Str, O),
    f(2, "", M(&IngressRuleValue), N),
]);
pub static IngressRuleValue: Msg = msg("IngressRuleValue", Plain, &[
    f(1, "http", M(&HTTPIngressRuleValue), O | P),
]);
pub static IngressServiceBackend: Msg = msg("IngressServiceBackend", Plain, &[
    f(1, "name", Str, N),
    f(2, "port", M(&ServiceBackendPort), O),
]);
pub static IngressSpec: Msg = msg("IngressSpec", Plain, &[
    f(4, "ingressClassName", Str, O | P),
    f(1, "defaultBackend", M(&IngressBackend), O | P),
    f(2, "tls", M(&IngressTLS), R | O),
    f(3, "rules", M(&IngressRule), R | O),
]);
pub static IngressStatus: Msg = msg("IngressStatus", Plain, &[
    f(1, "loadBalancer", M(&IngressLoadBalancerStatus), O),
]);
pub static IngressTLS: Msg = msg("IngressTLS", Plain, &[
    f(1, "hosts", Str, R | O),
    f(2, "secretName", Str, O),
]);
pub static NetworkPolicy: Msg = msg("NetworkPolicy", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&NetworkPolicySpec), O),
]);
pub static NetworkPolicyEgressRule: Msg = msg("NetworkPolicyEgressRule", Plain, &[
    f(1, "ports", M(&NetworkPolicyPort), R | O),
    f(2, "to", M(&NetworkPolicyPeer), R | O),
]);
pub static NetworkPolicyIngressRule: Msg = msg("NetworkPolicyIngressRule", Plain, &[
    f(1, "ports", M(&NetworkPolicyPort), R | O),
    f(2, "from", M(&NetworkPolicyPeer), R | O),
]);
pub static NetworkPolicyList: Msg = msg("NetworkPolicyList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&NetworkPolicy), R),
]);
pub static NetworkPolicyPeer: Msg = msg("NetworkPolicyPeer", Plain, &[
    f(1, "podSelector", M(&meta_v1::LabelSelector), O | P),
    f(2, "namespaceSelector", M(&meta_v1::LabelSelector), O | P),
    f(3, "ipBlock", M(&IPBlock), O | P),
]);
pub static NetworkPolicyPort: Msg = msg("NetworkPolicyPort", Plain, &[
    f(1, "protocol", Str, O | P),
    f(2, "port", M(&machinery::IntOrString), O | P),
    f(3, "endPort", I32, O | P),
]);
pub static NetworkPolicySpec: Msg = msg("NetworkPolicySpec", Plain, &[
    f(1, "podSelector", M(&meta_v1::LabelSelector), N),
    f(2, "ingress", M(&NetworkPolicyIngressRule), R | O),
    f(3, "egress", M(&NetworkPolicyEgressRule), R | O),
    f(4, "policyTypes", Str, R | O),
]);
pub static ParentReference: Msg = msg("ParentReference", Plain, &[
    f(1, "group", Str, O),
    f(2, "resource", Str, O),
    f(3, "namespace", Str, O),
    f(4, "name", Str, O),
]);
pub static ServiceBackendPort: Msg = msg("ServiceBackendPort", Plain, &[
    f(1, "name", Str, O),
    f(2, "number", I32, O),
]);
pub static ServiceCIDR: Msg = msg("ServiceCIDR", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&ServiceCIDRSpec), O),
    f(3, "status", M(&ServiceCIDRStatus), O),
]);
pub static ServiceCIDRList: Msg = msg("ServiceCIDRList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ServiceCIDR), R),
]);
pub static ServiceCIDRSpec: Msg = msg("ServiceCIDRSpec", Plain, &[
    f(1, "cidrs", Str, R | O),
]);
pub static ServiceCIDRStatus: Msg = msg("ServiceCIDRStatus", Plain, &[
    f(1, "conditions", M(&meta_v1::Condition), R | O),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &HTTPIngressPath,
    &HTTPIngressRuleValue,
    &IPAddress,
    &IPAddressList,
    &IPAddressSpec,
    &IPBlock,
    &Ingress,
    &IngressBackend,
    &IngressClass,
    &IngressClassList,
    &IngressClassParametersReference,
    &IngressClassSpec,
    &IngressList,
    &IngressLoadBalancerIngress,
    &IngressLoadBalancerStatus,
    &IngressPortStatus,
    &IngressRule,
    &IngressRuleValue,
    &IngressServiceBackend,
    &IngressSpec,
    &IngressStatus,
    &IngressTLS,
    &NetworkPolicy,
    &NetworkPolicyEgressRule,
    &NetworkPolicyIngressRule,
    &NetworkPolicyList,
    &NetworkPolicyPeer,
    &NetworkPolicyPort,
    &NetworkPolicySpec,
    &ParentReference,
    &ServiceBackendPort,
    &ServiceCIDR,
    &ServiceCIDRList,
    &ServiceCIDRSpec,
    &ServiceCIDRStatus,
];
