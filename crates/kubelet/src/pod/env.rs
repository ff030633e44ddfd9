//! A container's environment as upstream's kubelet builds it (`makeEnvironmentVariables`):
//! `envFrom` (configMapRef / secretRef with a prefix) first, then `env` in order, where
//! each entry is a literal with `$(VAR)` references expanded, or `valueFrom` a
//! configMap key, a secret key, a pod field (`fieldRef`) or a container resource
//! (`resourceFieldRef`). Also `$(VAR)` expansion of command and args
//! (`ExpandContainerCommandAndArgs`).
//!
//! Pure: the ConfigMaps and Secrets come in an [`ApiObjects`] the caller fetched (see
//! [`super::sources`]); a name missing from it means the object does not exist.
//! Error messages are upstream's, since they become the container's waiting message
//! (reason CreateContainerConfigError).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret};

pub use super::downward::{field_value, format_map, metadata_field, resource_value};

/// The ConfigMaps and Secrets of the pod's namespace it references, by name.
#[derive(Debug, Clone, Default)]
pub struct ApiObjects {
    pub config_maps: BTreeMap<String, ConfigMap>,
    pub secrets: BTreeMap<String, Secret>,
}

/// What the downward API needs besides the pod itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRuntimeInfo {
    /// status.podIPs (for hostNetwork pods the node's addresses).
    pub pod_ips: Vec<String>,
    /// status.hostIPs.
    pub host_ips: Vec<String>,
    /// The node's allocatable CPU in millicores: the default for an unset limits.cpu.
    pub node_allocatable_milli_cpu: i64,
    /// The node's allocatable memory in bytes: the default for an unset limits.memory.
    pub node_allocatable_memory: i64,
}

/// An error with upstream's message (it is shown as the container's waiting message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EnvError(pub String);

pub type Result<T, E = EnvError> = std::result::Result<T, E>;

/// `NAME`, `value` pairs in declaration order.
pub type EnvList = Vec<(String, String)>;

pub(crate) fn namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("default")
}

/// Upstream `IsEnvVarName`: `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn is_env_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_') => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// Upstream's `expansion.Expand`: `$(NAME)` is replaced by the mapping's value, or kept
/// verbatim when unknown; `$$` is an escaped `$`; any other `$` is kept.
pub fn expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let advance = match rest.as_bytes()[0] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest.find(')') {
                    Some(close) => {
                        let name = &rest[1..close];
                        match lookup(name) {
                            Some(v) => out.push_str(&v),
                            None => {
                                out.push_str("$(");
                                out.push_str(name);
                                out.push(')');
                            }
                        }
                        close + 1
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    // "$" and the next character (a whole UTF-8 character).
                    let ch = rest.chars().next().unwrap_or('$');
                    out.push('$');
                    out.push(ch);
                    ch.len_utf8()
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    if checkpoint < input.len() {
        out.push_str(&input[checkpoint..]);
    }
    out
}

fn lookup_in(env: &[(String, String)]) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Sets `name` in place (a later definition replaces an earlier one, keeping its slot).
fn set(env: &mut Vec<(String, String)>, name: &str, value: String) {
    match env.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value,
        None => env.push((name.to_string(), value)),
    }
}

fn config_map<'a>(objs: &'a ApiObjects, name: &str) -> Option<&'a ConfigMap> {
    objs.config_maps.get(name)
}

fn secret<'a>(objs: &'a ApiObjects, name: &str) -> Option<&'a Secret> {
    objs.secrets.get(name)
}

/// Upstream's not-found message for a ConfigMap (the kubelet's configMap manager).
pub fn config_map_not_found(name: &str) -> EnvError {
    EnvError(format!("configmap \"{name}\" not found"))
}

/// Upstream's not-found message for a Secret.
pub fn secret_not_found(name: &str) -> EnvError {
    EnvError(format!("secret \"{name}\" not found"))
}

