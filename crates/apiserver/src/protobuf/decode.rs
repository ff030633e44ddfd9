//! Walks a protobuf message with its [`schema`] table and builds the JSON that upstream's
//! Go types would marshal to: Go's JSON names and key order, `omitempty` applied to zero
//! scalars (gogo-protobuf writes non-pointer scalars even when zero), pointers kept when set,
//! and the custom JSON forms of Quantity, IntOrString, Time, Duration, RawExtension & co.

use base64::Engine as _;
use serde_json::{Map, Number, Value as Json};

use super::schema::{self, Field, Msg, Shape, Ty};
use super::wire::{Reader, Value as W, WireError};
use super::ProtobufError;

/// The envelope prefix of `application/vnd.kubernetes.protobuf`.
pub const MAGIC: &[u8; 4] = b"k8s\x00";

/// Messages nested deeper than this are refused (the input is untrusted; recursion and the
/// JSON tree built from it must stay bounded). Real objects nest a few dozen levels at most
/// (a CRD schema: two per schema level).
pub const MAX_DEPTH: usize = 100;

fn invalid(reason: impl Into<String>) -> ProtobufError {
    ProtobufError::Invalid {
        path: String::new(),
        reason: reason.into(),
    }
}

fn wire_error(e: WireError) -> ProtobufError {
    invalid(e.to_string())
}

/// Decodes `k8s\0` + `runtime.Unknown` into the object's JSON with apiVersion and kind.
pub fn envelope(body: &[u8], depth: usize) -> Result<Json, ProtobufError> {
    if body.is_empty() {
        return Err(ProtobufError::Empty);
    }
    let data = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or(ProtobufError::NotProtobuf)?;
    if data.is_empty() {
        return Err(ProtobufError::Empty);
    }
    // runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding,
    // 4 contentType (informational; upstream ignores it when decoding).
    let (mut api_version, mut kind, mut raw, mut encoding) =
        (String::new(), String::new(), &[][..], String::new());
    let mut r = Reader::new(data);
    while let Some((num, v)) = r.next_field().map_err(wire_error)? {
        match (num, v) {
            (1, W::Len(tm)) => {
                let mut t = Reader::new(tm);
                while let Some((n, v)) = t
                    .next_field()
                    .map_err(|e| wire_error(e).within_field("typeMeta"))?
                {
                    match (n, v) {
                        (1, W::Len(s)) => api_version = lossy(s),
                        (2, W::Len(s)) => kind = lossy(s),
                        (1 | 2, v) => {
                            return Err(wrong_wire(v, "a string").within_field("typeMeta"))
                        }
                        _ => {}
                    }
                }
            }
            (2, W::Len(b)) => raw = b,
            (3, W::Len(s)) => encoding = lossy(s),
            (4, W::Len(_)) => {}
            (1..=4, v) => return Err(wrong_wire(v, "a length-delimited field")),
            _ => {}
        }
    }
    if kind.is_empty() {
        return Err(ProtobufError::MissingKind);
    }
    if api_version.is_empty() {
        return Err(ProtobufError::MissingVersion);
    }
    if !encoding.is_empty() {
        return Err(ProtobufError::UnsupportedEncoding(encoding));
    }
    let Some(msg) = schema::lookup(&api_version, &kind) else {
        return Err(ProtobufError::UnsupportedKind { api_version, kind });
    };
    let fields = match message(msg, raw, depth + 1).map_err(|e| e.within_field(&kind))? {
        Some(Json::Object(m)) => m,
        _ => Map::new(),
    };
    let mut obj = Map::with_capacity(fields.len() + 2);
    obj.insert("apiVersion".into(), Json::String(api_version));
    obj.insert("kind".into(), Json::String(kind));
    obj.extend(fields);
    Ok(Json::Object(obj))
}

/// What has been read for one field of a message.
enum Slot {
    One(Option<Json>),
    Many(Vec<Json>),
    Map(Map<String, Json>),
}

