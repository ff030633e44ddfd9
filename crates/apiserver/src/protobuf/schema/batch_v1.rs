//! Protobuf field table of `k8s.io.api.batch.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{Bool, I32, I64, M, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{core_v1, meta_v1};


pub static CronJob: Msg = msg("CronJob", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&CronJobSpec), O),
    f(3, "status", M(&CronJobStatus), O),
]);
pub static CronJobList: Msg = msg("CronJobList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&CronJob), R),
]);
pub static CronJobSpec: Msg = msg("CronJobSpec", Plain, &[
    f(1, "schedule", Str, N),
    f(8, "timeZone", Str, O | P),
    f(2, "startingDeadlineSeconds", I64, O | P),
    f(3, "concurrencyPolicy", Str, O),
    f(4, "suspend", Bool, O | P),
    f(5, "jobTemplate", M(&JobTemplateSpec), N),
    f(6, "successfulJobsHistoryLimit", I32, O | P),
    f(7, "failedJobsHistoryLimit", I32, O | P),
]);
pub static CronJobStatus: Msg = msg("CronJobStatus", Plain, &[
    f(1, "active", M(&core_v1::ObjectReference), R | O),
    f(4, "lastScheduleTime", M(&meta_v1::Time), O | P),
    f(5, "lastSuccessfulTime", M(&meta_v1::Time), O | P),
]);
pub static Job: Msg = msg("Job", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&JobSpec), O),
    f(3, "status", M(&JobStatus), O),
]);
pub static JobCondition: Msg = msg("JobCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "lastProbeTime", M(&meta_v1::Time), O),
    f(4, "lastTransitionTime", M(&meta_v1::Time), O),
    f(5, "reason", Str, O),
    f(6, "message", Str, O),
]);
pub static JobList: Msg = msg("JobList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Job), R),
]);
pub static JobSpec: Msg = msg("JobSpec", Plain, &[
    f(1, "parallelism", I32, O | P),
    f(2, "completions", I32, O | P),
    f(3, "activeDeadlineSeconds", I64, O | P),
    f(11, "podFailurePolicy", M(&PodFailurePolicy), O | P),
    f(16, "successPolicy", M(&SuccessPolicy), O | P),
    f(7, "backoffLimit", I32, O | P),
    f(12, "backoffLimitPerIndex", I32, O | P),
    f(13, "maxFailedIndexes", I32, O | P),
    f(4, "selector", M(&meta_v1::LabelSelector), O | P),
    f(5, "manualSelector", Bool, O | P),
    f(6, "template", M(&core_v1::PodTemplateSpec), N),
    f(8, "ttlSecondsAfterFinished", I32, O | P),
    f(9, "completionMode", Str, O | P),
    f(10, "suspend", Bool, O | P),
    f(14, "podReplacementPolicy", Str, O | P),
    f(15, "managedBy", Str, O | P),
]);
pub static JobStatus: Msg = msg("JobStatus", Plain, &[
    f(1, "conditions", M(&JobCondition), R | O),
    f(2, "startTime", M(&meta_v1::Time), O | P),
    f(3, "completionTime", M(&meta_v1::Time), O | P),
    f(4, "active", I32, O),
    f(5, "succeeded", I32, O),
    f(6, "failed", I32, O),
    f(11, "terminating", I32, O | P),
    f(7, "completedIndexes", Str, O),
    f(10, "failedIndexes", Str, O | P),
    f(8, "uncountedTerminatedPods", M(&UncountedTerminatedPods), O | P),
    f(9, "ready", I32, O | P),
]);
pub static JobTemplateSpec: Msg = msg("JobTemplateSpec", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&JobSpec), O),
]);
pub static PodFailurePolicy: Msg = msg("PodFailurePolicy", Plain, &[
    f(1, "rules", M(&PodFailurePolicyRule), R),
]);
pub static PodFailurePolicyOnExitCodesRequirement: Msg = msg("PodFailurePolicyOnExitCodesRequirement", Plain, &[
    f(1, "containerName", Str, O | P),
    f(2, "operator", Str, N),
    f(3, "values", I32, R),
]);
pub static PodFailurePolicyOnPodConditionsPattern: Msg = msg("PodFailurePolicyOnPodConditionsPattern", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
]);
pub static PodFailurePolicyRule: Msg = msg("PodFailurePolicyRule", Plain, &[
    f(1, "action", Str, N),
    f(2, "onExitCodes", M(&PodFailurePolicyOnExitCodesRequirement), O | P),
    f(3, "onPodConditions", M(&PodFailurePolicyOnPodConditionsPattern), R | O),
]);
pub static SuccessPolicy: Msg = msg("SuccessPolicy", Plain, &[
    f(1, "rules", M(&SuccessPolicyRule), R),
]);
pub static SuccessPolicyRule: Msg = msg("SuccessPolicyRule", Plain, &[
    f(1, "succeededIndexes", Str, O | P),
    f(2, "succeededCount", I32, O | P),
]);
pub static UncountedTerminatedPods: Msg = msg("UncountedTerminatedPods", Plain, &[
    f(1, "succeeded", Str, R | O),
    f(2, "failed", Str, R | O),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &CronJob,
    &CronJobList,
    &CronJobSpec,
    &CronJobStatus,
    &Job,
    &JobCondition,
    &JobList,
    &JobSpec,
    &JobStatus,
    &JobTemplateSpec,
    &PodFailurePolicy,
    &PodFailurePolicyOnExitCodesRequirement,
    &PodFailurePolicyOnPodConditionsPattern,
    &PodFailurePolicyRule,
    &SuccessPolicy,
    &SuccessPolicyRule,
    &UncountedTerminatedPods,
];
