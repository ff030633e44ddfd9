//! JSON patch, merge patch, depth limits and patch types; strategic merge patch tests
//! are in strategic_tests.rs.

use serde_json::{json, Value};

use super::*;

/// An object `n` levels deep: {"a":{"a":...}}.
fn nested(n: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..n {
        v = json!({"a": v});
    }
    v
}

#[test]
fn deep_input_is_refused_not_overflowed() {
    let deep = nested(MAX_DEPTH + 1);
    let ok = nested(MAX_DEPTH);
    let meta = BuiltinPatchMeta::for_kind("", "Pod");
    for t in [PatchType::Merge, PatchType::StrategicMerge] {
        assert!(
            matches!(
                apply_patch(t, &json!({}), &deep, &meta),
                Err(PatchError::TooDeep { .. })
            ),
            "{t}"
        );
        assert!(
            matches!(
                apply_patch(t, &deep, &json!({}), &meta),
                Err(PatchError::TooDeep { .. })
            ),
            "{t}"
        );
        assert_eq!(apply_patch(t, &ok, &ok, &meta).unwrap(), ok, "{t}");
    }
    assert!(matches!(
        apply_json_patch(&deep, &json!([])),
        Err(PatchError::TooDeep { .. })
    ));
    // serde_json refuses to parse deeper documents, so MAX_DEPTH is exactly what can round-trip.
    let text = serde_json::to_string(&ok).unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_ok());
    assert!(serde_json::from_str::<Value>(&format!("[{text}]")).is_err());
    // Growing the document past the limit with JSON patch operations.
    let ops: Vec<Value> = (0..=MAX_DEPTH)
        .map(|i| json!({"op": "add", "path": "/a".repeat(i + 1), "value": {}}))
        .collect();
    assert!(matches!(
        apply_json_patch(&json!({}), &Value::Array(ops)),
        Err(PatchError::TooDeep { .. })
    ));
    // Moving a deep value deeper.
    let doc = json!({"a": nested(MAX_DEPTH - 2), "b": {"c": {}}});
    let mv = json!([{"op": "move", "from": "/a", "path": "/b/c/x"}]);
    assert!(matches!(
        apply_json_patch(&doc, &mv),
        Err(PatchError::TooDeep { .. })
    ));
    let mv = json!([{"op": "move", "from": "/a", "path": "/b/x"}]);
    assert!(apply_json_patch(&doc, &mv).is_ok());
}

fn jp(doc: Value, ops: Value) -> Result<Value, PatchError> {
    apply_json_patch(&doc, &ops)
}

#[test]
fn json_patch_operations() {
    let doc = json!({"metadata": {"labels": {"a": "1", "b": "2", "c": "3"}}, "spec": {"list": [1, 2, 3]}});
    let out = jp(
        doc.clone(),
        json!([
            {"op": "add", "path": "/metadata/labels/d", "value": "4"},
            {"op": "remove", "path": "/metadata/labels/a"},
            {"op": "replace", "path": "/spec/list/0", "value": 10},
            {"op": "add", "path": "/spec/list/-", "value": 4},
            {"op": "add", "path": "/spec/list/1", "value": 15},
            {"op": "test", "path": "/spec/list", "value": [10, 15, 2, 3, 4]},
            {"op": "move", "from": "/metadata/labels/b", "path": "/metadata/labels/bb"},
            {"op": "copy", "from": "/metadata/labels/c", "path": "/metadata/labels/cc"},
            {"op": "test", "path": "/metadata/labels/cc", "value": "3"}
        ]),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"metadata": {"labels": {"c": "3", "d": "4", "bb": "2", "cc": "3"}}, "spec": {"list": [10, 15, 2, 3, 4]}})
    );
    // Removal keeps the order of the remaining members.
    let keys: Vec<_> = out["metadata"]["labels"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["c", "d", "bb", "cc"]);
    // Upstream's leniencies: replace adds a missing member; test of a missing member against null passes.
    assert_eq!(
        jp(
            json!({"a": {}}),
            json!([{"op": "replace", "path": "/a/x", "value": 1}])
        )
        .unwrap(),
        json!({"a": {"x": 1}})
    );
    assert!(jp(
        json!({"a": {}}),
        json!([{"op": "test", "path": "/a/x", "value": null}])
    )
    .is_ok());
    assert!(jp(
        json!({"n": 1}),
        json!([{"op": "test", "path": "/n", "value": 1.0}])
    )
    .is_ok());
    assert_eq!(
        jp(
            json!({"a": 1}),
            json!([{"op": "replace", "path": "", "value": {"b": 2}}])
        )
        .unwrap(),
        json!({"b": 2})
    );
    assert_eq!(jp(json!({"a": 1}), Value::Null).unwrap(), json!({"a": 1}));
    // Negative indices count from the end, as upstream allows.
    let l = json!({"l": ["a", "b", "c"]});
    assert_eq!(
        jp(l.clone(), json!([{"op": "remove", "path": "/l/-1"}])).unwrap(),
        json!({"l": ["a", "b"]})
    );
    assert_eq!(
        jp(
            l.clone(),
            json!([{"op": "add", "path": "/l/-1", "value": "d"}])
        )
        .unwrap(),
        json!({"l": ["a", "b", "c", "d"]})
    );
    assert_eq!(
        jp(
            l.clone(),
            json!([{"op": "replace", "path": "/l/-3", "value": "z"}])
        )
        .unwrap(),
        json!({"l": ["z", "b", "c"]})
    );
    assert!(jp(l, json!([{"op": "remove", "path": "/l/-4"}])).is_err());
    assert_eq!(jp(json!({"a": {"b": 1}}), json!([{"op": "add", "path": "/a~1b", "value": 2}, {"op": "add", "path": "/a/c~0d", "value": 3}])).unwrap(), json!({"a": {"b": 1, "c~d": 3}, "a/b": 2}));
}

