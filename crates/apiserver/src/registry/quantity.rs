//! Resource quantities as upstream's `resource.Quantity`: parsing with the same
//! grammar and errors, exact comparison and addition, and the canonical string form
//! (`0.5` -> `500m`, `1536Mi`, `1e3`). k8s-openapi keeps a Quantity as a plain string,
//! so everything that compares or prints quantities goes through here.

use std::cmp::Ordering;
use std::fmt;

/// How a quantity was written, which decides how it is printed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityFormat {
    /// `k`, `M`, `m`, no suffix...
    DecimalSI,
    /// `Ki`, `Mi`, `Gi`...
    BinarySI,
    /// `1e3`, `2E6`.
    DecimalExponent,
}

/// A parsed quantity: `(-1)^neg * mant * 10^scale`, with `mant` free of trailing zeros.
#[derive(Debug, Clone, Copy)]
pub struct ParsedQuantity {
    neg: bool,
    mant: u128,
    scale: i64,
    pub format: QuantityFormat,
}

/// Upstream's `ErrFormatWrong` text.
pub const QUANTITY_FORMAT_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX_ERROR: &str = "unable to parse quantity's suffix";

/// Significant digits kept: with this bound, aligning two values never overflows u128.
const MAX_DIGITS: u32 = 36;

fn digits(mut n: u128) -> i64 {
    let mut d = 0;
    while n > 0 {
        n /= 10;
        d += 1;
    }
    d
}

fn pow10(n: u32) -> Option<u128> {
    10u128.checked_pow(n)
}

/// Parses a quantity string (surrounding spaces are ignored, as upstream's JSON decoding does).
pub fn parse_quantity(input: &str) -> Result<ParsedQuantity, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err(QUANTITY_FORMAT_ERROR.to_string());
    }
    let b = s.as_bytes();
    let mut pos = 0;
    let mut neg = false;
    match b[0] {
        b'-' => {
            neg = true;
            pos = 1;
        }
        b'+' => pos = 1,
        _ => {}
    }
    let int_start = pos;
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let int_part = &s[int_start..pos];
    let mut frac_part = "";
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        let frac_start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        frac_part = &s[frac_start..pos];
    }
    // The suffix: letters from the set, then an optional signed exponent; anything
    // after that is a format error.
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos != b.len() {
        return Err(QUANTITY_FORMAT_ERROR.to_string());
    }
    let suffix = &s[suffix_start..];
    let (base2, exponent, format) =
        interpret_suffix(suffix).ok_or_else(|| SUFFIX_ERROR.to_string())?;

    // Digits without leading zeros; trailing zeros move into the scale.
    let all: String = format!("{int_part}{frac_part}");
    let all = all.trim_start_matches('0');
    let mut scale: i64 = -(frac_part.len() as i64);
    let trimmed = all.trim_end_matches('0');
    scale += (all.len() - trimmed.len()) as i64;
    let mut sig = trimmed;
    let mut round_up = false;
    if sig.len() as u32 > MAX_DIGITS {
        // Beyond 36 significant digits the value is rounded up, like upstream's nano rounding.
        let cut = sig.len() - MAX_DIGITS as usize;
        round_up = sig[MAX_DIGITS as usize..].bytes().any(|c| c != b'0');
        scale += cut as i64;
        sig = &sig[..MAX_DIGITS as usize];
    }
    let mut mant: u128 = 0;
    for c in sig.bytes() {
        mant = mant * 10 + u128::from(c - b'0');
    }
    if round_up {
        mant += 1;
    }
    let mut q = ParsedQuantity {
        neg,
        mant,
        scale,
        format,
    };
    if base2 {
        // 2^exponent is exact in u128 for the binary suffixes (at most 2^60).
        let factor = 1u128 << exponent;
        q = q.mul_exact(factor);
    } else {
        q.scale = q.scale.saturating_add(exponent);
    }
    q.round_to_nano();
    q.normalize();
    Ok(q)
}

fn interpret_suffix(s: &str) -> Option<(bool, i64, QuantityFormat)> {
    let dec = |e| Some((false, e, QuantityFormat::DecimalSI));
    let bin = |e| Some((true, e, QuantityFormat::BinarySI));
    match s {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ if s.len() > 1 && (s.starts_with('e') || s.starts_with('E')) => {
            let e: i64 = s[1..].parse().ok()?;
            // Upstream keeps the exponent as an int32.
            i32::try_from(e).ok()?;
            Some((false, e, QuantityFormat::DecimalExponent))
        }
        _ => None,
    }
}

