//! Jobs and cron jobs.

use api_types::table::human_duration;
use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{
    CronJob, CronJobSpec, CronJobStatus, Job, JobCondition, JobSpec, JobStatus,
};
use serde_json::Value;

use super::format::{bool_ptr, format_label_selector, layout_containers};
use super::{
    age, col, count, field, name, s, since, typed, wide, Col, Desc, Printer, AGE, CONTAINERS_DESC,
    IMAGES_DESC, NAME,
};

static JOB_COLUMNS: &[Col] = &[
    NAME,
    col("Status", "string", Desc::Text("Status of the job.")),
    col("Completions", "string", field::<JobStatus>("succeeded")),
    col(
        "Duration",
        "string",
        Desc::Text("Time required to complete the job."),
    ),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", field::<JobSpec>("selector")),
];

static CRON_JOB_COLUMNS: &[Col] = &[
    NAME,
    col("Schedule", "string", field::<CronJobSpec>("schedule")),
    col("Timezone", "string", field::<CronJobSpec>("timeZone")),
    col("Suspend", "boolean", field::<CronJobSpec>("suspend")),
    col("Active", "integer", field::<CronJobStatus>("active")),
    col(
        "Last Schedule",
        "string",
        field::<CronJobStatus>("lastScheduleTime"),
    ),
    AGE,
    wide("Containers", "string", CONTAINERS_DESC),
    wide("Images", "string", IMAGES_DESC),
    wide("Selector", "string", field::<JobSpec>("selector")),
];

static JOB: Printer = Printer {
    columns: JOB_COLUMNS,
    cells: job,
};
static CRON_JOB: Printer = Printer {
    columns: CRON_JOB_COLUMNS,
    cells: cron_job,
};

pub(super) fn printer(group: &str, kind: &str) -> Option<&'static Printer> {
    match (group, kind) {
        ("batch", "Job") => Some(&JOB),
        ("batch", "CronJob") => Some(&CRON_JOB),
        _ => None,
    }
}

/// `hasJobCondition`: the first condition of the type decides.
fn has_condition(conditions: &[JobCondition], type_: &str) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .is_some_and(|c| c.status == "True")
}

fn job(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let job: Job = typed(obj)?;
    let spec = job.spec.unwrap_or_default();
    let status = job.status.unwrap_or_default();
    let succeeded = status.succeeded.unwrap_or(0);
    let completions = match spec.completions {
        Some(c) => format!("{succeeded}/{c}"),
        None => match spec.parallelism.unwrap_or(0) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (&status.start_time, &status.completion_time) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.duration_since(start.0)),
        (Some(start), Some(done)) => human_duration(done.0.duration_since(start.0)),
    };
    let conditions = status.conditions.as_deref().unwrap_or(&[]);
    let state = if has_condition(conditions, "Complete") {
        "Complete"
    } else if has_condition(conditions, "Failed") {
        "Failed"
    } else if job.metadata.deletion_timestamp.is_some() {
        "Terminating"
    } else if has_condition(conditions, "Suspended") {
        "Suspended"
    } else if has_condition(conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let containers = spec
        .template
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    let (names, images) = layout_containers(containers);
    Some(vec![
        name(&job.metadata),
        s(state),
        s(completions),
        s(duration),
        age(&job.metadata, now),
        s(names),
        s(images),
        s(format_label_selector(spec.selector.as_ref())),
    ])
}

fn cron_job(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let cj: CronJob = typed(obj)?;
    let spec = cj.spec.unwrap_or_default();
    let status = cj.status.unwrap_or_default();
    let last_schedule = match &status.last_schedule_time {
        Some(t) => since(Some(t), now),
        None => "<none>".to_string(),
    };
    let job_spec = spec.job_template.spec.unwrap_or_default();
    let containers = job_spec
        .template
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    let (names, images) = layout_containers(containers);
    Some(vec![
        name(&cj.metadata),
        s(spec.schedule),
        s(spec.time_zone.unwrap_or_else(|| "<none>".to_string())),
        // A string in a boolean column, as upstream prints it.
        s(bool_ptr(spec.suspend)),
        count(status.active.map_or(0, |a| a.len())),
        s(last_schedule),
        age(&cj.metadata, now),
        s(names),
        s(images),
        s(format_label_selector(job_spec.selector.as_ref())),
    ])
}
