//! Protobuf field table of `k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{AsRawJson, AsSchemaOrArray, AsSchemaOrBool, AsSchemaOrStringArray, Plain};
use super::Ty::{Bool, Bytes, F64, I32, I64, M, MapM, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{machinery, meta_v1};


pub static ConversionRequest: Msg = msg("ConversionRequest", Plain, &[
    f(1, "uid", Str, N),
    f(2, "desiredAPIVersion", Str, N),
    f(3, "objects", M(&machinery::RawExtension), R),
]);
pub static ConversionResponse: Msg = msg("ConversionResponse", Plain, &[
    f(1, "uid", Str, N),
    f(2, "convertedObjects", M(&machinery::RawExtension), R),
    f(3, "result", M(&meta_v1::Status), N),
]);
pub static ConversionReview: Msg = msg("ConversionReview", Plain, &[
    f(1, "request", M(&ConversionRequest), O | P),
    f(2, "response", M(&ConversionResponse), O | P),
]);
pub static CustomResourceColumnDefinition: Msg = msg("CustomResourceColumnDefinition", Plain, &[
    f(1, "name", Str, N),
    f(2, "type", Str, N),
    f(3, "format", Str, O),
    f(4, "description", Str, O),
    f(5, "priority", I32, O),
    f(6, "jsonPath", Str, N),
]);
pub static CustomResourceConversion: Msg = msg("CustomResourceConversion", Plain, &[
    f(1, "strategy", Str, N),
    f(2, "webhook", M(&WebhookConversion), O | P),
]);
pub static CustomResourceDefinition: Msg = msg("CustomResourceDefinition", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&CustomResourceDefinitionSpec), N),
    f(3, "status", M(&CustomResourceDefinitionStatus), O),
]);
pub static CustomResourceDefinitionCondition: Msg = msg("CustomResourceDefinitionCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "lastTransitionTime", M(&meta_v1::Time), O),
    f(4, "reason", Str, O),
    f(5, "message", Str, O),
]);
pub static CustomResourceDefinitionList: Msg = msg("CustomResourceDefinitionList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&CustomResourceDefinition), R),
]);
pub static CustomResourceDefinitionNames: Msg = msg("CustomResourceDefinitionNames", Plain, &[
    f(1, "plural", Str, N),
    f(2, "singular", Str, O),
    f(3, "shortNames", Str, R | O),
    f(4, "kind", Str, N),
    f(5, "listKind", Str, O),
    f(6, "categories", Str, R | O),
]);
pub static CustomResourceDefinitionSpec: Msg = msg("CustomResourceDefinitionSpec", Plain, &[
    f(1, "group", Str, N),
    f(3, "names", M(&CustomResourceDefinitionNames), N),
    f(4, "scope", Str, N),
    f(7, "versions", M(&CustomResourceDefinitionVersion), R),
    f(9, "conversion", M(&CustomResourceConversion), O | P),
    f(10, "preserveUnknownFields", Bool, O),
]);
pub static CustomResourceDefinitionStatus: Msg = msg("CustomResourceDefinitionStatus", Plain, &[
    f(1, "conditions", M(&CustomResourceDefinitionCondition), R),
    f(2, "acceptedNames", M(&CustomResourceDefinitionNames), N),
    f(3, "storedVersions", Str, R),
]);
pub static CustomResourceDefinitionVersion: Msg = msg("CustomResourceDefinitionVersion", Plain, &[
    f(1, "name", Str, N),
    f(2, "served", Bool, N),
    f(3, "storage", Bool, N),
    f(7, "deprecated", Bool, O),
    f(8, "deprecationWarning", Str, O | P),
    f(4, "schema", M(&CustomResourceValidation), O | P),
    f(5, "subresources", M(&CustomResourceSubresources), O | P),
    f(6, "additionalPrinterColumns", M(&CustomResourceColumnDefinition), R | O),
    f(9, "selectableFields", M(&SelectableField), R | O),
]);
pub static CustomResourceSubresourceScale: Msg = msg("CustomResourceSubresourceScale", Plain, &[
    f(1, "specReplicasPath", Str, N),
    f(2, "statusReplicasPath", Str, N),
    f(3, "labelSelectorPath", Str, O | P),
]);
pub static CustomResourceSubresourceStatus: Msg = msg("CustomResourceSubresourceStatus", Plain, &[]);
pub static CustomResourceSubresources: Msg = msg("CustomResourceSubresources", Plain, &[
    f(1, "status", M(&CustomResourceSubresourceStatus), O | P),
    f(2, "scale", M(&CustomResourceSubresourceScale), O | P),
]);
pub static CustomResourceValidation: Msg = msg("CustomResourceValidation", Plain, &[
    f(1, "openAPIV3Schema", M(&JSONSchemaProps), O | P),
]);
pub static ExternalDocumentation: Msg = msg("ExternalDocumentation", Plain, &[
    f(1, "description", Str, O),
    f(2, "url", Str, O),
]);
pub static JSON: Msg = msg("JSON", AsRawJson, &[
    f(1, "raw", Bytes, N),
]);
pub static JSONSchemaProps: Msg = msg("JSONSchemaProps", Plain, &[
    f(1, "id", Str, O),
    f(2, "$schema", Str, O),
    f(3, "$ref", Str, O | P),
    f(4, "description", Str, O),
    f(5, "type", Str, O),
    f(6, "format", Str, O),
    f(7, "title", Str, O),
    f(8, "default", M(&JSON), O | P),
    f(9, "maximum", F64, O | P),
    f(10, "exclusiveMaximum", Bool, O),
    f(11, "minimum", F64, O | P),
    f(12, "exclusiveMinimum", Bool, O),
    f(13, "maxLength", I64, O | P),
    f(14, "minLength", I64, O | P),
    f(15, "pattern", Str, O),
    f(16, "maxItems", I64, O | P),
    f(17, "minItems", I64, O | P),
    f(18, "uniqueItems", Bool, O),
    f(19, "multipleOf", F64, O | P),
    f(20, "enum", M(&JSON), R | O),
    f(21, "maxProperties", I64, O | P),
    f(22, "minProperties", I64, O | P),
    f(23, "required", Str, R | O),
    f(24, "items", M(&JSONSchemaPropsOrArray), O | P),
    f(25, "allOf", M(&JSONSchemaProps), R | O),
    f(26, "oneOf", M(&JSONSchemaProps), R | O),
    f(27, "anyOf", M(&JSONSchemaProps), R | O),
    f(28, "not", M(&JSONSchemaProps), O | P),
    f(29, "properties", MapM(&JSONSchemaProps), O),
    f(30, "additionalProperties", M(&JSONSchemaPropsOrBool), O | P),
    f(31, "patternProperties", MapM(&JSONSchemaProps), O),
    f(32, "dependencies", MapM(&JSONSchemaPropsOrStringArray), O),
    f(33, "additionalItems", M(&JSONSchemaPropsOrBool), O | P),
    f(34, "definitions", MapM(&JSONSchemaProps), O),
    f(35, "externalDocs", M(&ExternalDocumentation), O | P),
    f(36, "example", M(&JSON), O | P),
    f(37, "nullable", Bool, O),
    f(38, "x-kubernetes-preserve-unknown-fields", Bool, O | P),
    f(39, "x-kubernetes-embedded-resource", Bool, O),
    f(40, "x-kubernetes-int-or-string", Bool, O),
    f(41, "x-kubernetes-list-map-keys", Str, R | O),
    f(42, "x-kubernetes-list-type", Str, O | P),
    f(43, "x-kubernetes-map-type", Str, O | P),
    f(44, "x-kubernetes-validations", M(&ValidationRule), R | O),
]);
pub static JSONSchemaPropsOrArray: Msg = msg("JSONSchemaPropsOrArray", AsSchemaOrArray, &[
    f(1, "schema", M(&JSONSchemaProps), N),
    f(2, "jSONSchemas", M(&JSONSchemaProps), R),
]);
pub static JSONSchemaPropsOrBool: Msg = msg("JSONSchemaPropsOrBool", AsSchemaOrBool, &[
    f(1, "allows", Bool, N),
    f(2, "schema", M(&JSONSchemaProps), N),
]);
pub static JSONSchemaPropsOrStringArray: Msg = msg("JSONSchemaPropsOrStringArray", AsSchemaOrStringArray, &[
    f(1, "schema", M(&JSONSchemaProps), N),
    f(2, "property", Str, R),
]);
pub static SelectableField: Msg = msg("SelectableField", Plain, &[
    f(1, "jsonPath", Str, N),
]);
pub static ServiceReference: Msg = msg("ServiceReference", Plain, &[
    f(1, "namespace", Str, N),
    f(2, "name", Str, N),
    f(3, "path", Str, O | P),
    f(4, "port", I32, O | P),
]);
pub static ValidationRule: Msg = msg("ValidationRule", Plain, &[
    f(1, "rule", Str, N),
    f(2, "message", Str, O),
    f(3, "messageExpression", Str, O),
    f(4, "reason", Str, O | P),
    f(5, "fieldPath", Str, O),
    f(6, "optionalOldSelf", Bool, O | P),
]);
pub static WebhookClientConfig: Msg = msg("WebhookClientConfig", Plain, &[
    f(3, "url", Str, O | P),
    f(1, "service", M(&ServiceReference), O | P),
    f(2, "caBundle", Bytes, O),
]);
pub static WebhookConversion: Msg = msg("WebhookConversion", Plain, &[
    f(2, "clientConfig", M(&WebhookClientConfig), O | P),
    f(3, "conversionReviewVersions", Str, R),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &ConversionRequest,
    &ConversionResponse,
    &ConversionReview,
    &CustomResourceColumnDefinition,
    &CustomResourceConversion,
    &CustomResourceDefinition,
    &CustomResourceDefinitionCondition,
    &CustomResourceDefinitionList,
    &CustomResourceDefinitionNames,
    &CustomResourceDefinitionSpec,
    &CustomResourceDefinitionStatus,
    &CustomResourceDefinitionVersion,
    &CustomResourceSubresourceScale,
    &CustomResourceSubresourceStatus,
    &CustomResourceSubresources,
    &CustomResourceValidation,
    &ExternalDocumentation,
    &JSON,
    &JSONSchemaProps,
    &JSONSchemaPropsOrArray,
    &JSONSchemaPropsOrBool,
    &JSONSchemaPropsOrStringArray,
    &SelectableField,
    &ServiceReference,
    &ValidationRule,
    &WebhookClientConfig,
    &WebhookConversion,
];
