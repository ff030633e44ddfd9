//! Deployments: apps/v1 SetDefaults_Deployment (replicas 1, RollingUpdate 25%/25%,
//! revisionHistoryLimit 10, progressDeadlineSeconds 600), ValidateDeployment, and the
//! apps/v1 rule that the selector never changes.

use api_types::names::is_dns1123_subdomain;
use api_types::validation::{child, FieldError};
use api_types::{ApiError, DynamicObject};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStatus, DeploymentStrategy as RolloutStrategy,
    RollingUpdateDeployment,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::decode::{validate_decoded, validate_decoded_update, with_decoded};
use super::metadata::{
    go_quote, invalid_go, not_supported_go, validate_nonnegative, validate_object_meta,
    validate_object_meta_update,
};
use super::pod_spec::{default_pod_template, opt};
use super::replicasets::{
    keep_selector_absent, selector_present, validate_selector_immutable,
    validate_template_for_controller, validate_workload_selector,
};
use super::Strategy;

pub struct DeploymentStrategy;

pub fn default_deployment(d: &mut Deployment) {
    let spec = d.spec.get_or_insert_with(DeploymentSpec::default);
    spec.replicas.get_or_insert(1);
    let strategy = spec.strategy.get_or_insert_with(RolloutStrategy::default);
    if opt(&strategy.type_).is_empty() {
        strategy.type_ = Some("RollingUpdate".to_string());
    }
    if opt(&strategy.type_) == "RollingUpdate" {
        let ru = strategy
            .rolling_update
            .get_or_insert_with(RollingUpdateDeployment::default);
        ru.max_unavailable
            .get_or_insert_with(|| IntOrString::String("25%".to_string()));
        ru.max_surge
            .get_or_insert_with(|| IntOrString::String("25%".to_string()));
    }
    spec.revision_history_limit.get_or_insert(10);
    spec.progress_deadline_seconds.get_or_insert(600);
    default_pod_template(&mut spec.template);
}

/// `%#v` of an intstr.IntOrString.
fn go_int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => format!("intstr.IntOrString{{Type:0, IntVal:{i}, StrVal:\"\"}}"),
        IntOrString::String(s) => format!(
            "intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
            go_quote(s)
        ),
    }
}

/// The number of a valid "N%" string.
fn percent(s: &str) -> Option<i64> {
    let digits = s.strip_suffix('%')?;
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Huge percentages saturate: they only need to compare above 100.
    Some(digits.parse().unwrap_or(i64::MAX))
}

/// `ValidatePositiveIntOrPercent`.
fn validate_int_or_percent(v: &IntOrString, path: &str) -> Vec<FieldError> {
    match v {
        IntOrString::String(s) if percent(s).is_none() => vec![invalid_go(
            path,
            &go_int_or_string(v),
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        )],
        IntOrString::String(_) => Vec::new(),
        IntOrString::Int(i) => validate_nonnegative(i64::from(*i), path),
    }
}

fn int_or_percent_value(v: &IntOrString) -> i64 {
    match v {
        IntOrString::Int(i) => i64::from(*i),
        IntOrString::String(s) => percent(s).unwrap_or(0),
    }
}

fn go_strategy(s: &RolloutStrategy) -> String {
    let ru = match &s.rolling_update {
        None => "(*apps.RollingUpdateDeployment)(nil)".to_string(),
        Some(r) => {
            let show = |v: &Option<IntOrString>| {
                v.as_ref().map_or(
                    "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}".to_string(),
                    go_int_or_string,
                )
            };
            format!(
                "&apps.RollingUpdateDeployment{{MaxUnavailable:{}, MaxSurge:{}}}",
                show(&r.max_unavailable),
                show(&r.max_surge)
            )
        }
    };
    format!(
        "apps.DeploymentStrategy{{Type:{}, RollingUpdate:{ru}}}",
        go_quote(opt(&s.type_))
    )
}

