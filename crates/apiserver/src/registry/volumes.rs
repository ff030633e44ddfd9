//! Pod volume validation (upstream's ValidateVolumes / validateVolumeSource): unique
//! DNS-1123 names, exactly one source, and the checks of the common sources.

use std::collections::BTreeSet;

use api_types::validation::{child, index, FieldError};
use k8s_openapi::api::core::v1::{DownwardAPIVolumeFile, KeyToPath, Volume};

use super::containers::{
    validate_field_ref, validate_local_descending_path, validate_no_backsteps,
    validate_resource_field_ref, VolumeNames,
};
use super::metadata::validate_dns1123_label;
use super::pod_spec::opt;
use super::quantity::parse_quantity;

const FILE_MODE_ERROR: &str = "must be a number between 0 and 0777 (octal), both inclusive";
const VOLUME_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];
const HOST_PATH_TYPES: &[&str] = &[
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];

fn validate_mode(mode: Option<i32>, path: &str) -> Option<FieldError> {
    mode.filter(|m| !(0..=0o777).contains(m))
        .map(|m| FieldError::invalid(path, m, FILE_MODE_ERROR))
}

/// `ValidateLocalNonReservedPath`.
fn validate_local_non_reserved_path(p: &str, path: &str) -> Vec<FieldError> {
    let mut errs = validate_local_descending_path(p, path);
    if p.starts_with("..") && !p.starts_with("../") {
        errs.push(FieldError::invalid(path, p, "must not start with '..'"));
    }
    errs
}

fn validate_key_to_path(kp: &KeyToPath, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if kp.key.is_empty() {
        errs.push(FieldError::required(child(path, "key"), ""));
    }
    if kp.path.is_empty() {
        errs.push(FieldError::required(child(path, "path"), ""));
    }
    errs.extend(validate_local_non_reserved_path(
        &kp.path,
        &child(path, "path"),
    ));
    errs.extend(validate_mode(kp.mode, &child(path, "mode")));
    errs
}

fn validate_items(items: &[KeyToPath], path: &str) -> Vec<FieldError> {
    items
        .iter()
        .enumerate()
        .flat_map(|(i, kp)| validate_key_to_path(kp, &index(path, i)))
        .collect()
}

fn validate_downward_file(f: &DownwardAPIVolumeFile, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if f.path.is_empty() {
        errs.push(FieldError::required(child(path, "path"), ""));
    }
    errs.extend(validate_local_non_reserved_path(
        &f.path,
        &child(path, "path"),
    ));
    match (&f.field_ref, &f.resource_field_ref) {
        (Some(fr), other) => {
            errs.extend(validate_field_ref(
                opt(&fr.api_version),
                &fr.field_path,
                VOLUME_FIELD_PATHS,
                &child(path, "fieldRef"),
            ));
            if other.is_some() {
                errs.push(FieldError::invalid(
                    path,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                ));
            }
        }
        (None, Some(rf)) => {
            let rp = child(path, "resourceFieldRef");
            if opt(&rf.container_name).is_empty() {
                errs.push(FieldError::required(child(&rp, "containerName"), ""));
            }
            errs.extend(validate_resource_field_ref(&rf.resource, &rp));
        }
        (None, None) => errs.push(FieldError::required(
            path,
            "one of fieldRef and resourceFieldRef is required",
        )),
    }
    errs.extend(validate_mode(f.mode, &child(path, "mode")));
    errs
}

