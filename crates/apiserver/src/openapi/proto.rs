//! The v2 document in protobuf: gnostic's `openapi.v2.Document`
//! (github.com/google/gnostic-models openapiv2/OpenAPIv2.proto), encoded by hand from the
//! JSON document.
//!
//! kubectl needs it: client-go's `DiscoveryClient.OpenAPISchema()` always asks /openapi/v2
//! for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and `proto.Unmarshal`s
//! the answer, so JSON there is a parse error. kubectl 1.27/1.28 load it for every
//! `create -f` / `apply` / `replace` / `diff` / `explain` (their validator and explain
//! fetch it eagerly); 1.29+ still need it for client-side validation of `kind: List`
//! files, for `explain --output plaintext-openapiv2`, and as the fallback of apply's
//! strategic-merge-patch metadata.
//!
//! Only the messages and fields a Kubernetes document uses are written. Vendor extensions,
//! defaults and enum values are `Any { yaml }` in gnostic; their JSON text is written as
//! the YAML (JSON is valid YAML to the yaml.v2 decoder kubectl uses on them).

use serde_json::{Map, Value};

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;

/// A protobuf writer for one message.
#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint(u64::from(field) << 3 | u64::from(wire));
    }

    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, LEN);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    /// proto3 strings: empty ones are not written.
    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn str_value(&mut self, field: u32, v: Option<&Value>) {
        if let Some(Value::String(s)) = v {
            self.string(field, s);
        }
    }

    fn strings(&mut self, field: u32, v: Option<&Value>) {
        if let Some(Value::Array(a)) = v {
            for s in a.iter().filter_map(Value::as_str) {
                // Repeated strings keep their empty elements.
                self.bytes(field, s.as_bytes());
            }
        }
    }

    fn boolean(&mut self, field: u32, v: Option<&Value>) {
        if let Some(Value::Bool(true)) = v {
            self.key(field, VARINT);
            self.varint(1);
        }
    }

    fn int64(&mut self, field: u32, v: Option<&Value>) {
        if let Some(n) = v.and_then(Value::as_i64).filter(|n| *n != 0) {
            self.key(field, VARINT);
            // Two's complement, as protobuf encodes negative int64.
            self.varint(n as u64);
        }
    }

    fn double(&mut self, field: u32, v: Option<&Value>) {
        if let Some(n) = v.and_then(Value::as_f64).filter(|n| *n != 0.0) {
            self.key(field, FIXED64);
            self.0.extend_from_slice(&n.to_le_bytes());
        }
    }

    fn message(&mut self, field: u32, m: Msg) {
        self.bytes(field, &m.0);
    }
}

/// `Any { yaml: <the value as JSON text> }`.
fn any(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.string(2, &v.to_string());
    m
}

/// `repeated NamedAny vendor_extension` from the `x-` keys of an object.
fn vendor_extensions(m: &mut Msg, field: u32, obj: &Map<String, Value>) {
    for (k, v) in obj.iter().filter(|(k, _)| k.starts_with("x-")) {
        let mut named = Msg::default();
        named.string(1, k);
        named.message(2, any(v));
        m.message(field, named);
    }
}