#[test]
fn json_patch_errors_are_upstreams() {
    let doc = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"list": [1, 2]}});
    let err = |ops: Value| jp(doc.clone(), ops).unwrap_err();
    let msg = |ops: Value| err(ops).to_string();
    let e = err(json!([{"op": "test", "path": "/metadata/labels/a", "value": "2"}]));
    assert_eq!(
        e,
        PatchError::Unprocessable("testing value /metadata/labels/a failed: test failed".into())
    );
    assert_eq!(e.code(), 422);
    assert_eq!(
        msg(json!([{"op": "test", "path": "/metadata/labels/x", "value": "2"}])),
        "testing value /metadata/labels/x failed: test failed"
    );
    assert_eq!(
        msg(json!([{"op": "test", "path": "/nope/x", "value": 1}])),
        "test operation does not apply: is missing path: /nope/x: missing value"
    );
    assert_eq!(msg(json!([{"op": "remove", "path": "/metadata/labels/x"}])), "error in remove for path: '/metadata/labels/x': Unable to remove nonexistent key: x: missing value");
    assert_eq!(
        msg(json!([{"op": "remove", "path": "/nope/x"}])),
        "remove operation does not apply: doc is missing path: \"/nope/x\": missing value"
    );
    assert_eq!(msg(json!([{"op": "remove", "path": "/spec/list/5"}])), "error in remove for path: '/spec/list/5': Unable to access invalid index: 5: invalid index referenced");
    assert_eq!(
        msg(json!([{"op": "add", "path": "/nope/x", "value": 1}])),
        "add operation does not apply: doc is missing path: \"/nope/x\": missing value"
    );
    assert_eq!(msg(json!([{"op": "add", "path": "/spec/list/9", "value": 1}])), "error in add for path: '/spec/list/9': Unable to access invalid index: 9: invalid index referenced");
    assert_eq!(
        msg(json!([{"op": "add", "value": 1}])),
        "add operation failed to decode path: missing value"
    );
    assert_eq!(
        msg(json!([{"op": "replace", "path": "/nope/x", "value": 1}])),
        "replace operation does not apply: doc is missing path: /nope/x: missing value"
    );
    assert_eq!(
        msg(json!([{"op": "replace", "path": "/spec/list/2", "value": 1}])),
        "replace operation does not apply: doc is missing key: /spec/list/2: missing value"
    );
    assert_eq!(msg(json!([{"op": "replace", "path": 5}])), "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string");
    assert_eq!(
        msg(json!([{"op": "move", "from": "/nope/x", "path": "/a"}])),
        "move operation does not apply: doc is missing from path: /nope/x: missing value"
    );
    assert_eq!(
        msg(json!([{"op": "move", "path": "/a"}])),
        "move operation failed to decode from: operation, missing from field: missing value"
    );
    assert_eq!(msg(json!([{"op": "move", "from": "/metadata", "path": "/metadata/x"}])), "move operation does not apply: doc is missing destination path: /metadata/x: missing value");
    assert_eq!(
        msg(json!([{"op": "copy", "from": "/metadata/x", "path": "/a"}])),
        "copy operation does not apply: doc is missing from path: /metadata/x: missing value"
    );
    assert_eq!(
        msg(json!([{"op": "copy", "from": "/metadata", "path": "/x/y"}])),
        "copy operation does not apply: doc is missing destination path: /x/y: missing value"
    );
    assert_eq!(
        msg(json!([{"op": "frobnicate", "path": "/a"}])),
        "Unexpected kind: frobnicate"
    );
    assert_eq!(msg(json!([{"path": "/a"}])), "Unexpected kind: unknown");
    assert_eq!(msg(json!([null])), "Unexpected kind: unknown");
    // A failing operation leaves nothing half-applied: the caller gets an error only.
    assert!(jp(
        doc.clone(),
        json!([{"op": "add", "path": "/x", "value": 1}, {"op": "test", "path": "/x", "value": 2}])
    )
    .is_err());

    let e = jp(doc.clone(), json!({"op": "add"})).unwrap_err();
    assert_eq!(
        e,
        PatchError::BadRequest(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch".into()
        )
    );
    let e = jp(doc.clone(), json!(["add"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "json: cannot unmarshal string into Go value of type jsonpatch.Operation"
    );
    let many = Value::Array(vec![
        json!({"op": "test", "path": "/spec", "value": null});
        MAX_JSON_PATCH_OPERATIONS + 1
    ]);
    let e = jp(doc.clone(), many).unwrap_err();
    assert_eq!(
        e.to_string(),
        "The allowed maximum operations in a JSON patch is 10000, got 10001"
    );
    assert_eq!(e.code(), 413);
}

#[test]
fn json_patch_copy_budget() {
    let big = "x".repeat(1024 * 1024);
    let ops = json!([
        {"op": "copy", "from": "/a", "path": "/b"},
        {"op": "copy", "from": "/a", "path": "/c"},
        {"op": "copy", "from": "/a", "path": "/d"},
    ]);
    let e = jp(json!({"a": big}), ops).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Unable to complete the copy, the accumulated size increase of copy is"),
        "{e}"
    );
}

