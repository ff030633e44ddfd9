//! Workload controllers: deployments, replica sets, stateful sets, daemon sets, jobs and
//! cron jobs.

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, DaemonSetStatus, Deployment, DeploymentSpec, DeploymentStatus,
    ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, StatefulSet, StatefulSetSpec, StatefulSetStatus,
};
use k8s_openapi::api::batch::v1::{
    CronJob, CronJobSpec, Job, JobCondition, JobSpec, JobStatus, JobTemplateSpec,
};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::json;

use super::{ago, cells_of, headers, info, meta, strs};

fn template(containers: &[(&str, &str)]) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some([("app".into(), "web".into())].into()),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: containers
                .iter()
                .map(|(n, i)| Container {
                    name: n.to_string(),
                    image: Some(i.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
    }
}

fn selector() -> LabelSelector {
    LabelSelector {
        match_labels: Some([("app".into(), "web".into())].into()),
        ..Default::default()
    }
}

#[test]
fn deployments() {
    assert_eq!(
        headers(info("apps", "v1", "deployments")),
        strs(&[
            ("NAME", 0),
            ("READY", 0),
            ("UP-TO-DATE", 0),
            ("AVAILABLE", 0),
            ("AGE", 0),
            ("CONTAINERS", 1),
            ("IMAGES", 1),
            ("SELECTOR", 1),
        ])
    );
    let d = Deployment {
        metadata: meta("web"),
        spec: Some(DeploymentSpec {
            replicas: Some(3),
            selector: selector(),
            template: template(&[("nginx", "nginx:1.27"), ("sidecar", "busybox")]),
            ..Default::default()
        }),
        status: Some(DeploymentStatus {
            ready_replicas: Some(2),
            updated_replicas: Some(3),
            available_replicas: Some(2),
            ..Default::default()
        }),
    };
    assert_eq!(
        cells_of("apps", "v1", "deployments", &d),
        vec![
            json!("web"),
            json!("2/3"),
            json!(3),
            json!(2),
            json!("5m"),
            json!("nginx,sidecar"),
            json!("nginx:1.27,busybox"),
            json!("app=web"),
        ]
    );
    let fresh = Deployment {
        metadata: meta("new"),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        cells_of("apps", "v1", "deployments", &fresh)[1..4],
        [json!("0/1"), json!(0), json!(0)]
    );
}

#[test]
fn replica_sets() {
    assert_eq!(
        headers(info("apps", "v1", "replicasets")),
        strs(&[
            ("NAME", 0),
            ("DESIRED", 0),
            ("CURRENT", 0),
            ("READY", 0),
            ("AGE", 0),
            ("CONTAINERS", 1),
            ("IMAGES", 1),
            ("SELECTOR", 1)
        ])
    );
    let rs = ReplicaSet {
        metadata: meta("web-7d9f"),
        spec: Some(ReplicaSetSpec {
            replicas: Some(2),
            selector: selector(),
            template: Some(template(&[("nginx", "nginx")])),
            ..Default::default()
        }),
        status: Some(ReplicaSetStatus {
            replicas: 2,
            ready_replicas: Some(1),
            ..Default::default()
        }),
    };
    assert_eq!(
        cells_of("apps", "v1", "replicasets", &rs),
        vec![
            json!("web-7d9f"),
            json!(2),
            json!(2),
            json!(1),
            json!("5m"),
            json!("nginx"),
            json!("nginx"),
            json!("app=web")
        ]
    );
}

#[test]
fn stateful_sets() {
    assert_eq!(
        headers(info("apps", "v1", "statefulsets")),
        strs(&[
            ("NAME", 0),
            ("READY", 0),
            ("AGE", 0),
            ("CONTAINERS", 1),
            ("IMAGES", 1)
        ])
    );
    let sts = StatefulSet {
        metadata: meta("db"),
        spec: Some(StatefulSetSpec {
            replicas: Some(3),
            selector: selector(),
            template: template(&[("pg", "postgres:16")]),
            ..Default::default()
        }),
        status: Some(StatefulSetStatus {
            ready_replicas: Some(3),
            replicas: 3,
            ..Default::default()
        }),
    };
    assert_eq!(
        cells_of("apps", "v1", "statefulsets", &sts),
        vec![
            json!("db"),
            json!("3/3"),
            json!("5m"),
            json!("pg"),
            json!("postgres:16")
        ]
    );
}

#[test]
fn daemon_sets() {
    assert_eq!(
        headers(info("apps", "v1", "daemonsets")),
        strs(&[
            ("NAME", 0),
            ("DESIRED", 0),
            ("CURRENT", 0),
            ("READY", 0),
            ("UP-TO-DATE", 0),
            ("AVAILABLE", 0),
            ("NODE SELECTOR", 0),
            ("AGE", 0),
            ("CONTAINERS", 1),
            ("IMAGES", 1),
            ("SELECTOR", 1),
        ])
    );
    let mut tpl = template(&[("proxy", "kube-proxy")]);
    if let Some(spec) = tpl.spec.as_mut() {
        spec.node_selector = Some([("kubernetes.io/os".into(), "linux".into())].into());
    }
    let ds = DaemonSet {
        metadata: meta("kube-proxy"),
        spec: Some(DaemonSetSpec {
            selector: selector(),
            template: tpl,
            ..Default::default()
        }),
        status: Some(DaemonSetStatus {
            desired_number_scheduled: 2,
            current_number_scheduled: 2,
            number_ready: 1,
            updated_number_scheduled: Some(2),
            number_available: Some(1),
            ..Default::default()
        }),
    };
    assert_eq!(
        cells_of("apps", "v1", "daemonsets", &ds),
        vec![
            json!("kube-proxy"),
            json!(2),
            json!(2),
            json!(1),
            json!(2),
            json!(1),
            json!("kubernetes.io/os=linux"),
            json!("5m"),
            json!("proxy"),
            json!("kube-proxy"),
            json!("app=web"),
        ]
    );
}

fn job_condition(type_: &str) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: "True".into(),
        ..Default::default()
    }
}