fn schema(v: &Value) -> Msg {
    let mut m = Msg::default();
    let Value::Object(s) = v else { return m };
    m.str_value(1, s.get("$ref"));
    m.str_value(2, s.get("format"));
    m.str_value(3, s.get("title"));
    m.str_value(4, s.get("description"));
    if let Some(d) = s.get("default") {
        m.message(5, any(d));
    }
    m.double(6, s.get("multipleOf"));
    m.double(7, s.get("maximum"));
    m.boolean(8, s.get("exclusiveMaximum"));
    m.double(9, s.get("minimum"));
    m.boolean(10, s.get("exclusiveMinimum"));
    m.int64(11, s.get("maxLength"));
    m.int64(12, s.get("minLength"));
    m.str_value(13, s.get("pattern"));
    m.int64(14, s.get("maxItems"));
    m.int64(15, s.get("minItems"));
    m.boolean(16, s.get("uniqueItems"));
    m.int64(17, s.get("maxProperties"));
    m.int64(18, s.get("minProperties"));
    m.strings(19, s.get("required"));
    if let Some(Value::Array(values)) = s.get("enum") {
        for e in values {
            m.message(20, any(e));
        }
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut item = Msg::default();
            item.key(2, VARINT);
            item.varint(u64::from(*b));
            m.message(21, item);
        }
        Some(sub @ Value::Object(_)) => {
            let mut item = Msg::default();
            item.message(1, schema(sub));
            m.message(21, item);
        }
        _ => {}
    }
    match s.get("type") {
        Some(Value::String(t)) => {
            let mut item = Msg::default();
            item.string(1, t);
            m.message(22, item);
        }
        Some(types @ Value::Array(_)) => {
            let mut item = Msg::default();
            item.strings(1, Some(types));
            m.message(22, item);
        }
        _ => {}
    }
    match s.get("items") {
        Some(Value::Array(list)) => {
            let mut item = Msg::default();
            list.iter().for_each(|i| item.message(1, schema(i)));
            m.message(23, item);
        }
        Some(one @ Value::Object(_)) => {
            let mut item = Msg::default();
            item.message(1, schema(one));
            m.message(23, item);
        }
        _ => {}
    }
    if let Some(Value::Array(all)) = s.get("allOf") {
        all.iter().for_each(|a| m.message(24, schema(a)));
    }
    if let Some(Value::Object(props)) = s.get("properties") {
        m.message(25, named_schemas(props));
    }
    m.str_value(26, s.get("discriminator"));
    m.boolean(27, s.get("readOnly"));
    if let Some(e) = s.get("example") {
        m.message(30, any(e));
    }
    vendor_extensions(&mut m, 31, s);
    m
}

/// `Properties` / `Definitions`: `repeated NamedSchema additional_properties = 1`.
fn named_schemas(map: &Map<String, Value>) -> Msg {
    let mut m = Msg::default();
    for (name, s) in map {
        let mut named = Msg::default();
        named.string(1, name);
        named.message(2, schema(s));
        m.message(1, named);
    }
    m
}

/// `ParametersItem { parameter: Parameter { body_parameter | non_body_parameter } }`.
fn parameter(p: &Map<String, Value>) -> Msg {
    let mut param = Msg::default();
    match p.get("in").and_then(Value::as_str) {
        Some("body") => {
            let mut body = Msg::default();
            body.str_value(1, p.get("description"));
            body.str_value(2, p.get("name"));
            body.str_value(3, p.get("in"));
            body.boolean(4, p.get("required"));
            if let Some(s) = p.get("schema") {
                body.message(5, schema(s));
            }
            vendor_extensions(&mut body, 6, p);
            param.message(1, body);
        }
        location => {
            // Query and path sub-schemas share their first fields; they differ from
            // `type` on (query has allow_empty_value at 5).
            let path = location == Some("path");
            let mut sub = Msg::default();
            sub.boolean(1, p.get("required"));
            sub.str_value(2, p.get("in"));
            sub.str_value(3, p.get("description"));
            sub.str_value(4, p.get("name"));
            let shift = if path { 0 } else { 1 };
            if !path {
                sub.boolean(5, p.get("allowEmptyValue"));
            }
            sub.str_value(5 + shift, p.get("type"));
            sub.str_value(6 + shift, p.get("format"));
            sub.boolean(19 + shift, p.get("uniqueItems"));
            vendor_extensions(&mut sub, 22 + shift, p);
            let mut non_body = Msg::default();
            non_body.message(if path { 4 } else { 3 }, sub);
            param.message(2, non_body);
        }
    }
    let mut item = Msg::default();
    item.message(1, param);
    item
}

fn parameters(m: &mut Msg, field: u32, v: Option<&Value>) {
    if let Some(Value::Array(list)) = v {
        for p in list {
            if let Value::Object(p) = p {
                m.message(field, parameter(p));
            }
        }
    }
}

