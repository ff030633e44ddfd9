//! JSON and value text written byte for byte the way upstream's Go code writes it, where
//! clients can see the bytes: managed-field keys (`k:{"name":"x"}`, json-iterator in
//! standard-library mode), manager identifiers and the last-applied annotation
//! (`encoding/json`), and values in conflict paths (`value.ToString`).

use serde_json::{Number, Value};

/// Go's `encoding/json` encoding of `v`: map keys sorted, `<`, `>` and `&` escaped.
pub(crate) fn encode(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Go encodes maps with their keys sorted.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                if let Some(item) = map.get(key) {
                    write_value(out, item);
                }
            }
            out.push('}');
        }
    }
}

/// A JSON string with Go's escaping (HTML-safe, U+2028 / U+2029 escaped).
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON number as Go prints a decoded number: integers as integers, floats in their
/// shortest form without a trailing `.0`.
fn number(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or_default();
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        n.to_string()
    }
}

/// `fmt.Sprintf("%v", v)` of a decoded scalar as `value.ToString` prints it inside a
/// path: strings quoted, numbers bare.
pub(crate) fn to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(n) => go_float(n.as_f64().unwrap_or_default()),
        Value::String(s) => crate::openapi::go_quote(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(to_string).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", to_string(v)))
            .collect(),
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)` with Go's exponent form).
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        // Go writes at least two exponent digits: 1e+21, 1e-05.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_like_encoding_json() {
        let v = json!({"b": 1, "a": "<x&y>", "c": [true, null, 1.5, 2.0]});
        assert_eq!(
            encode(&v),
            r#"{"a":"\u003cx\u0026y\u003e","b":1,"c":[true,null,1.5,2]}"#
        );
        assert_eq!(encode(&json!("a\u{1}\n")), r#""a\u0001\n""#);
    }

    #[test]
    fn prints_values_like_value_to_string() {
        assert_eq!(to_string(&json!("x")), "\"x\"");
        assert_eq!(to_string(&json!(80)), "80");
        assert_eq!(to_string(&json!(1.5)), "1.5");
        assert_eq!(to_string(&json!(1e21)), "1e+21");
        assert_eq!(to_string(&json!(0.00001)), "1e-05");
        assert_eq!(to_string(&json!([1, "a"])), "[1,\"a\"]");
    }
}