/// Decodes one message; `None` is Go's JSON `null` (a zero Time, an empty RawExtension, ...),
/// which a containing object omits.
fn message(msg: &'static Msg, data: &[u8], depth: usize) -> Result<Option<Json>, ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(invalid(format!(
            "messages nested more than {MAX_DEPTH} deep"
        )));
    }
    match msg.shape {
        Shape::Plain => {
            let slots = collect(msg, data, depth)?;
            Ok(Some(Json::Object(object(msg, slots))))
        }
        Shape::AsQuantity => match last_len(data, 1)? {
            // Go decodes an absent string as the zero Quantity, which marshals as "0".
            None => Ok(Some(Json::String("0".into()))),
            Some([]) => Err(invalid("quantity: empty string")),
            Some(s) => Ok(Some(Json::String(lossy(s)))),
        },
        Shape::AsIntOrString => {
            let (mut ty, mut int_val, mut str_val) = (0u64, 0u64, String::new());
            let mut r = Reader::new(data);
            while let Some((n, v)) = r.next_field().map_err(wire_error)? {
                match (n, v) {
                    (1, W::Varint(x)) => ty = x,
                    (2, W::Varint(x)) => int_val = x,
                    (3, W::Len(s)) => str_val = lossy(s),
                    (1..=3, v) => return Err(wrong_wire(v, "an IntOrString field")),
                    _ => {}
                }
            }
            match ty {
                // int32 on the wire: a negative value is sign-extended to 64 bits.
                0 => Ok(Some(Json::from(int_val as i32))),
                1 => Ok(Some(Json::String(str_val))),
                t => Err(invalid(format!(
                    "IntOrString type {t} is neither 0 (int) nor 1 (string)"
                ))),
            }
        }
        Shape::AsTime | Shape::AsMicroTime => {
            // Upstream writes a zero time as an empty message.
            if data.is_empty() {
                return Ok(None);
            }
            let (mut secs, mut nanos) = (0i64, 0i64);
            let mut r = Reader::new(data);
            while let Some((n, v)) = r.next_field().map_err(wire_error)? {
                match (n, v) {
                    (1, W::Varint(x)) => secs = x as i64,
                    (2, W::Varint(x)) => nanos = i64::from(x as i32),
                    (1 | 2, v) => return Err(wrong_wire(v, "a varint")),
                    _ => {}
                }
            }
            let micro = msg.shape == Shape::AsMicroTime;
            timestamp(secs, nanos, micro).map_err(invalid)
        }
        Shape::AsDuration => {
            let mut ns = 0i64;
            let mut r = Reader::new(data);
            while let Some((n, v)) = r.next_field().map_err(wire_error)? {
                match (n, v) {
                    (1, W::Varint(x)) => ns = x as i64,
                    (1, v) => return Err(wrong_wire(v, "a varint")),
                    _ => {}
                }
            }
            Ok(Some(Json::String(go_duration(ns))))
        }
        Shape::AsRawJson => match last_len(data, 1)? {
            None | Some([]) => Ok(None),
            Some(raw) if raw.starts_with(MAGIC) => envelope(raw, depth).map(Some),
            Some(raw) => serde_json::from_slice(raw).map(Some).map_err(|e| {
                invalid(format!("embedded object is not valid JSON: {e}")).within_field("raw")
            }),
        },
        Shape::AsItems => {
            let mut slots = collect(msg, data, depth)?;
            match take(msg, &mut slots, 1) {
                Some(Slot::Many(items)) => Ok(Some(Json::Array(items))),
                // Go marshals the nil slice as null; [] means the same to every reader and
                // still deserializes into a typed `Vec` (k8s-openapi), which null would not.
                _ => Ok(Some(Json::Array(Vec::new()))),
            }
        }
        Shape::AsSchemaOrArray => {
            let mut slots = collect(msg, data, depth)?;
            let schemas = take(msg, &mut slots, 2);
            match (take(msg, &mut slots, 1), schemas) {
                (_, Some(Slot::Many(list))) if !list.is_empty() => Ok(Some(Json::Array(list))),
                (Some(Slot::One(schema)), _) => Ok(schema),
                _ => Ok(None),
            }
        }
        Shape::AsSchemaOrBool => {
            let mut slots = collect(msg, data, depth)?;
            match (take(msg, &mut slots, 2), take(msg, &mut slots, 1)) {
                (Some(Slot::One(Some(schema))), _) => Ok(Some(schema)),
                (_, Some(Slot::One(Some(allows)))) => Ok(Some(allows)),
                _ => Ok(Some(Json::Bool(false))),
            }
        }
        Shape::AsSchemaOrStringArray => {
            let mut slots = collect(msg, data, depth)?;
            let property = take(msg, &mut slots, 2);
            match (take(msg, &mut slots, 1), property) {
                (_, Some(Slot::Many(list))) if !list.is_empty() => Ok(Some(Json::Array(list))),
                (Some(Slot::One(schema)), _) => Ok(schema),
                _ => Ok(None),
            }
        }
    }
}