#[test]
fn merge_patch_rfc7386_examples() {
    for (doc, patch, want) in [
        (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
        (
            json!({"a": "b"}),
            json!({"b": "c"}),
            json!({"a": "b", "b": "c"}),
        ),
        (json!({"a": "b"}), json!({"a": null}), json!({})),
        (
            json!({"a": "b", "b": "c"}),
            json!({"a": null}),
            json!({"b": "c"}),
        ),
        (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
        (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
        (
            json!({"a": {"b": "c"}}),
            json!({"a": {"b": "d", "c": null}}),
            json!({"a": {"b": "d"}}),
        ),
        (
            json!({"a": [{"b": "c"}]}),
            json!({"a": [1]}),
            json!({"a": [1]}),
        ),
        (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
        (json!({"a": "b"}), json!(["c"]), json!(["c"])),
        (
            json!({"e": null}),
            json!({"a": 1}),
            json!({"e": null, "a": 1}),
        ),
        (
            json!([1, 2]),
            json!({"a": "b", "c": null}),
            json!({"a": "b"}),
        ),
        (
            json!({}),
            json!({"a": {"bb": {"ccc": null}}}),
            json!({"a": {"bb": {}}}),
        ),
    ] {
        assert_eq!(
            apply_merge_patch(&doc, &patch).unwrap(),
            want,
            "{doc} + {patch}"
        );
    }
    // Upstream refuses scalar and null patches outright.
    assert_eq!(
        apply_merge_patch(&json!({"a": 1}), &json!("x"))
            .unwrap_err()
            .to_string(),
        "Invalid JSON Patch"
    );
    assert_eq!(
        apply_merge_patch(&json!({"a": 1}), &Value::Null)
            .unwrap_err()
            .code(),
        400
    );
    assert_eq!(
        apply_merge_patch(&Value::Null, &json!({}))
            .unwrap_err()
            .to_string(),
        "Invalid JSON Document"
    );
    // Member order is kept; new members go last.
    let out = apply_merge_patch(
        &json!({"a": 1, "b": 2, "c": 3}),
        &json!({"a": null, "d": 4, "b": 5}),
    )
    .unwrap();
    let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["b", "c", "d"]);
}

#[test]
fn patch_types() {
    assert_eq!(
        PatchType::from_content_type("application/json-patch+json"),
        Some(PatchType::Json)
    );
    assert_eq!(
        PatchType::from_content_type("application/merge-patch+json"),
        Some(PatchType::Merge)
    );
    assert_eq!(
        PatchType::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
        Some(PatchType::StrategicMerge)
    );
    assert_eq!(
        PatchType::from_content_type("Application/Apply-Patch+YAML"),
        Some(PatchType::Apply)
    );
    assert_eq!(
        PatchType::from_content_type("application/apply-patch+cbor"),
        None
    );
    assert_eq!(PatchType::from_content_type("application/json"), None);
    for t in [
        PatchType::Json,
        PatchType::Merge,
        PatchType::StrategicMerge,
        PatchType::Apply,
    ] {
        assert_eq!(PatchType::from_content_type(t.content_type()), Some(t));
    }
    let meta = BuiltinPatchMeta::for_kind("", "Pod");
    let e = apply_patch(PatchType::Apply, &json!({}), &json!({}), &meta).unwrap_err();
    assert_eq!(e.code(), 415);
    let api: crate::status::ApiError = PatchError::Unprocessable("x".into()).into();
    assert_eq!(
        (api.code, api.reason, api.message.as_str()),
        (422, "Invalid", "x")
    );
    let closure_meta = |p: &[&str]| {
        if p == ["items"] {
            ListStrategy::MergeByKey("id")
        } else {
            ListStrategy::Replace
        }
    };
    let out = apply_patch(
        PatchType::StrategicMerge,
        &json!({"items": [{"id": 1, "v": 1}]}),
        &json!({"items": [{"id": 1, "w": 2}]}),
        &closure_meta,
    )
    .unwrap();
    assert_eq!(out, json!({"items": [{"id": 1, "v": 1, "w": 2}]}));
}

/// A tiny deterministic generator, so the smoke test below needs no extra crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const WORDS: &[&str] = &[
    "name",
    "a",
    "b",
    "containers",
    "env",
    "finalizers",
    "metadata",
    "spec",
    "template",
    "$patch",
    "delete",
    "replace",
    "merge",
    "$retainKeys",
    "$setElementOrder/containers",
    "$deleteFromPrimitiveList/finalizers",
    "$setElementOrder/env",
    "0",
    "-",
    "-1",
    "op",
    "path",
    "from",
    "value",
    "add",
    "remove",
    "move",
    "copy",
    "test",
];

fn random_value(r: &mut Rng, depth: usize) -> Value {
    match r.below(if depth == 0 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(r.below(3) == 0),
        2 => json!(r.below(4)),
        3 | 4 => json!(r.pick(WORDS)),
        5 | 6 => {
            let mut m = serde_json::Map::new();
            for _ in 0..r.below(4) {
                m.insert(r.pick(WORDS).to_string(), random_value(r, depth - 1));
            }
            Value::Object(m)
        }
        _ => Value::Array(
            (0..r.below(4))
                .map(|_| random_value(r, depth - 1))
                .collect(),
        ),
    }
}

fn random_pointer(r: &mut Rng) -> String {
    (0..r.below(4))
        .map(|_| format!("/{}", r.pick(WORDS)))
        .collect()
}

#[test]
fn random_inputs_never_panic() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let metas = [
        BuiltinPatchMeta::for_kind("apps", "Deployment"),
        BuiltinPatchMeta::for_kind("", "Pod"),
        BuiltinPatchMeta::for_kind("", "ConfigMap"),
    ];
    let any_list = |p: &[&str]| match p.last().copied() {
        Some("containers" | "env") => ListStrategy::MergeByKey("name"),
        Some("finalizers" | "b") => ListStrategy::MergePrimitives,
        _ => ListStrategy::Replace,
    };
    for i in 0..3000 {
        let doc = random_value(&mut r, 4);
        let patch = random_value(&mut r, 4);
        for t in [PatchType::Json, PatchType::Merge, PatchType::StrategicMerge] {
            let _ = apply_patch(t, &doc, &patch, &metas[i % 3]);
        }
        let _ = apply_strategic_merge_patch(&doc, &patch, &any_list);
        let ops: Vec<Value> = (0..r.below(4))
            .map(|_| {
                json!({"op": r.pick(&["add", "remove", "replace", "move", "copy", "test"]),
                    "path": random_pointer(&mut r), "from": random_pointer(&mut r),
                    "value": random_value(&mut r, 2)})
            })
            .collect();
        if let Ok(out) = apply_json_patch(&doc, &Value::Array(ops)) {
            assert!(depth(&out) <= MAX_DEPTH);
        }
    }
}