#[test]
fn jobs() {
    assert_eq!(
        headers(info("batch", "v1", "jobs")),
        strs(&[
            ("NAME", 0),
            ("STATUS", 0),
            ("COMPLETIONS", 0),
            ("DURATION", 0),
            ("AGE", 0),
            ("CONTAINERS", 1),
            ("IMAGES", 1),
            ("SELECTOR", 1),
        ])
    );
    let complete = Job {
        metadata: meta("pi"),
        spec: Some(JobSpec {
            completions: Some(1),
            template: template(&[("pi", "perl")]),
            selector: Some(selector()),
            ..Default::default()
        }),
        status: Some(JobStatus {
            succeeded: Some(1),
            start_time: Some(ago(290)),
            completion_time: Some(ago(245)),
            conditions: Some(vec![
                job_condition("SuccessCriteriaMet"),
                job_condition("Complete"),
            ]),
            ..Default::default()
        }),
    };
    assert_eq!(
        cells_of("batch", "v1", "jobs", &complete),
        vec![
            json!("pi"),
            json!("Complete"),
            json!("1/1"),
            json!("45s"),
            json!("5m"),
            json!("pi"),
            json!("perl"),
            json!("app=web")
        ]
    );
    let running = Job {
        metadata: meta("work"),
        spec: Some(JobSpec {
            parallelism: Some(3),
            ..Default::default()
        }),
        status: Some(JobStatus {
            start_time: Some(ago(123)),
            ..Default::default()
        }),
    };
    let c = cells_of("batch", "v1", "jobs", &running);
    assert_eq!(
        c[1..4],
        [json!("Running"), json!("0/1 of 3"), json!("2m3s")]
    );
    let not_started = Job {
        metadata: meta("idle"),
        spec: Some(JobSpec::default()),
        status: None,
    };
    assert_eq!(
        cells_of("batch", "v1", "jobs", &not_started)[1..4],
        [json!("Running"), json!("0/1"), json!("")]
    );
    let with = |conditions: Vec<JobCondition>| Job {
        metadata: meta("j"),
        spec: Some(JobSpec::default()),
        status: Some(JobStatus {
            conditions: Some(conditions),
            ..Default::default()
        }),
    };
    assert_eq!(
        cells_of("batch", "v1", "jobs", &with(vec![job_condition("Failed")]))[1],
        json!("Failed")
    );
    assert_eq!(
        cells_of(
            "batch",
            "v1",
            "jobs",
            &with(vec![job_condition("Suspended")])
        )[1],
        json!("Suspended")
    );
    assert_eq!(
        cells_of(
            "batch",
            "v1",
            "jobs",
            &with(vec![job_condition("FailureTarget")])
        )[1],
        json!("FailureTarget")
    );
    let mut deleting = with(vec![job_condition("Suspended")]);
    deleting.metadata.deletion_timestamp = Some(ago(1));
    assert_eq!(
        cells_of("batch", "v1", "jobs", &deleting)[1],
        json!("Terminating")
    );
}

#[test]
fn cron_jobs() {
    let cj = CronJob {
        metadata: meta("backup"),
        spec: Some(CronJobSpec {
            schedule: "*/5 * * * *".into(),
            suspend: Some(false),
            job_template: JobTemplateSpec {
                spec: Some(JobSpec {
                    template: template(&[("b", "busybox")]),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        cells_of("batch", "v1", "cronjobs", &cj),
        vec![
            json!("backup"),
            json!("*/5 * * * *"),
            json!("<none>"),
            json!("False"),
            json!(0),
            json!("<none>"),
            json!("5m"),
            json!("b"),
            json!("busybox"),
            json!("<none>"),
        ]
    );
}