/// Counts the sources of a volume and validates each, as `validateVolumeSource`.
fn validate_source(v: &Volume, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    // Upstream's order of sources: the first one counts, later ones are "more than 1".
    let present = [
        ("emptyDir", v.empty_dir.is_some()),
        ("hostPath", v.host_path.is_some()),
        ("gitRepo", v.git_repo.is_some()),
        ("gcePersistentDisk", v.gce_persistent_disk.is_some()),
        ("awsElasticBlockStore", v.aws_elastic_block_store.is_some()),
        ("secret", v.secret.is_some()),
        ("nfs", v.nfs.is_some()),
        ("iscsi", v.iscsi.is_some()),
        ("glusterfs", v.glusterfs.is_some()),
        ("flocker", v.flocker.is_some()),
        ("persistentVolumeClaim", v.persistent_volume_claim.is_some()),
        ("rbd", v.rbd.is_some()),
        ("cinder", v.cinder.is_some()),
        ("cephfs", v.cephfs.is_some()),
        ("quobyte", v.quobyte.is_some()),
        ("downwardAPI", v.downward_api.is_some()),
        ("fc", v.fc.is_some()),
        ("flexVolume", v.flex_volume.is_some()),
        ("configMap", v.config_map.is_some()),
        ("azureFile", v.azure_file.is_some()),
        ("vsphereVolume", v.vsphere_volume.is_some()),
        ("photonPersistentDisk", v.photon_persistent_disk.is_some()),
        ("portworxVolume", v.portworx_volume.is_some()),
        ("azureDisk", v.azure_disk.is_some()),
        ("storageos", v.storageos.is_some()),
        ("projected", v.projected.is_some()),
        ("scaleIO", v.scale_io.is_some()),
        ("csi", v.csi.is_some()),
        ("ephemeral", v.ephemeral.is_some()),
        ("image", v.image.is_some()),
    ];
    let mut chosen = None;
    for (name, is) in present {
        if !is {
            continue;
        }
        if chosen.is_some() {
            errs.push(FieldError::forbidden(
                child(path, name),
                "may not specify more than 1 volume type",
            ));
        } else {
            chosen = Some(name);
        }
    }
    let Some(chosen) = chosen else {
        errs.push(FieldError::required(path, "must specify a volume type"));
        return errs;
    };
    let sp = child(path, chosen);
    match chosen {
        "emptyDir" => {
            let limit = v.empty_dir.as_ref().and_then(|e| e.size_limit.as_ref());
            if limit.is_some_and(|q| parse_quantity(&q.0).map_or(true, |q| q.is_negative())) {
                errs.push(FieldError::forbidden(
                    child(&sp, "sizeLimit"),
                    "SizeLimit field must be a valid resource quantity",
                ));
            }
        }
        "hostPath" => {
            if let Some(h) = &v.host_path {
                if h.path.is_empty() {
                    errs.push(FieldError::required(child(&sp, "path"), ""));
                } else {
                    errs.extend(validate_no_backsteps(&h.path, &child(&sp, "path")));
                    let t = opt(&h.type_);
                    if !HOST_PATH_TYPES.contains(&t) {
                        errs.push(FieldError::not_supported(
                            child(&sp, "type"),
                            t,
                            HOST_PATH_TYPES,
                        ));
                    }
                }
            }
        }
        "secret" => {
            if let Some(s) = &v.secret {
                if opt(&s.secret_name).is_empty() {
                    errs.push(FieldError::required(child(&sp, "secretName"), ""));
                }
                errs.extend(validate_mode(s.default_mode, &child(&sp, "defaultMode")));
                errs.extend(validate_items(
                    s.items.as_deref().unwrap_or_default(),
                    &child(&sp, "items"),
                ));
            }
        }
        "configMap" => {
            if let Some(c) = &v.config_map {
                if c.name.is_empty() {
                    errs.push(FieldError::required(child(&sp, "name"), ""));
                }
                errs.extend(validate_mode(c.default_mode, &child(&sp, "defaultMode")));
                errs.extend(validate_items(
                    c.items.as_deref().unwrap_or_default(),
                    &child(&sp, "items"),
                ));
            }
        }
        "persistentVolumeClaim"
            if v.persistent_volume_claim
                .as_ref()
                .is_some_and(|p| p.claim_name.is_empty()) =>
        {
            errs.push(FieldError::required(child(&sp, "claimName"), ""));
        }
        "nfs" => {
            if let Some(n) = &v.nfs {
                if n.server.is_empty() {
                    errs.push(FieldError::required(child(&sp, "server"), ""));
                }
                if n.path.is_empty() {
                    errs.push(FieldError::required(child(&sp, "path"), ""));
                }
                if !n.path.starts_with('/') {
                    errs.push(FieldError::invalid(
                        child(&sp, "path"),
                        n.path.as_str(),
                        "must be an absolute path",
                    ));
                }
            }
        }
        "downwardAPI" => {
            if let Some(d) = &v.downward_api {
                errs.extend(validate_mode(d.default_mode, &child(&sp, "defaultMode")));
                for f in d.items.iter().flatten() {
                    errs.extend(validate_downward_file(f, &sp));
                }
            }
        }
        "projected" => {
            if let Some(p) = &v.projected {
                errs.extend(validate_mode(p.default_mode, &child(&sp, "defaultMode")));
                errs.extend(validate_projection_sources(p, &sp));
            }
        }
        "csi" if v.csi.as_ref().is_some_and(|c| c.driver.is_empty()) => {
            errs.push(FieldError::required(child(&sp, "driver"), ""));
        }
        "ephemeral"
            if v.ephemeral
                .as_ref()
                .is_some_and(|e| e.volume_claim_template.is_none()) =>
        {
            errs.push(FieldError::required(child(&sp, "volumeClaimTemplate"), ""));
        }
        "image" => {
            if let Some(i) = &v.image {
                if opt(&i.reference).is_empty() {
                    errs.push(FieldError::required(child(&sp, "reference"), ""));
                }
                match opt(&i.pull_policy) {
                    "" | "Always" | "IfNotPresent" | "Never" => {}
                    other => errs.push(FieldError::not_supported(
                        child(&sp, "pullPolicy"),
                        other,
                        &["Always", "IfNotPresent", "Never"],
                    )),
                }
            }
        }
        _ => {}
    }
    errs
}

