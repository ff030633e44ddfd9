//! The files of configMap, secret, downwardAPI and projected volumes, as pure functions
//! of the pod and the API objects (upstream's `MakePayload` of each plugin). Error
//! messages are upstream's.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, ProjectedVolumeSource, Secret,
};

use super::atomic_writer::{FileProjection, Payload};
use crate::pod::env::{
    config_map_not_found, metadata_field, resource_value, secret_not_found, ApiObjects,
    PodRuntimeInfo,
};

/// Upstream's default file mode for these volumes (0644).
pub const DEFAULT_MODE: i32 = 0o644;

fn mode(m: Option<i32>, default: i32) -> u32 {
    u32::try_from(m.unwrap_or(default)).unwrap_or(0o644) & 0o7777
}

/// Files from a key -> bytes map with optional `items` (key -> path, mode).
fn key_payload(
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&Vec<KeyToPath>>,
    default_mode: i32,
    optional: bool,
    missing_key: impl Fn(&str) -> String,
) -> Result<Payload, String> {
    let mut out = Payload::new();
    match items.filter(|i| !i.is_empty()) {
        None => {
            for (k, v) in data {
                out.insert(
                    k.clone(),
                    FileProjection {
                        data: v.clone(),
                        mode: mode(None, default_mode),
                    },
                );
            }
        }
        Some(items) => {
            for item in items {
                match data.get(&item.key) {
                    Some(v) => {
                        out.insert(
                            item.path.clone(),
                            FileProjection {
                                data: v.clone(),
                                mode: mode(item.mode, default_mode),
                            },
                        );
                    }
                    None if optional => {}
                    None => return Err(missing_key(&item.key)),
                }
            }
        }
    }
    Ok(out)
}

fn config_map_data(cm: &ConfigMap) -> BTreeMap<String, Vec<u8>> {
    let mut data: BTreeMap<String, Vec<u8>> = cm
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
        .collect();
    for (k, v) in cm.binary_data.iter().flatten() {
        data.insert(k.clone(), v.0.clone());
    }
    data
}

fn secret_data(s: &Secret) -> BTreeMap<String, Vec<u8>> {
    s.data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect()
}

/// A configMap volume (or projection) `name`.
pub fn config_map_payload(
    objs: &ApiObjects,
    name: &str,
    items: Option<&Vec<KeyToPath>>,
    default_mode: i32,
    optional: bool,
) -> Result<Payload, String> {
    match objs.config_maps.get(name) {
        Some(cm) => key_payload(&config_map_data(cm), items, default_mode, optional, |k| {
            format!("configmap references non-existent config key: {k}")
        }),
        None if optional => Ok(Payload::new()),
        None => Err(config_map_not_found(name).0),
    }
}

/// A secret volume (or projection) `name`.
pub fn secret_payload(
    objs: &ApiObjects,
    name: &str,
    items: Option<&Vec<KeyToPath>>,
    default_mode: i32,
    optional: bool,
) -> Result<Payload, String> {
    match objs.secrets.get(name) {
        Some(s) => key_payload(&secret_data(s), items, default_mode, optional, |k| {
            format!("references non-existent secret key: {k}")
        }),
        None if optional => Ok(Payload::new()),
        None => Err(secret_not_found(name).0),
    }
}

/// A downwardAPI volume (or projection): metadata fields and container resources.
pub fn downward_api_payload(
    pod: &Pod,
    items: &[DownwardAPIVolumeFile],
    default_mode: i32,
    info: &PodRuntimeInfo,
) -> Result<Payload, String> {
    let mut out = Payload::new();
    for item in items {
        let value = if let Some(f) = &item.field_ref {
            metadata_field(pod, &f.field_path).map_err(|e| e.0)?
        } else if let Some(r) = &item.resource_field_ref {
            let name = r.container_name.clone().unwrap_or_default();
            let container = pod
                .spec
                .as_ref()
                .and_then(|s| s.containers.iter().find(|c| c.name == name))
                .ok_or_else(|| format!("container {name} not found"))?;
            resource_value(pod, container, r, info).map_err(|e| e.0)?
        } else {
            String::new()
        };
        out.insert(
            item.path.clone(),
            FileProjection {
                data: value.into_bytes(),
                mode: mode(item.mode, default_mode),
            },
        );
    }
    Ok(out)
}