impl ParsedQuantity {
    /// The zero quantity ("0").
    pub fn zero() -> Self {
        ParsedQuantity {
            neg: false,
            mant: 0,
            scale: 0,
            format: QuantityFormat::DecimalSI,
        }
    }

    fn normalize(&mut self) {
        if self.mant == 0 {
            self.neg = false;
            self.scale = 0;
            return;
        }
        while self.mant.is_multiple_of(10) {
            self.mant /= 10;
            self.scale += 1;
        }
    }

    /// Multiplies by an integer factor, dropping low digits (rounding up) on overflow.
    fn mul_exact(mut self, factor: u128) -> Self {
        loop {
            if let Some(m) = self.mant.checked_mul(factor) {
                if digits(m) <= i64::from(MAX_DIGITS) {
                    self.mant = m;
                    return self;
                }
            }
            let rem = self.mant % 10;
            self.mant = self.mant / 10 + u128::from(rem != 0);
            self.scale += 1;
        }
    }

    /// Values below one nano are rounded up (away from zero), as upstream does.
    fn round_to_nano(&mut self) {
        if self.mant == 0 || self.scale >= -9 {
            return;
        }
        let shift = -9 - self.scale;
        let divisor = if shift > 38 {
            None
        } else {
            pow10(shift as u32)
        };
        match divisor {
            Some(d) => {
                let rem = self.mant % d;
                self.mant = self.mant / d + u128::from(rem != 0);
            }
            None => self.mant = 1,
        }
        self.scale = -9;
    }

    pub fn is_zero(&self) -> bool {
        self.mant == 0
    }

    pub fn is_negative(&self) -> bool {
        self.neg && self.mant != 0
    }

    /// True when the value is a whole number (upstream: `MilliValue() % 1000 == 0`).
    pub fn is_integer(&self) -> bool {
        self.mant == 0 || self.scale >= 0
    }

    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        match (self.mant == 0, other.mant == 0) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (oa, ob) = (
            digits(self.mant) + self.scale,
            digits(other.mant) + other.scale,
        );
        if oa != ob {
            return oa.cmp(&ob);
        }
        // Same order of magnitude: aligning needs at most MAX_DIGITS digits.
        let (a, b) = if self.scale >= other.scale {
            (
                self.mant * pow10((self.scale - other.scale) as u32).unwrap_or(1),
                other.mant,
            )
        } else {
            (
                self.mant,
                other.mant * pow10((other.scale - self.scale) as u32).unwrap_or(1),
            )
        };
        a.cmp(&b)
    }

    /// Numeric comparison (formats are ignored, as upstream's `Cmp`).
    pub fn cmp_value(&self, other: &Self) -> Ordering {
        match (self.is_negative(), other.is_negative()) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }

    /// Sum of two non-negative quantities; `None` when the exact sum does not fit.
    pub fn checked_add(&self, other: &Self) -> Option<Self> {
        if self.is_negative() || other.is_negative() {
            return None;
        }
        if self.mant == 0 {
            return Some(*other);
        }
        if other.mant == 0 {
            return Some(*self);
        }
        let scale = self.scale.min(other.scale);
        let shift = |q: &Self| -> Option<u128> {
            let d = u32::try_from(q.scale - scale).ok()?;
            q.mant.checked_mul(pow10(d)?)
        };
        let mant = shift(self)?.checked_add(shift(other)?)?;
        let mut q = ParsedQuantity {
            neg: false,
            mant,
            scale,
            format: self.format,
        };
        q.normalize();
        if digits(q.mant) > i64::from(MAX_DIGITS) {
            return None;
        }
        Some(q)
    }

    /// The value as an integer (truncated), when it fits in an i128.
    fn as_integer(&self) -> Option<u128> {
        if self.scale < 0 {
            return None;
        }
        let p = pow10(u32::try_from(self.scale).ok()?)?;
        self.mant.checked_mul(p)
    }

    /// Upstream's canonical string (`Quantity.String()`).
    pub fn canonical(&self) -> String {
        if self.mant == 0 {
            return "0".to_string();
        }
        let sign = if self.neg { "-" } else { "" };
        let mut format = self.format;
        if format == QuantityFormat::BinarySI {
            // Small or fractional values print in decimal so nothing is rounded.
            let one_k = ParsedQuantity {
                neg: false,
                mant: 1024,
                scale: 0,
                format,
            };
            if self.cmp_magnitude(&one_k) == Ordering::Less || self.as_integer().is_none() {
                format = QuantityFormat::DecimalSI;
            }
        }
        if format == QuantityFormat::BinarySI {
            if let Some(mut v) = self.as_integer() {
                let mut exp = 0;
                while exp < 6 && v % 1024 == 0 {
                    v /= 1024;
                    exp += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][exp];
                return format!("{sign}{v}{suffix}");
            }
        }
        // Decimal: move the exponent down to a multiple of three.
        let mut amount = self.mant;
        let mut exponent = self.scale;
        let rem = exponent.rem_euclid(3);
        if rem != 0 {
            amount *= pow10(rem as u32).unwrap_or(1);
            exponent -= rem;
        }
        if format == QuantityFormat::DecimalExponent {
            return if exponent == 0 {
                format!("{sign}{amount}")
            } else {
                format!("{sign}{amount}e{exponent}")
            };
        }
        let suffix = match exponent {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            0 => "",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            _ => {
                // Beyond exa: scale the mantissa into E when it fits, else use an exponent.
                let extra = u32::try_from(exponent - 18).ok().and_then(pow10);
                return match extra.and_then(|p| amount.checked_mul(p)) {
                    Some(a) => format!("{sign}{a}E"),
                    None => format!("{sign}{amount}e{exponent}"),
                };
            }
        };
        format!("{sign}{amount}{suffix}")
    }
}