fn validate_projection_sources(
    p: &k8s_openapi::api::core::v1::ProjectedVolumeSource,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut paths = BTreeSet::new();
    for (i, src) in p.sources.iter().flatten().enumerate() {
        let srcp = index(&child(path, "sources"), i);
        let mut count = 0;
        for (field, name, items) in [
            (
                "secret",
                src.secret.as_ref().map(|s| &s.name),
                src.secret.as_ref().and_then(|s| s.items.as_deref()),
            ),
            (
                "configMap",
                src.config_map.as_ref().map(|c| &c.name),
                src.config_map.as_ref().and_then(|c| c.items.as_deref()),
            ),
        ] {
            let Some(name) = name else { continue };
            count += 1;
            let pp = child(&srcp, field);
            if name.is_empty() {
                errs.push(FieldError::required(child(&pp, "name"), ""));
            }
            for (j, kp) in items.unwrap_or_default().iter().enumerate() {
                errs.extend(validate_key_to_path(kp, &index(&child(&pp, "items"), j)));
                if !kp.path.is_empty() && !paths.insert(kp.path.clone()) {
                    errs.push(FieldError::invalid(
                        path,
                        name.as_str(),
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(d) = &src.downward_api {
            count += 1;
            for f in d.items.iter().flatten() {
                errs.extend(validate_downward_file(f, &child(&srcp, "downwardAPI")));
                if !f.path.is_empty() && !paths.insert(f.path.clone()) {
                    errs.push(FieldError::invalid(path, "", "conflicting duplicate paths"));
                }
            }
        }
        if let Some(t) = &src.service_account_token {
            count += 1;
            let tp = child(&srcp, "serviceAccountToken");
            let exp = t.expiration_seconds.unwrap_or(0);
            if exp < 600 {
                errs.push(FieldError::invalid(
                    child(&tp, "expirationSeconds"),
                    exp,
                    "may not specify a duration less than 10 minutes",
                ));
            }
            if exp > 1 << 32 {
                errs.push(FieldError::invalid(
                    child(&tp, "expirationSeconds"),
                    exp,
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
            if t.path.is_empty() {
                errs.push(FieldError::required(child(path, "path"), ""));
            }
        }
        if src.cluster_trust_bundle.is_some() {
            count += 1;
        }
        if count > 1 {
            errs.push(FieldError::forbidden(
                srcp,
                "may not specify more than 1 volume type per source",
            ));
        }
    }
    errs
}

/// `ValidateVolumes`: the valid volumes by name (true for block-capable sources) and
/// every error. A volume with errors is left out, so mounts of it are "Not found".
pub fn validate_volumes(volumes: &[Volume], path: &str) -> (VolumeNames, Vec<FieldError>) {
    let mut names = VolumeNames::new();
    let mut errs = Vec::new();
    for (i, v) in volumes.iter().enumerate() {
        let ip = index(path, i);
        let np = child(&ip, "name");
        let mut el = validate_source(v, &ip);
        if v.name.is_empty() {
            el.push(FieldError::required(&np, ""));
        } else {
            el.extend(validate_dns1123_label(&v.name, &np));
        }
        if names.contains_key(&v.name) {
            el.push(FieldError::duplicate(&np, v.name.as_str()));
        }
        if el.is_empty() {
            names.insert(
                v.name.clone(),
                v.persistent_volume_claim.is_some() || v.ephemeral.is_some(),
            );
        } else {
            errs.extend(el);
        }
    }
    (names, errs)
}