/// The container's environment (without the image's, which the spec builder merges),
/// in declaration order. Keys from `envFrom` that are not valid variable names are
/// skipped (upstream records an InvalidEnvironmentVariableNames event; returned here as
/// the second value).
pub fn container_env(
    pod: &Pod,
    container: &Container,
    objs: &ApiObjects,
    info: &PodRuntimeInfo,
) -> Result<(EnvList, Vec<String>)> {
    let ns = namespace(pod);
    let mut env: Vec<(String, String)> = Vec::new();
    let mut invalid = Vec::new();
    for from in container.env_from.iter().flatten() {
        let prefix = from.prefix.as_deref().unwrap_or("");
        let mut add = |k: &str, v: String, env: &mut Vec<(String, String)>| {
            let key = format!("{prefix}{k}");
            if is_env_var_name(&key) {
                set(env, &key, v);
            } else {
                invalid.push(key);
            }
        };
        if let Some(r) = &from.config_map_ref {
            let Some(cm) = config_map(objs, &r.name) else {
                if r.optional == Some(true) {
                    continue;
                }
                return Err(config_map_not_found(&r.name));
            };
            for (k, v) in cm.data.iter().flatten() {
                add(k, v.clone(), &mut env);
            }
        } else if let Some(r) = &from.secret_ref {
            let Some(s) = secret(objs, &r.name) else {
                if r.optional == Some(true) {
                    continue;
                }
                return Err(secret_not_found(&r.name));
            };
            for (k, v) in s.data.iter().flatten() {
                add(k, String::from_utf8_lossy(&v.0).into_owned(), &mut env);
            }
        }
    }
    for var in container.env.iter().flatten() {
        let literal = var.value.as_deref().unwrap_or("");
        let value = if !literal.is_empty() {
            expand(literal, lookup_in(&env))
        } else if let Some(from) = &var.value_from {
            if let Some(f) = &from.field_ref {
                field_value(pod, f, info)?
            } else if let Some(r) = &from.resource_field_ref {
                resource_value(pod, container, r, info)?
            } else if let Some(r) = &from.config_map_key_ref {
                let optional = r.optional == Some(true);
                let Some(cm) = config_map(objs, &r.name) else {
                    if optional {
                        continue;
                    }
                    return Err(config_map_not_found(&r.name));
                };
                match cm.data.as_ref().and_then(|d| d.get(&r.key)) {
                    Some(v) => v.clone(),
                    None if optional => continue,
                    None => {
                        return Err(EnvError(format!(
                            "couldn't find key {} in ConfigMap {ns}/{}",
                            r.key, r.name
                        )))
                    }
                }
            } else if let Some(r) = &from.secret_key_ref {
                let optional = r.optional == Some(true);
                let Some(s) = secret(objs, &r.name) else {
                    if optional {
                        continue;
                    }
                    return Err(secret_not_found(&r.name));
                };
                match s.data.as_ref().and_then(|d| d.get(&r.key)) {
                    Some(v) => String::from_utf8_lossy(&v.0).into_owned(),
                    None if optional => continue,
                    None => {
                        return Err(EnvError(format!(
                            "couldn't find key {} in Secret {ns}/{}",
                            r.key, r.name
                        )))
                    }
                }
            } else {
                String::new()
            }
        } else {
            String::new()
        };
        set(&mut env, &var.name, value);
    }
    invalid.sort();
    Ok((env, invalid))
}

/// Command and args with `$(VAR)` references to the container's environment expanded.
pub fn expand_command_and_args(
    container: &Container,
    env: &[(String, String)],
) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let expand_all = |v: &Option<Vec<String>>| {
        v.as_ref()
            .map(|list| list.iter().map(|s| expand(s, lookup_in(env))).collect())
    };
    (expand_all(&container.command), expand_all(&container.args))
}

