//! Fuzzes JSON patch, merge patch and strategic merge patch application: no input may
//! panic, overflow the stack or produce a document serde_json cannot read back.
//!
//! Run (needs a nightly toolchain and `cargo install cargo-fuzz`), from the repo root:
//!
//!     cargo +nightly fuzz run patch_apply -- -max_len=4096
//!
//! Input layout: byte 0 picks the patch type (bits 0-1) and the strategic-merge kind
//! (bits 2-4); the rest is `<document JSON> 0x00 <patch JSON>`. An unparsable document
//! is replaced by a sample Deployment so most inputs exercise the patch logic.

#![no_main]

use api_types::patch::{apply_patch, BuiltinPatchMeta, PatchType};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const KINDS: [(&str, &str); 8] = [
    ("", "Pod"),
    ("apps", "Deployment"),
    ("", "Node"),
    ("", "Service"),
    ("batch", "CronJob"),
    ("policy", "PodDisruptionBudget"),
    ("", "ConfigMap"),
    ("example.com", "Widget"),
];

fn sample() -> Value {
    serde_json::json!({
        "metadata": {"name": "d", "labels": {"app": "a"}, "finalizers": ["f1", "f2"],
            "ownerReferences": [{"uid": "u1", "name": "o"}]},
        "spec": {"replicas": 1, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "selector": {"matchLabels": {"app": "a"}},
            "ports": [{"port": 80}, {"port": 443}],
            "template": {"metadata": {"labels": {"app": "a"}}, "spec": {
                "containers": [{"name": "c1", "image": "i", "env": [{"name": "A", "value": "1"}],
                    "ports": [{"containerPort": 80}]}, {"name": "c2", "image": "j"}],
                "volumes": [{"name": "v", "emptyDir": {}}]}}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let patch_type = match selector & 3 {
        0 => PatchType::Json,
        1 => PatchType::Merge,
        2 => PatchType::StrategicMerge,
        _ => PatchType::Apply,
    };
    let (group, kind) = KINDS[usize::from((selector >> 2) & 7)];
    let meta = BuiltinPatchMeta::for_kind(group, kind);

    let (doc_bytes, patch_bytes) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let doc = serde_json::from_slice::<Value>(doc_bytes).unwrap_or_else(|_| sample());
    let Ok(patch) = serde_json::from_slice::<Value>(patch_bytes) else {
        return;
    };

    if let Ok(out) = apply_patch(patch_type, &doc, &patch, &meta) {
        let text = serde_json::to_string(&out).expect("a Value always serializes");
        assert!(
            serde_json::from_str::<Value>(&text).is_ok(),
            "patched document cannot be parsed back"
        );
    }
});
