//! OLPC canonical JSON, byte-identical to securesystemslib and in-toto-golang.
//!
//! The rules, as those two implementations apply them to in-toto metablocks:
//! - objects with keys sorted by their raw (unescaped) UTF-8 bytes, no whitespace anywhere;
//! - strings escape only `\` and `"`; every other character, control characters included, is
//!   written raw as UTF-8 (so PEM newlines stay newlines);
//! - integers only: a number with a fraction or exponent is an error;
//! - no Unicode normalisation.
//!
//! The `olpc-cjson` crate differs on the last two points that matter here: it NFC-normalises
//! strings and sorts keys by their escaped form, so a signature made by securesystemslib over a
//! key containing `"` or over decomposed characters would not verify. Hence this small writer.

use serde_json::Value;

/// Why a value has no canonical form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CanonicalError {
    /// Canonical JSON has no floating-point numbers.
    #[error("number {number} is not an integer; canonical JSON allows integers only")]
    NotAnInteger {
        /// The number as it was written.
        number: String,
    },
}

/// Encodes `value` as OLPC canonical JSON.
pub fn to_vec(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out)?;
    Ok(out)
}

/// Encodes any serialisable value as OLPC canonical JSON (through `serde_json::Value`).
pub fn to_vec_of<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    // Serialising our own model types into a Value cannot fail: they have string keys only.
    let value = serde_json::to_value(value).map_err(|e| CanonicalError::NotAnInteger {
        number: e.to_string(),
    })?;
    to_vec(&value)
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.extend_from_slice(n.to_string().as_bytes());
            } else {
                return Err(CanonicalError::NotAnInteger {
                    number: n.to_string(),
                });
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // serde_json's default map already iterates in this order (String's Ord is byte
            // order); sort anyway in case a dependency enables `preserve_order`.
            if !entries.is_sorted_by(|a, b| a.0.as_bytes() <= b.0.as_bytes()) {
                entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            }
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_value(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' || b == b'\\' {
            out.extend_from_slice(&bytes[start..i]);
            out.push(b'\\');
            out.push(b);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_by_raw_bytes_and_escapes_only_quote_and_backslash() {
        let v = json!({"b": "x\ny\t\u{1b}", "a\"": 1, "a#": [true, null, -3], "é": "\\"});
        let got = String::from_utf8(to_vec(&v).unwrap()).unwrap();
        assert_eq!(
            got,
            "{\"a\\\"\":1,\"a#\":[true,null,-3],\"b\":\"x\ny\t\u{1b}\",\"é\":\"\\\\\"}"
        );
    }

    #[test]
    fn rejects_floats_and_keeps_big_integers() {
        assert!(matches!(
            to_vec(&json!({"a": 1.5})),
            Err(CanonicalError::NotAnInteger { .. })
        ));
        assert_eq!(to_vec(&json!(u64::MAX)).unwrap(), b"18446744073709551615");
    }

    #[test]
    fn does_not_normalise_unicode() {
        let decomposed = "e\u{301}";
        let got = to_vec(&json!(decomposed)).unwrap();
        assert_eq!(got, format!("\"{decomposed}\"").into_bytes());
    }
}
