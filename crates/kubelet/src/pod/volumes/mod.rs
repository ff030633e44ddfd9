//! Pod volumes under `<root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>`, as
//! upstream lays them out: emptyDir (a directory, or a tmpfs for medium Memory with
//! sizeLimit), hostPath (with the type checks), configMap, secret, downwardAPI and
//! projected (files written by the [`atomic_writer`], rewritten on every resync so
//! updates to the objects reach the files). Containers get bind mounts
//! ([`container_mounts`]) with readOnly and subPath / subPathExpr. [`teardown`] unmounts
//! everything under the pod directory and removes it.
//!
//! Planning and the container mounts are pure; `setup`, `resync` and `teardown` do the
//! file-system work (blocking: call them from `spawn_blocking`).

pub mod atomic_writer;
pub mod projection;

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, Pod, Volume};

use super::env::{expand, ApiObjects, PodRuntimeInfo};
use crate::runtime::MountInput;
use atomic_writer::Payload;
use projection::DEFAULT_MODE;

/// A volume failure with upstream's wording (the FailedMount event's message).
#[derive(Debug, thiserror::Error)]
#[error("MountVolume.SetUp failed for volume \"{volume}\" : {msg}")]
pub struct VolumeError {
    pub volume: String,
    pub msg: String,
}

fn verr(volume: &str, msg: impl Into<String>) -> VolumeError {
    VolumeError {
        volume: volume.to_string(),
        msg: msg.into(),
    }
}

/// `<root>/pods/<uid>`: everything the kubelet keeps for a pod.
pub fn pod_dir(root: &Path, uid: &str) -> PathBuf {
    root.join("pods").join(uid)
}

/// What a volume is, decided from its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeKind {
    EmptyDir {
        memory: bool,
        size_limit: Option<i64>,
    },
    HostPath {
        path: String,
        type_: String,
    },
    /// configMap, secret, downwardAPI and projected: files from the API.
    Files {
        plugin: &'static str,
    },
}

impl VolumeKind {
    /// Upstream's plugin directory name.
    pub fn plugin(&self) -> &'static str {
        match self {
            VolumeKind::EmptyDir { .. } => "empty-dir",
            VolumeKind::HostPath { .. } => "host-path",
            VolumeKind::Files { plugin } => plugin,
        }
    }

    /// API-data volumes are always mounted read-only (upstream since 1.10).
    fn forced_readonly(&self) -> bool {
        matches!(self, VolumeKind::Files { .. })
    }
}

/// The kind of `v`, or an error naming an unsupported source.
pub fn classify(v: &Volume) -> Result<VolumeKind, VolumeError> {
    if let Some(e) = &v.empty_dir {
        let memory = e.medium.as_deref() == Some("Memory");
        let size_limit = match &e.size_limit {
            Some(q) => Some(
                crate::pod::containers::scaled_ceil(q, 0)
                    .ok_or_else(|| verr(&v.name, format!("invalid sizeLimit {:?}", q.0)))?,
            ),
            None => None,
        };
        return Ok(VolumeKind::EmptyDir { memory, size_limit });
    }
    if let Some(h) = &v.host_path {
        return Ok(VolumeKind::HostPath {
            path: h.path.clone(),
            type_: h.type_.clone().unwrap_or_default(),
        });
    }
    let plugin = if v.config_map.is_some() {
        "configmap"
    } else if v.secret.is_some() {
        "secret"
    } else if v.downward_api.is_some() {
        "downward-api"
    } else if v.projected.is_some() {
        "projected"
    } else {
        return Err(verr(
            &v.name,
            "volume source is not supported by this kubelet (supported: emptyDir, hostPath, \
             configMap, secret, downwardAPI, projected)",
        ));
    };
    Ok(VolumeKind::Files { plugin })
}

/// `<pod dir>/volumes/kubernetes.io~<plugin>/<name>`.
pub fn volume_path(pod_dir: &Path, kind: &VolumeKind, name: &str) -> PathBuf {
    if let VolumeKind::HostPath { path, .. } = kind {
        return PathBuf::from(path);
    }
    pod_dir
        .join("volumes")
        .join(format!("kubernetes.io~{}", kind.plugin()))
        .join(name)
}

/// The files of an API-data volume.
pub fn payload(
    pod: &Pod,
    v: &Volume,
    objs: &ApiObjects,
    info: &PodRuntimeInfo,
) -> Result<Payload, VolumeError> {
    let r = if let Some(cm) = &v.config_map {
        projection::config_map_payload(
            objs,
            &cm.name,
            cm.items.as_ref(),
            cm.default_mode.unwrap_or(DEFAULT_MODE),
            cm.optional == Some(true),
        )
    } else if let Some(s) = &v.secret {
        projection::secret_payload(
            objs,
            s.secret_name.as_deref().unwrap_or(""),
            s.items.as_ref(),
            s.default_mode.unwrap_or(DEFAULT_MODE),
            s.optional == Some(true),
        )
    } else if let Some(d) = &v.downward_api {
        projection::downward_api_payload(
            pod,
            d.items.as_deref().unwrap_or(&[]),
            d.default_mode.unwrap_or(DEFAULT_MODE),
            info,
        )
    } else if let Some(p) = &v.projected {
        projection::projected_payload(pod, p, objs, info)
    } else {
        Ok(Payload::new())
    };
    r.map_err(|msg| verr(&v.name, msg))
}

