//! The containerd runtime against a real, private containerd 1.6 (root required).
//!
//! The test starts its own containerd with root/state/socket in a temp dir, so it never
//! touches a system containerd, and cleans up (daemon, shims, container processes, mounts,
//! cgroups, temp dir) even when an assertion fails. It fails loudly when it cannot run;
//! set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip it explicitly on a dev box without root.

mod support;

use std::time::Duration;

use kubelet::runtime::{OciSpecInput, TaskIo, TaskState};
use support::{mounts_under, preflight_runtime, PrivateContainerd};

const IMAGE: &str = "docker.io/ferrokube/busybox-test:1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containerd_runtime_end_to_end() {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("containerd_runtime_end_to_end SKIPPED: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return;
    }
    if let Err(why) = preflight_runtime() {
        panic!("containerd integration test cannot run: {why} (set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip)");
    }
    let namespace = format!("ferrokube-test-{}", uuid::Uuid::new_v4().simple());
    let mut daemon = PrivateContainerd::start(&namespace);
    let ctr = daemon.connect().await;

    // version
    let version = ctr
        .version()
        .await
        .unwrap_or_else(|e| panic!("version: {e}"));
    assert!(version.starts_with("containerd://1."), "{version}");

    // import
    let tarball = daemon.dir.path().join("busybox.tar");
    ferrokube_deploy::images::build_busybox_image(&tarball, IMAGE)
        .unwrap_or_else(|e| panic!("building the test image: {e:#}"));
    let imported = ctr
        .import_image(&tarball)
        .await
        .unwrap_or_else(|e| panic!("import: {e}"));
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0].name, IMAGE);
    assert_eq!(
        ctr.list_images().await.unwrap_or_else(|e| panic!("{e}")),
        [IMAGE]
    );
    let chain_id = imported[0].chain_id.clone();
    assert_eq!(
        ctr.list_snapshots().await.unwrap_or_else(|e| panic!("{e}")),
        std::slice::from_ref(&chain_id)
    );
    // Importing again is idempotent (content exists, snapshot exists, image updated).
    ctr.import_image(&tarball)
        .await
        .unwrap_or_else(|e| panic!("re-import: {e}"));

    // A container that prints and exits 3; stdout and stderr both land in the log file.
    let log = daemon.dir.path().join("logs/c1.log");
    let input = OciSpecInput {
        args: vec![
            "sh".into(),
            "-c".into(),
            "echo hello $FOO; echo host=$(cat /proc/sys/kernel/hostname); echo oops >&2; exit 3"
                .into(),
        ],
        env: vec!["FOO=bar".into()],
        hostname: "c1-host".into(),
        ..Default::default()
    };
    ctr.create_container("c1", IMAGE, &input)
        .await
        .unwrap_or_else(|e| panic!("create c1: {e}"));
    let pid = ctr
        .start_task("c1", &TaskIo::LogFile(log.clone()))
        .await
        .unwrap_or_else(|e| panic!("start c1: {e}"));
    assert!(pid > 0);
    let exit = ctr
        .wait("c1", Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("wait c1: {e}"));
    assert_eq!(exit.code, 3);
    let st = ctr
        .task_status("c1")
        .await
        .unwrap_or_else(|e| panic!("status c1: {e}"));
    assert_eq!((st.state, st.exit_code), (TaskState::Stopped, 3));
    // The shim copies output asynchronously; give it a moment to flush.
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("oops") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text.contains("hello bar"), "log: {text:?}");
    assert!(text.contains("host=c1-host"), "log: {text:?}");
    assert!(
        text.contains("oops"),
        "stderr goes to the same file: {text:?}"
    );

    // A plain `sleep` is PID 1 of its namespace: SIGTERM without a handler is ignored
    // (the kubelet escalates to SIGKILL after the grace period) -> 137.
    let sleeper = OciSpecInput {
        args: vec!["sleep".into(), "100".into()],
        ..Default::default()
    };
    ctr.create_container("c2", IMAGE, &sleeper)
        .await
        .unwrap_or_else(|e| panic!("create c2: {e}"));
    ctr.start_task("c2", &TaskIo::Null)
        .await
        .unwrap_or_else(|e| panic!("start c2: {e}"));
    let st = ctr
        .task_status("c2")
        .await
        .unwrap_or_else(|e| panic!("status c2: {e}"));
    assert_eq!(st.state, TaskState::Running);
    ctr.kill("c2", 15)
        .await
        .unwrap_or_else(|e| panic!("kill c2: {e}"));
    let timed_out = ctr.wait("c2", Duration::from_millis(700)).await;
    assert!(
        matches!(
            timed_out,
            Err(kubelet::runtime::RuntimeError::Timeout { .. })
        ),
        "{timed_out:?}"
    );
    ctr.kill("c2", 9)
        .await
        .unwrap_or_else(|e| panic!("kill -9 c2: {e}"));
    let exit = ctr
        .wait("c2", Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| panic!("wait c2: {e}"));
    assert_eq!(exit.code, 137);

    // A process that handles SIGTERM exits 143 promptly.
    let trapper = OciSpecInput {
        args: vec![
            "sh".into(),
            "-c".into(),
            "trap 'exit 143' TERM; sleep 100 & wait".into(),
        ],
        ..Default::default()
    };
    ctr.create_container("c3", IMAGE, &trapper)
        .await
        .unwrap_or_else(|e| panic!("create c3: {e}"));
    ctr.start_task("c3", &TaskIo::Null)
        .await
        .unwrap_or_else(|e| panic!("start c3: {e}"));
    // Let the shell install its trap before signalling.
    tokio::time::sleep(Duration::from_millis(300)).await;
    ctr.kill("c3", 15)
        .await
        .unwrap_or_else(|e| panic!("kill c3: {e}"));
    let exit = ctr
        .wait("c3", Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| panic!("wait c3: {e}"));
    assert_eq!(exit.code, 143);

    // delete: c4 is still running and gets SIGKILLed by delete; deleting twice is fine.
    ctr.create_container("c4", IMAGE, &sleeper)
        .await
        .unwrap_or_else(|e| panic!("create c4: {e}"));
    ctr.start_task("c4", &TaskIo::Null)
        .await
        .unwrap_or_else(|e| panic!("start c4: {e}"));
    let ids: Vec<String> = ctr
        .list()
        .await
        .unwrap_or_else(|e| panic!("list: {e}"))
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["c1", "c2", "c3", "c4"]);
    for id in ["c1", "c2", "c3", "c4", "c4"] {
        ctr.delete(id)
            .await
            .unwrap_or_else(|e| panic!("delete {id}: {e}"));
    }
    assert!(ctr
        .list()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
    assert!(ctr.task_status("c1").await.is_err_and(|e| e.is_not_found()));
    // Only the image's committed layer snapshot is left.
    assert_eq!(
        ctr.list_snapshots().await.unwrap_or_else(|e| panic!("{e}")),
        [chain_id]
    );

    // Removing the image lets containerd's GC collect its snapshot (proves the GC labels).
    ctr.remove_image(IMAGE)
        .await
        .unwrap_or_else(|e| panic!("remove image: {e}"));
    let mut left = Vec::new();
    for _ in 0..50 {
        left = ctr.list_snapshots().await.unwrap_or_else(|e| panic!("{e}"));
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        left.is_empty(),
        "snapshots left after image removal: {left:?}"
    );
    assert!(
        mounts_under(&daemon.dir.path().join("state")).is_empty(),
        "rootfs mounts left"
    );
    drop(ctr);
    drop(daemon);
}
