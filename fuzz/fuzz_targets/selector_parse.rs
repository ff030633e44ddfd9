//! Fuzzes label and field selector parsing: no input may panic, and a parsed label
//! selector's canonical string must parse back to the same selector.
//!
//! Run (needs a nightly toolchain and `cargo install cargo-fuzz`), from the repo root:
//!
//!     cargo +nightly fuzz run selector_parse -- -max_len=256

#![no_main]

use api_types::selectors::{FieldSelector, LabelSelector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sel) = LabelSelector::parse(s) {
        let canonical = sel.to_string();
        let again = LabelSelector::parse(&canonical).expect("canonical label selector parses");
        assert_eq!(again, sel, "{s:?} -> {canonical:?}");
    }
    if let Ok(sel) = FieldSelector::parse(s) {
        let _ = sel.matches(|f| Some(f.to_string()));
        let _ = sel.to_string();
    }
});