/// Reads every field of `data` into slots parallel to `msg.fields`; unknown numbers are
/// skipped (newer clients may send fields this table does not have yet).
fn collect(
    msg: &'static Msg,
    data: &[u8],
    depth: usize,
) -> Result<Vec<Option<Slot>>, ProtobufError> {
    let mut slots: Vec<Option<Slot>> = msg.fields.iter().map(|_| None).collect();
    let mut r = Reader::new(data);
    while let Some((num, v)) = r.next_field().map_err(wire_error)? {
        let Some((i, field)) = msg.field(num) else {
            continue;
        };
        let Some(slot) = slots.get_mut(i) else {
            continue;
        };
        read_field(field, v, slot, depth).map_err(|e| e.within_field(field.json))?;
    }
    Ok(slots)
}

fn take(msg: &Msg, slots: &mut [Option<Slot>], num: u32) -> Option<Slot> {
    let (i, _) = msg.field(num)?;
    slots.get_mut(i)?.take()
}

fn read_field(
    field: &Field,
    v: W<'_>,
    slot: &mut Option<Slot>,
    depth: usize,
) -> Result<(), ProtobufError> {
    match field.ty {
        Ty::MapStr | Ty::MapBytes | Ty::MapM(_) => {
            let W::Len(entry) = v else {
                return Err(wrong_wire(v, "a map entry"));
            };
            let (k, val) = map_entry(field.ty, entry, depth)?;
            match slot {
                Some(Slot::Map(m)) => {
                    m.insert(k, val);
                }
                _ => *slot = Some(Slot::Map(Map::from_iter([(k, val)]))),
            }
        }
        ty if field.repeated() => {
            if !matches!(slot, Some(Slot::Many(_))) {
                *slot = Some(Slot::Many(Vec::new()));
            }
            let Some(Slot::Many(list)) = slot else {
                return Ok(());
            };
            match (ty, v) {
                // Packed scalars: one length-delimited run of values. Both forms are accepted.
                (Ty::Bool | Ty::I32 | Ty::I64 | Ty::F64, W::Len(run)) => {
                    let mut r = Reader::new(run);
                    while !r.is_empty() {
                        let i = list.len();
                        let one = if matches!(ty, Ty::F64) {
                            r.fixed64().map(W::Fixed64)
                        } else {
                            r.varint().map(W::Varint)
                        };
                        let one = one.map_err(|e| wire_error(e).within_index(i))?;
                        list.push(
                            scalar_or_message(ty, one, depth)
                                .map_err(|e| e.within_index(i))?
                                .unwrap_or(Json::Null),
                        );
                    }
                }
                _ => {
                    let i = list.len();
                    list.push(
                        scalar_or_message(ty, v, depth)
                            .map_err(|e| e.within_index(i))?
                            .unwrap_or(Json::Null),
                    );
                }
            }
        }
        ty => *slot = Some(Slot::One(scalar_or_message(ty, v, depth)?)),
    }
    Ok(())
}