/// Names of the ConfigMaps and Secrets a pod references (env, envFrom, volumes), so the
/// caller fetches each once.
pub fn referenced_objects(pod: &Pod) -> (Vec<String>, Vec<String>) {
    let mut cms = Vec::new();
    let mut secrets = Vec::new();
    let Some(spec) = pod.spec.as_ref() else {
        return (cms, secrets);
    };
    for c in spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
    {
        for from in c.env_from.iter().flatten() {
            if let Some(r) = &from.config_map_ref {
                cms.push(r.name.clone());
            }
            if let Some(r) = &from.secret_ref {
                secrets.push(r.name.clone());
            }
        }
        for var in c.env.iter().flatten() {
            let Some(from) = &var.value_from else {
                continue;
            };
            if let Some(r) = &from.config_map_key_ref {
                cms.push(r.name.clone());
            }
            if let Some(r) = &from.secret_key_ref {
                secrets.push(r.name.clone());
            }
        }
    }
    for v in spec.volumes.iter().flatten() {
        if let Some(cm) = &v.config_map {
            cms.push(cm.name.clone());
        }
        if let Some(s) = &v.secret {
            secrets.extend(s.secret_name.clone());
        }
        for p in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(cm) = &p.config_map {
                cms.push(cm.name.clone());
            }
            if let Some(s) = &p.secret {
                secrets.push(s.name.clone());
            }
        }
    }
    cms.sort();
    cms.dedup();
    secrets.sort();
    secrets.dedup();
    (cms, secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ConfigMapEnvSource, ConfigMapKeySelector, EnvFromSource, EnvVar, EnvVarSource,
        ObjectFieldSelector, PodSpec, ResourceFieldSelector, ResourceRequirements,
        SecretKeySelector,
    };
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::ByteString;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "A" => Some("a".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expansion_matches_upstream_cases() {
        // Cases from upstream's expansion_test.go.
        let cases = [
            ("$(A)", "a"),
            ("x$(A)y", "xay"),
            ("$(A)$(A)", "aa"),
            ("$(UNKNOWN)", "$(UNKNOWN)"),
            ("$$(A)", "$(A)"),
            ("$$$(A)", "$a"),
            ("$$$$(A)", "$$(A)"),
            ("$(A", "$(A"),
            ("$A", "$A"),
            ("$", "$"),
            ("a$", "a$"),
            ("$(EMPTY)x", "x"),
            ("$()", "$()"),
            ("ü$(A)ü", "üaü"),
            ("$ü", "$ü"),
        ];
        for (input, want) in cases {
            assert_eq!(expand(input, lookup), want, "input {input:?}");
        }
    }

    fn pod(containers: Vec<Container>) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some("web".into());
        p.metadata.namespace = Some("ns1".into());
        p.metadata.uid = Some("u-1".into());
        p.metadata.labels = Some(BTreeMap::from([
            ("app".into(), "web".into()),
            ("tier".into(), "a\"b".into()),
        ]));
        p.spec = Some(PodSpec {
            containers,
            node_name: Some("node-1".into()),
            service_account_name: Some("sa".into()),
            ..Default::default()
        });
        p
    }

    fn var(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Some(value.into()),
            ..Default::default()
        }
    }

    fn from(name: &str, source: EnvVarSource) -> EnvVar {
        EnvVar {
            name: name.into(),
            value_from: Some(source),
            ..Default::default()
        }
    }

    fn field(path: &str) -> EnvVarSource {
        EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn info() -> PodRuntimeInfo {
        PodRuntimeInfo {
            pod_ips: vec!["10.0.0.5".into(), "fd00::5".into()],
            host_ips: vec!["192.168.1.2".into()],
            node_allocatable_milli_cpu: 2000,
            node_allocatable_memory: 4 << 30,
        }
    }

    fn objs() -> ApiObjects {
        let mut o = ApiObjects::default();
        let cm = ConfigMap {
            data: Some(BTreeMap::from([
                ("color".into(), "blue".into()),
                ("bad key".into(), "x".into()),
            ])),
            ..Default::default()
        };
        o.config_maps.insert("cfg".into(), cm);
        let s = Secret {
            data: Some(BTreeMap::from([(
                "password".into(),
                ByteString(b"hunter2".to_vec()),
            )])),
            ..Default::default()
        };
        o.secrets.insert("creds".into(), s);
        o
    }

    fn env_of(c: Container) -> Result<Vec<(String, String)>> {
        let p = pod(vec![c.clone()]);
        container_env(&p, &c, &objs(), &info()).map(|(e, _)| e)
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn field_refs() {
        let c = Container {
            name: "c".into(),
            env: Some(vec![
                from("NAME", field("metadata.name")),
                from("NS", field("metadata.namespace")),
                from("UID", field("metadata.uid")),
                from("APP", field("metadata.labels['app']")),
                from("NONE", field("metadata.annotations['x']")),
                from("LABELS", field("metadata.labels")),
                from("NODE", field("spec.nodeName")),
                from("SA", field("spec.serviceAccountName")),
                from("IP", field("status.podIP")),
                from("IPS", field("status.podIPs")),
                from("HOST", field("status.hostIP")),
                from("HOSTS", field("status.hostIPs")),
            ]),
            ..Default::default()
        };
        assert_eq!(
            env_of(c).unwrap(),
            pairs(&[
                ("NAME", "web"),
                ("NS", "ns1"),
                ("UID", "u-1"),
                ("APP", "web"),
                ("NONE", ""),
                ("LABELS", "app=\"web\"\ntier=\"a\\\"b\""),
                ("NODE", "node-1"),
                ("SA", "sa"),
                ("IP", "10.0.0.5"),
                ("IPS", "10.0.0.5,fd00::5"),
                ("HOST", "192.168.1.2"),
                ("HOSTS", "192.168.1.2"),
            ])
        );
        let bad = Container {
            name: "c".into(),
            env: Some(vec![from("X", field("spec.bogus"))]),
            ..Default::default()
        };
        assert_eq!(
            env_of(bad).unwrap_err().0,
            "unsupported fieldPath: spec.bogus"
        );
    }

    fn resource(r: &str, divisor: Option<&str>) -> EnvVarSource {
        EnvVarSource {
            resource_field_ref: Some(ResourceFieldSelector {
                resource: r.into(),
                divisor: divisor.map(|d| Quantity(d.into())),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn resource_field_refs_round_up_and_default_to_allocatable() {
        let c = Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                limits: Some(BTreeMap::from([
                    ("cpu".into(), Quantity("1500m".into())),
                    ("memory".into(), Quantity("64Mi".into())),
                ])),
                requests: Some(BTreeMap::from([("cpu".into(), Quantity("250m".into()))])),
                ..Default::default()
            }),
            env: Some(vec![
                from("CPU", resource("limits.cpu", None)),
                from("CPU_M", resource("limits.cpu", Some("1m"))),
                from("REQ", resource("requests.cpu", None)),
                from("MEM", resource("limits.memory", None)),
                from("MEM_MI", resource("limits.memory", Some("1Mi"))),
                from("MEM_REQ", resource("requests.memory", None)),
            ]),
            ..Default::default()
        };
        assert_eq!(
            env_of(c).unwrap(),
            pairs(&[
                ("CPU", "2"),
                ("CPU_M", "1500"),
                ("REQ", "1"),
                ("MEM", "67108864"),
                ("MEM_MI", "64"),
                ("MEM_REQ", "0"),
            ])
        );
        let unset = Container {
            name: "c".into(),
            env: Some(vec![
                from("CPU", resource("limits.cpu", None)),
                from("MEM", resource("limits.memory", Some("1Gi"))),
            ]),
            ..Default::default()
        };
        assert_eq!(env_of(unset).unwrap(), pairs(&[("CPU", "2"), ("MEM", "4")]));
    }

    fn cm_key(name: &str, key: &str, optional: Option<bool>) -> EnvVarSource {
        EnvVarSource {
            config_map_key_ref: Some(ConfigMapKeySelector {
                name: name.into(),
                key: key.into(),
                optional,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn config_map_and_secret_keys() {
        let c = Container {
            name: "c".into(),
            env: Some(vec![
                from("COLOR", cm_key("cfg", "color", None)),
                from(
                    "PW",
                    EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: "creds".into(),
                            key: "password".into(),
                            optional: None,
                        }),
                        ..Default::default()
                    },
                ),
                from("OPT", cm_key("missing", "k", Some(true))),
                from("OPTKEY", cm_key("cfg", "nokey", Some(true))),
            ]),
            ..Default::default()
        };
        assert_eq!(
            env_of(c).unwrap(),
            pairs(&[("COLOR", "blue"), ("PW", "hunter2")])
        );
        let missing = |src| Container {
            name: "c".into(),
            env: Some(vec![from("X", src)]),
            ..Default::default()
        };
        assert_eq!(
            env_of(missing(cm_key("nope", "k", None))).unwrap_err().0,
            "configmap \"nope\" not found"
        );
        assert_eq!(
            env_of(missing(cm_key("cfg", "y", Some(false))))
                .unwrap_err()
                .0,
            "couldn't find key y in ConfigMap ns1/cfg"
        );
        let secret_missing_key = EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: "creds".into(),
                key: "user".into(),
                optional: None,
            }),
            ..Default::default()
        };
        assert_eq!(
            env_of(missing(secret_missing_key)).unwrap_err().0,
            "couldn't find key user in Secret ns1/creds"
        );
    }

    #[test]
    fn env_from_prefix_expansion_and_order() {
        let c = Container {
            name: "c".into(),
            env_from: Some(vec![
                EnvFromSource {
                    config_map_ref: Some(ConfigMapEnvSource {
                        name: "cfg".into(),
                        optional: None,
                    }),
                    prefix: Some("CM_".into()),
                    ..Default::default()
                },
                EnvFromSource {
                    config_map_ref: Some(ConfigMapEnvSource {
                        name: "absent".into(),
                        optional: Some(true),
                    }),
                    ..Default::default()
                },
            ]),
            env: Some(vec![
                var("GREETING", "hello $(CM_color) $(NOPE) $$(CM_color)"),
                var("CM_color", "red"),
                var("LATER", "$(CM_color)"),
            ]),
            command: Some(vec!["echo".into(), "$(GREETING)".into()]),
            args: Some(vec!["$(LATER)".into(), "$(UNDEFINED)".into()]),
            ..Default::default()
        };
        let p = pod(vec![c.clone()]);
        let (env, invalid) = container_env(&p, &c, &objs(), &info()).unwrap();
        assert_eq!(invalid, ["CM_bad key"]);
        assert_eq!(
            env,
            pairs(&[
                ("CM_color", "red"),
                ("GREETING", "hello blue $(NOPE) $(CM_color)"),
                ("LATER", "red"),
            ])
        );
        let (cmd, args) = expand_command_and_args(&c, &env);
        assert_eq!(cmd.unwrap(), ["echo", "hello blue $(NOPE) $(CM_color)"]);
        assert_eq!(args.unwrap(), ["red", "$(UNDEFINED)"]);
        let required = Container {
            env_from: Some(vec![EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: "absent".into(),
                    optional: None,
                }),
                ..Default::default()
            }]),
            ..c
        };
        assert_eq!(
            env_of(required).unwrap_err().0,
            "configmap \"absent\" not found"
        );
    }

    #[test]
    fn env_var_names() {
        assert!(is_env_var_name("A_1"));
        assert!(is_env_var_name("my.var-x"));
        assert!(!is_env_var_name("1A"));
        assert!(!is_env_var_name("a b"));
        assert!(!is_env_var_name(""));
    }
}