fn operation(op: &Map<String, Value>) -> Msg {
    let mut m = Msg::default();
    m.strings(1, op.get("tags"));
    m.str_value(2, op.get("summary"));
    m.str_value(3, op.get("description"));
    m.str_value(5, op.get("operationId"));
    m.strings(6, op.get("produces"));
    m.strings(7, op.get("consumes"));
    parameters(&mut m, 8, op.get("parameters"));
    if let Some(Value::Object(responses)) = op.get("responses") {
        let mut rs = Msg::default();
        for (code, r) in responses {
            let mut response = Msg::default();
            response.str_value(1, r.get("description"));
            if let Some(s) = r.get("schema") {
                let mut item = Msg::default();
                item.message(1, schema(s));
                response.message(2, item);
            }
            let mut value = Msg::default();
            value.message(1, response);
            let mut named = Msg::default();
            named.string(1, code);
            named.message(2, value);
            rs.message(1, named);
        }
        m.message(9, rs);
    }
    m.strings(10, op.get("schemes"));
    m.boolean(11, op.get("deprecated"));
    vendor_extensions(&mut m, 13, op);
    m
}

fn path_item(item: &Map<String, Value>) -> Msg {
    let mut m = Msg::default();
    for (field, method) in [
        (2, "get"),
        (3, "put"),
        (4, "post"),
        (5, "delete"),
        (6, "options"),
        (7, "head"),
        (8, "patch"),
    ] {
        if let Some(Value::Object(op)) = item.get(method) {
            m.message(field, operation(op));
        }
    }
    parameters(&mut m, 9, item.get("parameters"));
    vendor_extensions(&mut m, 10, item);
    m
}

/// Encodes a swagger 2.0 JSON document as a gnostic `openapi.v2.Document`.
pub(crate) fn encode_document(doc: &Value) -> Vec<u8> {
    let mut m = Msg::default();
    let Value::Object(d) = doc else { return m.0 };
    m.str_value(1, d.get("swagger"));
    if let Some(Value::Object(info)) = d.get("info") {
        let mut i = Msg::default();
        i.str_value(1, info.get("title"));
        i.str_value(2, info.get("version"));
        i.str_value(3, info.get("description"));
        m.message(2, i);
    }
    m.str_value(3, d.get("host"));
    m.str_value(4, d.get("basePath"));
    m.strings(5, d.get("schemes"));
    m.strings(6, d.get("consumes"));
    m.strings(7, d.get("produces"));
    if let Some(Value::Object(paths)) = d.get("paths") {
        let mut ps = Msg::default();
        for (path, item) in paths {
            if let Value::Object(item) = item {
                let mut named = Msg::default();
                named.string(1, path);
                named.message(2, path_item(item));
                ps.message(2, named);
            }
        }
        m.message(8, ps);
    }
    if let Some(Value::Object(defs)) = d.get("definitions") {
        m.message(9, named_schemas(defs));
    }
    if let Some(Value::Array(security)) = d.get("security") {
        for requirement in security {
            let Value::Object(req) = requirement else {
                continue;
            };
            let mut r = Msg::default();
            for (name, scopes) in req {
                let mut list = Msg::default();
                list.strings(1, Some(scopes));
                let mut named = Msg::default();
                named.string(1, name);
                named.message(2, list);
                r.message(1, named);
            }
            m.message(12, r);
        }
    }
    if let Some(Value::Object(defs)) = d.get("securityDefinitions") {
        let mut sd = Msg::default();
        for (name, def) in defs {
            // Only API-key schemes (the bearer token) are published.
            let mut key = Msg::default();
            key.str_value(1, def.get("type"));
            key.str_value(2, def.get("name"));
            key.str_value(3, def.get("in"));
            key.str_value(4, def.get("description"));
            let mut item = Msg::default();
            item.message(2, key);
            let mut named = Msg::default();
            named.string(1, name);
            named.message(2, item);
            sd.message(1, named);
        }
        m.message(13, sd);
    }
    vendor_extensions(&mut m, 16, d);
    m.0
}