/// A set-up volume: where it is on the host and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedVolume {
    pub kind: VolumeKind,
    pub path: PathBuf,
}

/// Volume name -> its host directory.
pub type VolumeMap = BTreeMap<String, MountedVolume>;

fn check_host_path(name: &str, path: &str, type_: &str) -> Result<(), VolumeError> {
    let p = Path::new(path);
    let fail = |what: &str| {
        verr(
            name,
            format!("hostPath type check failed: {path} is not a {what}"),
        )
    };
    let io_fail = |e: io::Error| verr(name, format!("hostPath {path}: {e}"));
    match type_ {
        "" => Ok(()),
        "DirectoryOrCreate" => {
            if !p.exists() {
                fs::create_dir_all(p).map_err(io_fail)?;
                fs::set_permissions(p, fs::Permissions::from_mode(0o755)).map_err(io_fail)?;
            }
            if p.is_dir() {
                Ok(())
            } else {
                Err(fail("directory"))
            }
        }
        "Directory" => p.is_dir().then_some(()).ok_or_else(|| fail("directory")),
        "FileOrCreate" => {
            if !p.exists() {
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(io_fail)?;
                fs::set_permissions(p, fs::Permissions::from_mode(0o644)).map_err(io_fail)?;
            }
            p.is_file().then_some(()).ok_or_else(|| fail("file"))
        }
        "File" => p.is_file().then_some(()).ok_or_else(|| fail("file")),
        "Socket" | "CharDevice" | "BlockDevice" => {
            let ft = fs::metadata(p).map(|m| m.file_type());
            let ok = match (type_, ft) {
                ("Socket", Ok(t)) => t.is_socket(),
                ("CharDevice", Ok(t)) => t.is_char_device(),
                ("BlockDevice", Ok(t)) => t.is_block_device(),
                _ => false,
            };
            let what = match type_ {
                "Socket" => "socket file",
                "CharDevice" => "character device",
                _ => "block device",
            };
            ok.then_some(()).ok_or_else(|| fail(what))
        }
        other => Err(verr(name, format!("unknown hostPath type {other:?}"))),
    }
}

fn cstring(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other)
}

fn mount_tmpfs(dir: &Path, size: Option<i64>) -> io::Result<()> {
    let target = cstring(dir)?;
    let source = CString::new("tmpfs").map_err(io::Error::other)?;
    let mut opts = String::from("mode=0777");
    if let Some(size) = size.filter(|s| *s > 0) {
        opts.push_str(&format!(",size={size}"));
    }
    let data = CString::new(opts).map_err(io::Error::other)?;
    // SAFETY: every pointer is a valid NUL-terminated string that outlives the call.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            source.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            data.as_ptr().cast(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Creates every volume of `pod` under `pod_dir`; on error nothing is unmounted here (the
/// caller runs [`teardown`]).
pub fn setup(
    pod: &Pod,
    pod_dir: &Path,
    objs: &ApiObjects,
    info: &PodRuntimeInfo,
) -> Result<VolumeMap, VolumeError> {
    let mut out = VolumeMap::new();
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.clone());
    for v in volumes.iter().flatten() {
        let kind = classify(v)?;
        let path = volume_path(pod_dir, &kind, &v.name);
        let io_fail = |e: io::Error| verr(&v.name, format!("{}: {e}", path.display()));
        match &kind {
            VolumeKind::EmptyDir { memory, size_limit } => {
                fs::create_dir_all(&path).map_err(io_fail)?;
                if *memory && !is_mount_point(&path) {
                    mount_tmpfs(&path, *size_limit).map_err(io_fail)?;
                }
                fs::set_permissions(&path, fs::Permissions::from_mode(0o777)).map_err(io_fail)?;
            }
            VolumeKind::HostPath { path: hp, type_ } => check_host_path(&v.name, hp, type_)?,
            VolumeKind::Files { .. } => {
                let files = payload(pod, v, objs, info)?;
                atomic_writer::write(&path, &files).map_err(io_fail)?;
            }
        }
        out.insert(v.name.clone(), MountedVolume { kind, path });
    }
    Ok(out)
}