/// `ValidateDeploymentStrategy`.
fn validate_strategy(s: &RolloutStrategy, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match opt(&s.type_) {
        "Recreate" => {
            if s.rolling_update.is_some() {
                errs.push(FieldError::forbidden(
                    child(path, "rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match &s.rolling_update {
            None => errs.push(FieldError::required(
                child(path, "rollingUpdate"),
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let rp = child(path, "rollingUpdate");
                let zero = IntOrString::Int(0);
                let mu = ru.max_unavailable.as_ref().unwrap_or(&zero);
                let ms = ru.max_surge.as_ref().unwrap_or(&zero);
                errs.extend(validate_int_or_percent(mu, &child(&rp, "maxUnavailable")));
                errs.extend(validate_int_or_percent(ms, &child(&rp, "maxSurge")));
                if int_or_percent_value(mu) == 0 && int_or_percent_value(ms) == 0 {
                    errs.push(invalid_go(
                        child(&rp, "maxUnavailable"),
                        &go_int_or_string(mu),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                if matches!(mu, IntOrString::String(s) if percent(s.as_str()).is_some_and(|p| p > 100))
                {
                    errs.push(invalid_go(
                        child(&rp, "maxUnavailable"),
                        &go_int_or_string(mu),
                        "must not be greater than 100%",
                    ));
                }
            }
        },
        _ => errs.push(not_supported_go(
            path,
            &go_strategy(s),
            &["Recreate", "RollingUpdate"],
        )),
    }
    errs
}

/// `ValidateDeployment` (`selector_given`: whether the client sent spec.selector).
pub fn validate_deployment(d: &Deployment, selector_given: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&d.metadata, true, is_dns1123_subdomain, "metadata");
    errs.extend(validate_deployment_spec(d, selector_given));
    errs
}

/// `ValidateDeploymentSpec`.
pub fn validate_deployment_spec(d: &Deployment, selector_given: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = d.spec.clone().unwrap_or_default();
    errs.extend(validate_nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        "spec.replicas",
    ));
    let (e, parsed) =
        validate_workload_selector(selector_given.then_some(&spec.selector), "spec.selector");
    errs.extend(e);
    if let Some(parsed) = parsed {
        errs.extend(validate_template_for_controller(
            &spec.template,
            &parsed,
            "ReplicaSet",
            "spec.template",
        ));
    }
    errs.extend(validate_strategy(
        &spec.strategy.clone().unwrap_or_default(),
        "spec.strategy",
    ));
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    errs.extend(validate_nonnegative(
        i64::from(min_ready),
        "spec.minReadySeconds",
    ));
    if let Some(r) = spec.revision_history_limit {
        errs.extend(validate_nonnegative(
            i64::from(r),
            "spec.revisionHistoryLimit",
        ));
    }
    if let Some(p) = spec.progress_deadline_seconds {
        errs.extend(validate_nonnegative(
            i64::from(p),
            "spec.progressDeadlineSeconds",
        ));
        if p <= min_ready {
            errs.push(FieldError::invalid(
                "spec.progressDeadlineSeconds",
                p,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

impl Strategy for DeploymentStrategy {
    fn default(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        let given = selector_present(obj);
        with_decoded(obj, default_deployment)?;
        keep_selector_absent(obj, given);
        Ok(())
    }

    fn prepare_for_create(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        let given = selector_present(obj);
        with_decoded(obj, |d: &mut Deployment| {
            d.status = Some(DeploymentStatus::default())
        })?;
        keep_selector_absent(obj, given);
        Ok(())
    }

    fn validate(&self, obj: &DynamicObject) -> Vec<FieldError> {
        let given = selector_present(obj);
        validate_decoded(obj, |d: &Deployment| validate_deployment(d, given))
    }

    fn validate_update(&self, new: &DynamicObject, old: &DynamicObject) -> Vec<FieldError> {
        let (given, old_given) = (selector_present(new), selector_present(old));
        validate_decoded_update(new, old, |n: &Deployment, o: &Deployment| {
            let mut errs = validate_object_meta_update(&n.metadata, &o.metadata, "metadata");
            errs.extend(validate_deployment_spec(n, given));
            let sel =
                |d: &Deployment, g: bool| d.spec.as_ref().filter(|_| g).map(|s| s.selector.clone());
            errs.extend(validate_selector_immutable(
                sel(n, given).as_ref(),
                sel(o, old_given).as_ref(),
            ));
            errs
        })
    }
}

#[cfg(test)]
#[path = "deployments_tests.rs"]
mod tests;