/// A `map<string, V>` entry: {1: key, 2: value}; either may be absent (then its zero value).
fn map_entry(ty: Ty, data: &[u8], depth: usize) -> Result<(String, Json), ProtobufError> {
    let (mut key, mut value) = (String::new(), None::<&[u8]>);
    let mut r = Reader::new(data);
    while let Some((n, v)) = r.next_field().map_err(wire_error)? {
        match (n, v) {
            (1, W::Len(s)) => key = lossy(s),
            (2, W::Len(b)) => value = Some(b),
            (1 | 2, v) => return Err(wrong_wire(v, "a map key or value")),
            _ => {}
        }
    }
    let bytes = value.unwrap_or_default();
    let json = match ty {
        Ty::MapStr => Json::String(lossy(bytes)),
        Ty::MapBytes => Json::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        Ty::MapM(m) => message(m, bytes, depth + 1)
            .map_err(|e| e.within_key(&key))?
            .unwrap_or(Json::Null),
        _ => Json::Null,
    };
    Ok((key, json))
}

fn scalar_or_message(ty: Ty, v: W<'_>, depth: usize) -> Result<Option<Json>, ProtobufError> {
    Ok(Some(match (ty, v) {
        (Ty::Str, W::Len(s)) => Json::String(lossy(s)),
        (Ty::Bytes, W::Len(b)) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
        (Ty::Bool, W::Varint(x)) => Json::Bool(x != 0),
        // Go truncates an int32 varint to its low 32 bits.
        (Ty::I32, W::Varint(x)) => Json::from(x as i32),
        (Ty::I64, W::Varint(x)) => Json::from(x as i64),
        (Ty::F64, W::Fixed64(x)) => match Number::from_f64(f64::from_bits(x)) {
            Some(n) => Json::Number(n),
            None => return Err(invalid("not a finite number")),
        },
        (Ty::M(m), W::Len(b)) => return message(m, b, depth + 1),
        (ty, v) => return Err(wrong_wire(v, ty_name(ty))),
    }))
}

fn ty_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Str => "a string",
        Ty::Bool => "a bool",
        Ty::I32 => "an int32",
        Ty::I64 => "an int64",
        Ty::F64 => "a double",
        Ty::Bytes => "bytes",
        Ty::M(_) => "a message",
        Ty::MapStr | Ty::MapBytes | Ty::MapM(_) => "a map entry",
    }
}

fn wrong_wire(v: W<'_>, expected: &str) -> ProtobufError {
    invalid(format!(
        "wire type {} where {expected} was expected",
        v.wire_type()
    ))
}

/// The JSON object of a plain message, in Go field order, with Go's `omitempty` rules.
fn object(msg: &Msg, slots: Vec<Option<Slot>>) -> Map<String, Json> {
    let mut obj = Map::new();
    for (field, slot) in msg.fields.iter().zip(slots) {
        let value = match slot {
            None | Some(Slot::One(None)) => continue,
            Some(Slot::One(Some(v))) => {
                // gogo writes non-pointer scalars even when zero; Go's JSON then drops the
                // omitempty ones. A pointer that was written was set, so it stays.
                let scalar = matches!(
                    field.ty,
                    Ty::Str | Ty::Bool | Ty::I32 | Ty::I64 | Ty::F64 | Ty::Bytes
                );
                if scalar && field.omitempty() && !field.pointer() && is_zero(&v) {
                    continue;
                }
                v
            }
            // A packed run of zero values decodes to a nil slice in Go.
            Some(Slot::Many(list)) if list.is_empty() => continue,
            Some(Slot::Many(list)) => Json::Array(list),
            Some(Slot::Map(m)) => Json::Object(m),
        };
        if field.json.is_empty() {
            // An embedded struct with `json:",inline"`: its fields belong to this object.
            if let Json::Object(inner) = value {
                obj.extend(inner);
            }
        } else {
            obj.insert(field.json.to_string(), value);
        }
    }
    obj
}