/// Rewrites the API-data volumes from fresh objects; returns the names that changed.
/// A volume whose object is gone keeps its last files (upstream does the same).
pub fn resync(
    pod: &Pod,
    volumes: &VolumeMap,
    objs: &ApiObjects,
    info: &PodRuntimeInfo,
) -> Vec<String> {
    let mut changed = Vec::new();
    for v in pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
    {
        let Some(mounted) = volumes.get(&v.name) else {
            continue;
        };
        if !matches!(mounted.kind, VolumeKind::Files { .. }) {
            continue;
        }
        match payload(pod, v, objs, info) {
            Ok(files) => match atomic_writer::write(&mounted.path, &files) {
                Ok(true) => changed.push(v.name.clone()),
                Ok(false) => {}
                Err(e) => tracing::warn!(volume = %v.name, error = %e, "volume resync"),
            },
            Err(e) => tracing::debug!(volume = %v.name, error = %e, "volume resync skipped"),
        }
    }
    changed
}

/// Upstream's subPath rules: relative, no `..` element.
fn validate_sub_path(sub: &str) -> Result<(), String> {
    if Path::new(sub).is_absolute() {
        return Err(format!("subPath {sub:?} must be a relative path"));
    }
    if Path::new(sub)
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(format!("subPath {sub:?} must not contain '..'"));
    }
    Ok(())
}

/// The bind mounts of `container`'s volumeMounts. `env` expands subPathExpr. A subPath
/// that does not exist is created as a directory (as upstream does).
pub fn container_mounts(
    container: &Container,
    volumes: &VolumeMap,
    env: &[(String, String)],
) -> Result<Vec<MountInput>, String> {
    let mut out = Vec::new();
    for vm in container.volume_mounts.iter().flatten() {
        let mounted = volumes.get(&vm.name).ok_or_else(|| {
            format!(
                "container {}: volumeMount {:?}: no volume of that name",
                container.name, vm.name
            )
        })?;
        let mut source = mounted.path.clone();
        let sub = match (&vm.sub_path, &vm.sub_path_expr) {
            (Some(s), _) if !s.is_empty() => Some(s.clone()),
            (_, Some(e)) if !e.is_empty() => Some(expand(e, |n| {
                env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
            })),
            _ => None,
        };
        if let Some(sub) = sub {
            validate_sub_path(&sub).map_err(|e| format!("container {}: {e}", container.name))?;
            source = source.join(&sub);
            if fs::symlink_metadata(&source).is_err() {
                fs::create_dir_all(&source)
                    .map_err(|e| format!("creating subPath {}: {e}", source.display()))?;
            }
        }
        out.push(MountInput {
            destination: vm.mount_path.clone(),
            source: source.display().to_string(),
            kind: String::new(),
            options: Vec::new(),
            readonly: vm.read_only == Some(true) || mounted.kind.forced_readonly(),
        });
    }
    Ok(out)
}

/// Unescapes mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let oct = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(oct, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Mount points at or under `root` in `/proc/self/mountinfo` text, deepest first.
pub fn mounts_under(mountinfo: &str, root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape(m)))
        .filter(|m| m.starts_with(root))
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    out.dedup();
    out
}

fn is_mount_point(path: &Path) -> bool {
    fs::read_to_string("/proc/self/mountinfo")
        .map(|mi| mounts_under(&mi, path).iter().any(|m| m == path))
        .unwrap_or(false)
}

