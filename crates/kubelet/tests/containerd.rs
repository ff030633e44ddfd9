//! The containerd runtime against a real, private containerd 1.6 (root required).
//!
//! The test starts its own containerd with root/state/socket in a temp dir, so it never
//! touches a system containerd, and cleans up (daemon, shims, container processes, mounts,
//! cgroups, temp dir) even when an assertion fails. It fails loudly when it cannot run;
//! set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip it explicitly on a dev box without root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kubelet::runtime::oci_layout::sha256_digest;
use kubelet::runtime::{Containerd, OciSpecInput, TaskIo, TaskState};

const CONTAINERD: &str = "/usr/bin/containerd";
const SHIM: &str = "/usr/bin/containerd-shim-runc-v2";
const BUSYBOX: &str = "/bin/busybox";
const IMAGE: &str = "docker.io/ferrokube/busybox-test:1";

/// A private containerd; Drop tears everything down.
struct PrivateContainerd {
    child: Child,
    dir: tempfile::TempDir,
    namespace: String,
}

impl PrivateContainerd {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("containerd.sock")
    }

    fn start(namespace: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ferrokube-ctrd-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating temp dir: {e}"));
        let d = dir.path().display();
        let config = format!(
            r#"version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  address = "{d}/debug.sock"
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
"#
        );
        std::fs::write(dir.path().join("config.toml"), config)
            .unwrap_or_else(|e| panic!("config: {e}"));
        let log = std::fs::File::create(dir.path().join("containerd.log"))
            .unwrap_or_else(|e| panic!("log: {e}"));
        let log2 = log.try_clone().unwrap_or_else(|e| panic!("log: {e}"));
        let child = Command::new(CONTAINERD)
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            // The shim and runc are found on PATH; cargo's environment may lack sbin.
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CONTAINERD}: {e}"));
        PrivateContainerd {
            child,
            dir,
            namespace: namespace.to_string(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    async fn connect(&mut self) -> Containerd {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("containerd exited early ({status}):\n{}", self.log());
            }
            if self.socket().exists() {
                if let Ok(c) = Containerd::connect(self.socket(), &self.namespace).await {
                    if c.version().await.is_ok() {
                        return c;
                    }
                }
            }
            if Instant::now() > deadline {
                panic!("containerd socket not ready after 30s:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn kill_pid(pid: i32) {
    // SAFETY: kill(2) on a pid we started (containerd, its shims, our containers).
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Pids whose command line mentions `needle` (our temp dir: the shims we caused).
fn pids_mentioning(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(needle) {
                out.push(pid);
            }
        }
    }
    out
}

/// Mount points at or under `root`, deepest first.
fn mounts_under(root: &Path) -> Vec<String> {
    let root = root.display().to_string();
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut out: Vec<String> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&root))
        .map(str::to_string)
        .collect();
    out.sort_by_key(|m| std::cmp::Reverse(m.len()));
    out
}

impl Drop for PrivateContainerd {
    fn drop(&mut self) {
        // Container processes first (their cgroups are /<namespace>/<id>), then the shims
        // and containerd, then mounts, cgroup dirs and runc state; the temp dir goes last.
        for cg in cgroup_dirs(&self.namespace) {
            for sub in std::fs::read_dir(&cg).into_iter().flatten().flatten() {
                let procs =
                    std::fs::read_to_string(sub.path().join("cgroup.procs")).unwrap_or_default();
                procs
                    .lines()
                    .filter_map(|p| p.parse().ok())
                    .for_each(kill_pid);
            }
        }
        let needle = self.dir.path().display().to_string();
        for pid in pids_mentioning(&needle) {
            if pid != self.child.id() as i32 {
                kill_pid(pid);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for m in mounts_under(self.dir.path()) {
            if let Ok(c) = std::ffi::CString::new(m) {
                // SAFETY: plain umount2 with a valid C string; lazy so busy mounts go too.
                unsafe {
                    libc::umount2(c.as_ptr(), libc::MNT_DETACH);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
        for cg in cgroup_dirs(&self.namespace) {
            for sub in std::fs::read_dir(&cg).into_iter().flatten().flatten() {
                let _ = std::fs::remove_dir(sub.path());
            }
            let _ = std::fs::remove_dir(&cg);
        }
        let _ = std::fs::remove_dir_all(format!("/run/containerd/runc/{}", self.namespace));
    }
}

/// `/sys/fs/cgroup/<controller>/<namespace>` (v1) or `/sys/fs/cgroup/<namespace>` (v2).
fn cgroup_dirs(namespace: &str) -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("/sys/fs/cgroup").join(namespace)];
    for e in std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        out.push(e.path().join(namespace));
    }
    out.into_iter().filter(|p| p.is_dir()).collect()
}

/// A one-layer OCI image layout tarball: busybox plus applet symlinks.
fn build_busybox_image(out: &Path, reference: &str) {
    use std::io::Write;
    let busybox = std::fs::read(BUSYBOX).unwrap_or_else(|e| panic!("reading {BUSYBOX}: {e}"));

    let mut layer = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_ustar();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    layer
        .append_data(&mut dir, "bin/", std::io::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut file = tar::Header::new_ustar();
    file.set_mode(0o755);
    file.set_size(busybox.len() as u64);
    layer
        .append_data(&mut file, "bin/busybox", busybox.as_slice())
        .unwrap_or_else(|e| panic!("{e}"));
    for applet in ["sh", "sleep", "cat", "echo", "ls"] {
        let mut link = tar::Header::new_ustar();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_mode(0o777);
        link.set_size(0);
        layer
            .append_link(&mut link, format!("bin/{applet}"), "busybox")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let layer_tar = layer.into_inner().unwrap_or_else(|e| panic!("{e}"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&layer_tar).unwrap_or_else(|e| panic!("{e}"));
    let layer_gz = gz.finish().unwrap_or_else(|e| panic!("{e}"));

    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": kubelet::runtime::oci_layout::host_arch(), "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(&layer_tar)]},
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256_digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha256_digest(&layer_gz), "size": layer_gz.len()}],
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": sha256_digest(&manifest), "size": manifest.len(),
                       "annotations": {"io.containerd.image.name": reference,
                                       "org.opencontainers.image.ref.name": "1"}}],
    }))
    .unwrap_or_else(|e| panic!("{e}"));

    let f = std::fs::File::create(out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let mut tarball = tar::Builder::new(f);
    let mut add = |name: String, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        tarball
            .append_data(&mut h, name, data)
            .unwrap_or_else(|e| panic!("{e}"));
    };
    add("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#);
    add("index.json".into(), &index);
    for blob in [&layer_gz, &config, &manifest] {
        let digest = sha256_digest(blob);
        add(
            format!("blobs/sha256/{}", digest.trim_start_matches("sha256:")),
            blob,
        );
    }
    tarball.finish().unwrap_or_else(|e| panic!("{e}"));
}

fn preflight() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("must run as root (containerd, overlayfs and runc need it)".into());
    }
    for bin in [CONTAINERD, SHIM, BUSYBOX] {
        if !Path::new(bin).exists() {
            return Err(format!(
                "{bin} is missing: apt-get install -y containerd runc busybox-static"
            ));
        }
    }
    if !["/usr/sbin/runc", "/usr/bin/runc"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        return Err("runc is missing: apt-get install -y runc".into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containerd_runtime_end_to_end() {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("containerd_runtime_end_to_end SKIPPED: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return;
    }
    if let Err(why) = preflight() {
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
    build_busybox_image(&tarball, IMAGE);
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