fn is_zero(v: &Json) -> bool {
    match v {
        Json::String(s) => s.is_empty(),
        Json::Bool(b) => !b,
        Json::Number(n) => n.as_i64() == Some(0) || n.as_f64().is_some_and(|f| f == 0.0),
        _ => false,
    }
}

/// The payload of the last occurrence of length-delimited field `num` (protobuf: last wins).
fn last_len(data: &[u8], num: u32) -> Result<Option<&[u8]>, ProtobufError> {
    let mut found = None;
    let mut r = Reader::new(data);
    while let Some((n, v)) = r.next_field().map_err(wire_error)? {
        match v {
            W::Len(b) if n == num => found = Some(b),
            v if n == num => return Err(wrong_wire(v, "a length-delimited field")),
            _ => {}
        }
    }
    Ok(found)
}

/// Go's `string(bytes)` + JSON encoding: invalid UTF-8 becomes U+FFFD.
fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Unix seconds of Go's zero `time.Time` (January 1, year 1), which marshals as `null`.
const GO_ZERO_TIME: i64 = -62_135_596_800;
/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years RFC 3339 can write.
const MIN_RFC3339: i64 = -62_167_219_200;
const MAX_RFC3339: i64 = 253_402_300_799;

/// `metav1.Time` (seconds only: upstream drops nanos when decoding protobuf) or
/// `metav1.MicroTime` (microseconds), as Go's JSON writes them in UTC.
pub(crate) fn timestamp(secs: i64, nanos: i64, micro: bool) -> Result<Option<Json>, String> {
    let (mut secs, mut nanos) = (secs, if micro { nanos - nanos % 1000 } else { 0 });
    // time.Unix normalizes nanoseconds outside [0, 1e9).
    secs = secs.saturating_add(nanos.div_euclid(1_000_000_000));
    nanos = nanos.rem_euclid(1_000_000_000);
    if secs == GO_ZERO_TIME && nanos == 0 {
        return Ok(None);
    }
    if !(MIN_RFC3339..=MAX_RFC3339).contains(&secs) {
        return Err(format!("timestamp {secs} is outside years 0-9999"));
    }
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let s = if micro {
        format!(
            "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{:06}Z",
            nanos / 1000
        )
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    };
    Ok(Some(Json::String(s)))
}

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (Howard Hinnant's
/// algorithm). The caller keeps `days` within years 0..=9999, so nothing overflows.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Go's `time.Duration.String()`: "1h2m3.5s", "1m30s", "0s", "1.5ms", "-2µs".
pub(crate) fn go_duration(d: i64) -> String {
    let mut u = d.unsigned_abs();
    let sign = if d < 0 { "-" } else { "" };
    if u == 0 {
        return "0s".into();
    }
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0..1_000 => (0, "ns"),
            1_000..1_000_000 => (3, "µs"),
            _ => (6, "ms"),
        };
        let frac = fraction(&mut u, prec);
        return format!("{sign}{u}{frac}{unit}");
    }
    let frac = fraction(&mut u, 9);
    let (s, m) = (u % 60, u / 60);
    let mut out = String::from(sign);
    if m > 0 {
        if m >= 60 {
            out.push_str(&format!("{}h", m / 60));
        }
        out.push_str(&format!("{}m", m % 60));
    }
    out.push_str(&format!("{s}{frac}s"));
    out
}

/// Splits off the low `prec` decimal digits of `v` as ".ddd" without trailing zeros.
fn fraction(v: &mut u64, prec: u32) -> String {
    let scale = 10u64.pow(prec);
    let low = *v % scale;
    *v /= scale;
    if low == 0 {
        return String::new();
    }
    let digits = format!("{low:0width$}", width = prec as usize);
    format!(".{}", digits.trim_end_matches('0'))
}
