//! Image references and pull policies, as the container runtimes and upstream's kubelet
//! read them (pure).

use k8s_openapi::api::core::v1::Container;

/// A parsed, normalized image reference: `busybox` is
/// `docker.io` / `library/busybox` / tag `latest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageName {
    /// `docker.io`, `registry.k8s.io`, `127.0.0.1:5000`, ...
    pub registry: String,
    /// `library/busybox`
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:...`
    pub digest: Option<String>,
}

impl ImageName {
    /// Parses an image as written in a pod spec. A reference without tag or digest
    /// gets `:latest`, like every runtime does.
    pub fn parse(image: &str) -> Result<ImageName, String> {
        let image = image.trim();
        if image.is_empty() {
            return Err("image is empty".into());
        }
        if image
            .chars()
            .any(|c| c.is_whitespace() || c.is_ascii_uppercase())
        {
            // Upstream: "invalid reference format: repository name must be lowercase".
            return Err(format!(
                "couldn't parse image name \"{image}\": invalid reference format"
            ));
        }
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => {
                let ok = d
                    .split_once(':')
                    .is_some_and(|(alg, hex)| !alg.is_empty() && !hex.is_empty());
                if !ok {
                    return Err(format!(
                        "couldn't parse image name \"{image}\": invalid digest {d:?}"
                    ));
                }
                (r, Some(d.to_string()))
            }
            None => (image, None),
        };
        let (first, remainder) = match rest.split_once('/') {
            Some((f, r)) => (f, Some(r)),
            None => (rest, None),
        };
        let has_domain = remainder.is_some()
            && (first.contains('.') || first.contains(':') || first == "localhost");
        let (registry, path) = if has_domain {
            (first.to_string(), remainder.unwrap_or_default().to_string())
        } else if rest.contains('/') {
            ("docker.io".to_string(), rest.to_string())
        } else {
            ("docker.io".to_string(), format!("library/{rest}"))
        };
        // The tag is after the last ':' of the last path segment.
        let last_slash = path.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (repository, tag) = match path[last_slash..].rfind(':') {
            Some(i) => {
                let split = last_slash + i;
                (
                    path[..split].to_string(),
                    Some(path[split + 1..].to_string()),
                )
            }
            None => (path, None),
        };
        if repository.is_empty()
            || repository.split('/').any(str::is_empty)
            || tag.as_deref().is_some_and(str::is_empty)
        {
            return Err(format!(
                "couldn't parse image name \"{image}\": invalid reference format"
            ));
        }
        let tag = match (tag, &digest) {
            (None, None) => Some("latest".to_string()),
            (t, _) => t,
        };
        Ok(ImageName {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `docker.io/library/busybox`
    pub fn repo(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The name the image record carries in containerd: `repo:tag`, or `repo@digest`
    /// when pinned by digest (as containerd's CRI names them).
    pub fn full_name(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{}@{d}", self.repo()),
            (None, Some(t)) => format!("{}:{t}", self.repo()),
            (None, None) => format!("{}:latest", self.repo()),
        }
    }

    /// `repo@<digest>`: the repo digest reported as a container's imageID.
    pub fn repo_digest(&self, digest: &str) -> String {
        format!("{}@{digest}", self.repo())
    }

    /// What to ask the registry for: the digest when pinned, else the tag.
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

/// imagePullPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// The container's policy, or upstream's default when unset: Always for `:latest`
    /// or an image without tag or digest, IfNotPresent otherwise. An unknown value is
    /// an error (the API server would have rejected it).
    pub fn of(container: &Container) -> Result<PullPolicy, String> {
        match container.image_pull_policy.as_deref() {
            Some("Always") => Ok(PullPolicy::Always),
            Some("IfNotPresent") => Ok(PullPolicy::IfNotPresent),
            Some("Never") => Ok(PullPolicy::Never),
            Some("") | None => Ok(Self::default_for(container.image.as_deref().unwrap_or(""))),
            Some(other) => Err(format!("unknown imagePullPolicy {other:?}")),
        }
    }

    /// Upstream's defaulting (pkg/apis/core/v1/defaults.go).
    pub fn default_for(image: &str) -> PullPolicy {
        // The tag is what follows the last ':' after the last '/', before any '@'.
        let without_digest = image.split('@').next().unwrap_or("");
        let has_digest = image.contains('@');
        let last = without_digest.rsplit('/').next().unwrap_or("");
        let tag = last.rsplit_once(':').map(|(_, t)| t);
        match tag {
            Some("latest") => PullPolicy::Always,
            None if !has_digest => PullPolicy::Always,
            _ => PullPolicy::IfNotPresent,
        }
    }
}

/// Whether to pull: `present` says if the image is in containerd.
pub fn should_pull(policy: PullPolicy, present: bool) -> bool {
    match policy {
        PullPolicy::Always => true,
        PullPolicy::IfNotPresent => !present,
        PullPolicy::Never => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ImageName {
        ImageName::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn references_normalize_like_the_runtimes() {
        let b = p("busybox");
        assert_eq!(b.full_name(), "docker.io/library/busybox:latest");
        assert_eq!(b.repository, "library/busybox");
        assert_eq!(b.reference(), "latest");
        assert_eq!(
            p("busybox:1.36").full_name(),
            "docker.io/library/busybox:1.36"
        );
        assert_eq!(p("me/app").full_name(), "docker.io/me/app:latest");
        let l = p("localhost:5000/app");
        assert_eq!(
            (l.registry.as_str(), l.repository.as_str()),
            ("localhost:5000", "app")
        );
        assert_eq!(
            p("registry.k8s.io/pause:3.9").full_name(),
            "registry.k8s.io/pause:3.9"
        );
        let d = p("busybox@sha256:abc");
        assert_eq!(d.full_name(), "docker.io/library/busybox@sha256:abc");
        assert_eq!(d.reference(), "sha256:abc");
        assert_eq!(d.tag, None);
        let both = p("127.0.0.1:5000/a/b:v1@sha256:ff");
        assert_eq!(both.full_name(), "127.0.0.1:5000/a/b@sha256:ff");
        assert_eq!(both.tag.as_deref(), Some("v1"));
        assert_eq!(
            b.repo_digest("sha256:12"),
            "docker.io/library/busybox@sha256:12"
        );
        assert_eq!(p("docker.io/library/busybox:latest"), b);
    }

    #[test]
    fn bad_references_are_errors() {
        for bad in [
            "",
            "Busybox",
            "a b",
            "busybox@",
            "busybox@sha256",
            "a//b",
            "busybox:",
        ] {
            assert!(ImageName::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn pull_policy_defaults_as_upstream() {
        let c = |image: &str, policy: Option<&str>| Container {
            name: "c".into(),
            image: Some(image.into()),
            image_pull_policy: policy.map(str::to_string),
            ..Default::default()
        };
        assert_eq!(PullPolicy::of(&c("busybox", None)), Ok(PullPolicy::Always));
        assert_eq!(
            PullPolicy::of(&c("busybox:latest", None)),
            Ok(PullPolicy::Always)
        );
        assert_eq!(
            PullPolicy::of(&c("busybox:1.36", None)),
            Ok(PullPolicy::IfNotPresent)
        );
        assert_eq!(
            PullPolicy::of(&c("localhost:5000/app", None)),
            Ok(PullPolicy::Always)
        );
        assert_eq!(
            PullPolicy::of(&c("busybox@sha256:ab", None)),
            Ok(PullPolicy::IfNotPresent)
        );
        assert_eq!(
            PullPolicy::of(&c("busybox", Some("Never"))),
            Ok(PullPolicy::Never)
        );
        assert!(PullPolicy::of(&c("busybox", Some("Sometimes"))).is_err());
        assert!(should_pull(PullPolicy::Always, true));
        assert!(!should_pull(PullPolicy::IfNotPresent, true));
        assert!(should_pull(PullPolicy::IfNotPresent, false));
        assert!(!should_pull(PullPolicy::Never, false));
    }
}
