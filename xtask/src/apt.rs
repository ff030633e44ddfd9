//! The Debian packages the project needs on the machine, installed when missing.

use std::process::Command;

use anyhow::{bail, Context, Result};

/// One package and why it is needed.
pub struct AptPackage {
    pub name: &'static str,
    /// A file the package installs, checked where dpkg is missing.
    pub provides: &'static str,
    pub why: &'static str,
}

/// What `cargo xtask up`, `cargo xtask images` and `cargo xtask test` make sure is installed.
/// The node packages (containerd ... nftables) are for the kubelet and its tests; installing
/// them starts no service where PID 1 is not systemd, and nothing here relies on one.
pub const PACKAGES: &[AptPackage] = &[
    AptPackage {
        name: "etcd-server",
        provides: "/usr/bin/etcd",
        why: "the store behind kube-apiserver",
    },
    AptPackage {
        name: "etcd-client",
        provides: "/usr/bin/etcdctl",
        why: "etcdctl, used by tests to look at what the apiserver stored",
    },
    AptPackage {
        name: "protobuf-compiler",
        provides: "/usr/bin/protoc",
        why: "protoc, needed to build etcd-client's protos",
    },
    AptPackage {
        name: "containerd",
        provides: "/usr/bin/containerd",
        why: "the container runtime the kubelet drives (CRI)",
    },
    AptPackage {
        name: "runc",
        provides: "/usr/sbin/runc",
        why: "the OCI runtime containerd runs containers with",
    },
    AptPackage {
        name: "containernetworking-plugins",
        provides: "/usr/lib/cni/bridge",
        why: "CNI plugins (bridge, host-local, loopback) for pod networking",
    },
    AptPackage {
        name: "busybox-static",
        provides: "/bin/busybox",
        why: "the static busybox that test images are built from (cargo xtask images)",
    },
    AptPackage {
        name: "docker-registry",
        provides: "/usr/bin/docker-registry",
        why: "a local registry serving the test images on 127.0.0.1:5000",
    },
    AptPackage {
        name: "iproute2",
        provides: "/sbin/ip",
        why: "ip, for pod network namespaces and routes",
    },
    AptPackage {
        name: "nftables",
        provides: "/usr/sbin/nft",
        why: "nft, to read kube-proxy's rules (its tests compare our netlink tables with nft -f ones)",
    },
    // coredns-addon: its tests and `cargo xtask bench dns`.
    AptPackage {
        name: "dnsutils",
        provides: "/usr/bin/dig",
        why: "dig, the resolver coredns-addon's tests check answers with",
    },
    AptPackage {
        name: "nsd",
        provides: "/usr/sbin/nsd",
        why: "an authoritative DNS server: the upstream in coredns-addon's tests, the baseline of `bench dns`",
    },
    AptPackage {
        name: "dnsperf",
        provides: "/usr/bin/dnsperf",
        why: "dnsperf, the load generator of `cargo xtask bench dns`",
    },
    AptPackage {
        name: "conntrack",
        provides: "/usr/sbin/conntrack",
        why: "conntrack, for kube-proxy's cleanup of stale UDP conntrack entries",
    },
];

fn installed(pkg: &AptPackage) -> bool {
    match Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg.name])
        .output()
    {
        Ok(out) => {
            out.status.success()
                && String::from_utf8_lossy(&out.stdout).contains("install ok installed")
        }
        Err(_) => std::path::Path::new(pkg.provides).exists(),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs whatever of [`PACKAGES`] is missing: one `apt-get update`, one `apt-get
/// install`, and nothing at all when everything is there.
pub fn ensure_packages() -> Result<()> {
    let missing: Vec<&AptPackage> = PACKAGES.iter().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    for p in &missing {
        eprintln!("xtask: installing {} ({})", p.name, p.why);
    }
    if Command::new("apt-get").arg("--version").output().is_err() {
        bail!(
            "missing packages {} and no apt-get: install them by hand",
            missing.iter().map(|p| p.name).collect::<Vec<_>>().join(" ")
        );
    }
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let run = |args: &[&str]| -> Result<()> {
        let mut all: Vec<&str> = sudo.to_vec();
        all.extend_from_slice(args);
        let status = Command::new(all[0])
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .with_context(|| format!("running {}", all.join(" ")))?;
        if !status.success() {
            bail!("`{}` failed ({status})", all.join(" "));
        }
        Ok(())
    };
    run(&["apt-get", "update", "-q"])?;
    let mut install = vec!["apt-get", "install", "-y", "-q", "--no-install-recommends"];
    install.extend(missing.iter().map(|p| p.name));
    run(&install)?;
    let still: Vec<&str> = missing
        .iter()
        .filter(|p| !installed(p))
        .map(|p| p.name)
        .collect();
    if !still.is_empty() {
        bail!(
            "still not installed after apt-get install: {}",
            still.join(" ")
        );
    }
    // Under systemd, Debian starts a freshly installed nsd on port 53, where the cluster
    // DNS add-on must listen: the tests run their own nsd on loopback, so stop ours.
    if missing.iter().any(|p| p.name == "nsd")
        && std::path::Path::new("/run/systemd/system").exists()
    {
        eprintln!("xtask: disabling the nsd service the package started (tests run their own nsd)");
        if let Err(e) = run(&["systemctl", "disable", "--now", "nsd.service"]) {
            eprintln!("xtask: warning: {e:#}");
        }
    }
    Ok(())
}