/// A projected volume: every source's files in one directory.
pub fn projected_payload(
    pod: &Pod,
    source: &ProjectedVolumeSource,
    objs: &ApiObjects,
    info: &PodRuntimeInfo,
) -> Result<Payload, String> {
    let default_mode = source.default_mode.unwrap_or(DEFAULT_MODE);
    let mut out = Payload::new();
    for p in source.sources.iter().flatten() {
        let part = if let Some(cm) = &p.config_map {
            config_map_payload(
                objs,
                &cm.name,
                cm.items.as_ref(),
                default_mode,
                cm.optional == Some(true),
            )?
        } else if let Some(s) = &p.secret {
            secret_payload(
                objs,
                &s.name,
                s.items.as_ref(),
                default_mode,
                s.optional == Some(true),
            )?
        } else if let Some(d) = &p.downward_api {
            downward_api_payload(pod, d.items.as_deref().unwrap_or(&[]), default_mode, info)?
        } else if p.service_account_token.is_some() {
            // Needs the TokenRequest API (serviceaccounts/token), which this cluster's
            // apiserver does not serve yet.
            return Err(
                "projected serviceAccountToken is not supported: the TokenRequest API is not available"
                    .into(),
            );
        } else if p.cluster_trust_bundle.is_some() {
            return Err("projected clusterTrustBundle is not supported".into());
        } else {
            Payload::new()
        };
        out.extend(part);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ConfigMapProjection, Container, DownwardAPIProjection, ObjectFieldSelector, PodSpec,
        ResourceFieldSelector, SecretProjection, ServiceAccountTokenProjection, VolumeProjection,
    };
    use k8s_openapi::ByteString;

    fn objs() -> ApiObjects {
        let mut o = ApiObjects::default();
        let cm = ConfigMap {
            data: Some(BTreeMap::from([
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
            ])),
            binary_data: Some(BTreeMap::from([("bin".into(), ByteString(vec![0, 1]))])),
            ..Default::default()
        };
        o.config_maps.insert("cfg".into(), cm);
        let s = Secret {
            data: Some(BTreeMap::from([(
                "tls.key".into(),
                ByteString(b"k".to_vec()),
            )])),
            ..Default::default()
        };
        o.secrets.insert("sec".into(), s);
        o
    }

    fn item(key: &str, path: &str, mode: Option<i32>) -> KeyToPath {
        KeyToPath {
            key: key.into(),
            path: path.into(),
            mode,
        }
    }

    #[test]
    fn config_map_all_keys_items_and_errors() {
        let p = config_map_payload(&objs(), "cfg", None, 0o600, false).unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), ["a", "b", "bin"]);
        assert_eq!(p["a"].mode, 0o600);
        assert_eq!(p["bin"].data, [0, 1]);
        let items = vec![item("a", "dir/x", Some(0o400)), item("b", "y", None)];
        let p = config_map_payload(&objs(), "cfg", Some(&items), DEFAULT_MODE, false).unwrap();
        assert_eq!(p["dir/x"].mode, 0o400);
        assert_eq!(p["y"].mode, 0o644);
        let missing = vec![item("zzz", "z", None)];
        assert_eq!(
            config_map_payload(&objs(), "cfg", Some(&missing), DEFAULT_MODE, false).unwrap_err(),
            "configmap references non-existent config key: zzz"
        );
        assert!(
            config_map_payload(&objs(), "cfg", Some(&missing), DEFAULT_MODE, true)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            config_map_payload(&objs(), "nope", None, DEFAULT_MODE, false).unwrap_err(),
            "configmap \"nope\" not found"
        );
        assert!(
            config_map_payload(&objs(), "nope", None, DEFAULT_MODE, true)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn secrets() {
        let p = secret_payload(&objs(), "sec", None, DEFAULT_MODE, false).unwrap();
        assert_eq!(p["tls.key"].data, b"k");
        assert_eq!(
            secret_payload(&objs(), "gone", None, DEFAULT_MODE, false).unwrap_err(),
            "secret \"gone\" not found"
        );
        let missing = vec![item("x", "x", None)];
        assert_eq!(
            secret_payload(&objs(), "sec", Some(&missing), DEFAULT_MODE, false).unwrap_err(),
            "references non-existent secret key: x"
        );
    }

    fn pod() -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some("web".into());
        p.metadata.namespace = Some("ns".into());
        p.metadata.labels = Some(BTreeMap::from([("app".into(), "web".into())]));
        p.spec = Some(PodSpec {
            containers: vec![Container {
                name: "c".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        p
    }

    #[test]
    fn downward_and_projected() {
        let items = vec![
            DownwardAPIVolumeFile {
                path: "name".into(),
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.name".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            DownwardAPIVolumeFile {
                path: "labels".into(),
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.labels".into(),
                    ..Default::default()
                }),
                mode: Some(0o444),
                ..Default::default()
            },
            DownwardAPIVolumeFile {
                path: "cpu".into(),
                resource_field_ref: Some(ResourceFieldSelector {
                    container_name: Some("c".into()),
                    resource: "limits.cpu".into(),
                    divisor: None,
                }),
                ..Default::default()
            },
        ];
        let info = PodRuntimeInfo {
            node_allocatable_milli_cpu: 3000,
            ..Default::default()
        };
        let p = downward_api_payload(&pod(), &items, DEFAULT_MODE, &info).unwrap();
        assert_eq!(p["name"].data, b"web");
        assert_eq!(p["labels"].data, b"app=\"web\"");
        assert_eq!(p["labels"].mode, 0o444);
        assert_eq!(p["cpu"].data, b"3");

        let source = ProjectedVolumeSource {
            default_mode: Some(0o640),
            sources: Some(vec![
                VolumeProjection {
                    config_map: Some(ConfigMapProjection {
                        name: "cfg".into(),
                        items: Some(vec![item("a", "a.txt", None)]),
                        optional: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    secret: Some(SecretProjection {
                        name: "sec".into(),
                        items: None,
                        optional: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    downward_api: Some(DownwardAPIProjection {
                        items: Some(items[..1].to_vec()),
                    }),
                    ..Default::default()
                },
            ]),
        };
        let p = projected_payload(&pod(), &source, &objs(), &info).unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), ["a.txt", "name", "tls.key"]);
        assert!(p.values().all(|f| f.mode == 0o640));
        let token = ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    path: "token".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert!(projected_payload(&pod(), &token, &objs(), &info)
            .unwrap_err()
            .contains("TokenRequest"));
    }
}