impl fmt::Display for ParsedQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl PartialEq for ParsedQuantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp_value(other) == Ordering::Equal
    }
}

/// The canonical form of a quantity string, or the string itself when it does not parse.
pub fn canonical_string(s: &str) -> String {
    parse_quantity(s)
        .map(|q| q.canonical())
        .unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        parse_quantity(s).unwrap().canonical()
    }

    #[test]
    fn canonical_forms_match_upstream() {
        for (input, want) in [
            ("0", "0"),
            ("-0", "0"),
            ("1", "1"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("100m", "100m"),
            ("1000m", "1"),
            ("1500", "1500"),
            ("1k", "1k"),
            ("1000", "1k"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("512", "512"),
            ("1Ki", "1Ki"),
            ("1e3", "1e3"),
            ("1E3", "1e3"),
            ("1.5e3", "1500"),
            ("-1", "-1"),
            ("-500m", "-500m"),
            ("0.0000000001", "1n"),
            ("1n", "1n"),
            ("128974848", "128974848"),
            ("129e6", "129e6"),
            ("123Mi", "123Mi"),
            (" 2 ", "2"),
            (".5", "500m"),
            ("5.", "5"),
        ] {
            assert_eq!(canon(input), want, "input {input:?}");
        }
    }

    #[test]
    fn bad_quantities_are_errors_not_panics() {
        for bad in [
            "",
            "abc",
            "1.2.3",
            "1Qi",
            "1K",
            "--1",
            "1e",
            "1e99999999999",
            "1 Gi",
            "1Mi1",
            "ü",
        ] {
            assert!(parse_quantity(bad).is_err(), "{bad:?} should not parse");
        }
        assert_eq!(parse_quantity("1x").unwrap_err(), QUANTITY_FORMAT_ERROR);
        assert_eq!(parse_quantity("1K").unwrap_err(), SUFFIX_ERROR);
        // Huge but valid inputs neither panic nor fail.
        assert!(parse_quantity("1e2000000000").is_ok());
        assert!(parse_quantity(&"9".repeat(80)).is_ok());
        let _ =
            parse_quantity("99999999999999999999999999999999999999999Ei").map(|q| q.canonical());
    }

    #[test]
    fn comparison_and_addition() {
        let q = |s| parse_quantity(s).unwrap();
        assert_eq!(q("1").cmp_value(&q("1000m")), Ordering::Equal);
        assert_eq!(q("1Gi").cmp_value(&q("1G")), Ordering::Greater);
        assert_eq!(q("-1").cmp_value(&q("0")), Ordering::Less);
        assert_eq!(q("100m").cmp_value(&q("0.2")), Ordering::Less);
        assert_eq!(q("1e30").cmp_value(&q("1n")), Ordering::Greater);
        assert_eq!(q("250m").checked_add(&q("750m")).unwrap(), q("1"));
        assert!(!q("1.5").is_integer() && q("2k").is_integer());
    }
}