/// Unmounts everything under `pod_dir` (tmpfs emptyDirs) and removes the directory.
/// Idempotent.
pub fn teardown(pod_dir: &Path) -> io::Result<()> {
    if !pod_dir.exists() {
        return Ok(());
    }
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")?;
    for m in mounts_under(&mountinfo, pod_dir) {
        let target = cstring(&m)?;
        // SAFETY: a valid NUL-terminated path; MNT_DETACH never blocks on busy mounts.
        let rc = unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINVAL) && e.raw_os_error() != Some(libc::ENOENT) {
                return Err(io::Error::other(format!("unmounting {}: {e}", m.display())));
            }
        }
    }
    fs::remove_dir_all(pod_dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ConfigMapVolumeSource, EmptyDirVolumeSource, HostPathVolumeSource, NFSVolumeSource,
        PodSpec, VolumeMount,
    };
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn vol(name: &str) -> Volume {
        Volume {
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn kinds_and_paths() {
        let mut v = vol("cache");
        v.empty_dir = Some(EmptyDirVolumeSource {
            medium: Some("Memory".into()),
            size_limit: Some(Quantity("64Mi".into())),
        });
        let k = classify(&v).unwrap();
        assert_eq!(
            k,
            VolumeKind::EmptyDir {
                memory: true,
                size_limit: Some(64 << 20)
            }
        );
        assert_eq!(
            volume_path(Path::new("/var/lib/kubelet/pods/u1"), &k, "cache"),
            Path::new("/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache")
        );
        let mut c = vol("cfg");
        c.config_map = Some(ConfigMapVolumeSource {
            name: "x".into(),
            ..Default::default()
        });
        let k = classify(&c).unwrap();
        assert!(volume_path(Path::new("/p"), &k, "cfg").ends_with("kubernetes.io~configmap/cfg"));
        let mut nfs = vol("share");
        nfs.nfs = Some(NFSVolumeSource {
            path: "/x".into(),
            server: "s".into(),
            read_only: None,
        });
        let e = classify(&nfs).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "MountVolume.SetUp failed for volume \"share\" : volume source is not supported"
            ),
            "{e}"
        );
    }

    #[test]
    fn host_path_types() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("made/here");
        let ds = d.display().to_string();
        assert!(check_host_path("v", &ds, "Directory").is_err());
        check_host_path("v", &ds, "DirectoryOrCreate").unwrap();
        assert!(d.is_dir());
        check_host_path("v", &ds, "Directory").unwrap();
        let e = check_host_path("v", &ds, "File").unwrap_err();
        assert_eq!(
            e.msg,
            format!("hostPath type check failed: {ds} is not a file")
        );
        let f = dir.path().join("f.txt").display().to_string();
        check_host_path("v", &f, "FileOrCreate").unwrap();
        check_host_path("v", &f, "File").unwrap();
        assert!(check_host_path("v", &f, "Socket").is_err());
        assert!(check_host_path("v", &f, "Directory").is_err());
        check_host_path("v", "/nonexistent/anything", "").unwrap();
        assert!(check_host_path("v", &f, "Bogus").is_err());
    }

    #[test]
    fn setup_mounts_and_teardown_without_tmpfs() {
        let dir = tempfile::tempdir().unwrap();
        let pd = dir.path().join("pods/u1");
        let mut pod = Pod::default();
        pod.metadata.name = Some("p".into());
        let mut cache = vol("cache");
        cache.empty_dir = Some(EmptyDirVolumeSource::default());
        let mut host = vol("host");
        host.host_path = Some(HostPathVolumeSource {
            path: dir.path().join("h").display().to_string(),
            type_: Some("DirectoryOrCreate".into()),
        });
        let mut cfg = vol("cfg");
        cfg.config_map = Some(ConfigMapVolumeSource {
            name: "c".into(),
            optional: Some(true),
            ..Default::default()
        });
        pod.spec = Some(PodSpec {
            volumes: Some(vec![cache, host, cfg]),
            ..Default::default()
        });
        let vols = setup(
            &pod,
            &pd,
            &ApiObjects::default(),
            &PodRuntimeInfo::default(),
        )
        .unwrap();
        assert!(vols["cache"].path.is_dir());
        assert!(pd
            .join("volumes/kubernetes.io~configmap/cfg/..data")
            .exists());
        let c = Container {
            name: "app".into(),
            volume_mounts: Some(vec![
                VolumeMount {
                    name: "cache".into(),
                    mount_path: "/cache".into(),
                    sub_path_expr: Some("$(POD)/logs".into()),
                    ..Default::default()
                },
                VolumeMount {
                    name: "cfg".into(),
                    mount_path: "/etc/cfg".into(),
                    ..Default::default()
                },
                VolumeMount {
                    name: "host".into(),
                    mount_path: "/host".into(),
                    read_only: Some(true),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        let env = vec![("POD".to_string(), "p".to_string())];
        let mounts = container_mounts(&c, &vols, &env).unwrap();
        assert_eq!(mounts.len(), 3);
        assert!(mounts[0]
            .source
            .ends_with("kubernetes.io~empty-dir/cache/p/logs"));
        assert!(Path::new(&mounts[0].source).is_dir());
        assert!(!mounts[0].readonly);
        assert!(mounts[1].readonly, "API data volumes are read-only");
        assert!(mounts[2].readonly);
        let bad = Container {
            name: "app".into(),
            volume_mounts: Some(vec![VolumeMount {
                name: "cache".into(),
                mount_path: "/x".into(),
                sub_path: Some("../../etc".into()),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert!(container_mounts(&bad, &vols, &env).is_err());
        teardown(&pd).unwrap();
        assert!(!pd.exists());
        teardown(&pd).unwrap();
    }

    #[test]
    fn mountinfo_parsing() {
        let mi = "36 35 98:0 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/a\\040b rw - tmpfs tmpfs rw\n\
                  37 35 98:0 / /var/lib/kubelet/pods/u1 rw - ext4 /dev/sda rw\n\
                  38 35 98:0 / /var/lib/kubelet/pods/u2/x rw - tmpfs tmpfs rw\n";
        let m = mounts_under(mi, Path::new("/var/lib/kubelet/pods/u1"));
        assert_eq!(
            m,
            [
                PathBuf::from("/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/a b"),
                PathBuf::from("/var/lib/kubelet/pods/u1"),
            ]
        );
    }
}
