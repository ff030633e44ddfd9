//! Fuzzes request decoding as the apiserver does it for a create or update: the body
//! as JSON, YAML or Kubernetes protobuf, the object's typed metadata, unknown-field
//! detection against the OpenAPI schema, and the kind's defaulting and validation. No
//! input may panic.
//!
//! Run (needs a nightly toolchain and `cargo install cargo-fuzz`), from the repo root:
//!
//!     cargo +nightly fuzz run request_decode -- -max_len=8192
//!
//! Input layout: byte 0 picks the encoding (bits 0-1) and the resource (the rest);
//! the remaining bytes are the request body.

#![no_main]

use std::sync::LazyLock;

use api_types::resources::BUILTIN;
use apiserver::handlers::objects::parse_body;
use apiserver::negotiate::BodyFormat;
use apiserver::openapi::OpenApi;
use apiserver::registry::strategy_for;
use libfuzzer_sys::fuzz_target;

static OPENAPI: LazyLock<OpenApi> = LazyLock::new(|| OpenApi::build(BUILTIN, "v1.33.0"));

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let stored: Vec<_> = BUILTIN.iter().filter(|r| r.is_stored()).collect();
    let r = stored[usize::from(selector >> 2) % stored.len()];
    let value = match selector & 3 {
        0 => parse_body(body, BodyFormat::Json).ok(),
        1 => parse_body(body, BodyFormat::Yaml).ok(),
        _ => apiserver::protobuf::decode(body).ok(),
    };
    let Some(value) = value else { return };
    let _ = OPENAPI.unknown_fields(r, &value);
    let Ok(mut obj) = serde_json::from_value::<kube_core::DynamicObject>(value) else { return };
    let strategy = strategy_for(r);
    if strategy.default(&mut obj).is_ok() && strategy.prepare_for_create(&mut obj).is_ok() {
        let _ = strategy.validate(&obj);
        let old = obj.clone();
        let _ = strategy.validate_update(&obj, &old);
    }
});
