//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) for the
//! subset of JSON that our events use: objects, arrays, strings, integers,
//! booleans and null.
//!
//! Floats are refused rather than canonicalised: their canonical form depends
//! on ECMAScript number formatting, and money or durations in events are
//! integers anyway. Member names are sorted by their UTF-16 code units, as the
//! RFC requires (this differs from byte order only for characters above
//! U+FFFF against U+E000..U+FFFF). Strings are escaped exactly as RFC 8785
//! prescribes and are never Unicode-normalised, so Chinese text is stored and
//! hashed as given.

use serde_json::Value;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("floating-point number at {0}: events carry integers only")]
    Float(String),
}

/// Serialises `value` canonically.
pub fn to_canonical_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = String::with_capacity(256);
    write_at(&mut out, value).map_err(|float| CanonicalError::Float(float.pointer()))?;
    Ok(out.into_bytes())
}

/// Appends `value`, the member `name` of an object the caller writes
/// itself, canonically to `out`; a float's pointer starts at that member.
/// Every event's payload is sealed through here, so it allocates nothing
/// but `out`: the members of an object are only collected and sorted when
/// the map's own order is not already the canonical one, and where a float
/// sits is worked out only when one is found.
pub fn write_member_value(out: &mut String, name: &str, value: &Value) -> Result<(), CanonicalError> {
    write_at(out, value).map_err(|mut float| {
        float.0.push(name.to_owned());
        CanonicalError::Float(float.pointer())
    })
}

/// Where a float was found, innermost segment first: filled in as the
/// error returns through the arrays and objects that hold it.
struct FloatAt(Vec<String>);

impl FloatAt {
    /// The JSON Pointer (RFC 6901) to the float.
    fn pointer(self) -> String {
        if self.0.is_empty() {
            return "/".to_owned();
        }
        self.0.iter().rev().fold(String::new(), |mut p, segment| {
            p.push('/');
            p.push_str(&segment.replace('~', "~0").replace('/', "~1"));
            p
        })
    }
}

fn write_at(out: &mut String, value: &Value) -> Result<(), FloatAt> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                return Err(FloatAt(Vec::new()));
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_at(out, item).map_err(|mut at| {
                    at.0.push(i.to_string());
                    at
                })?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            let utf16 = |a: &str, b: &str| a.encode_utf16().cmp(b.encode_utf16());
            if map.keys().is_sorted_by(|a, b| utf16(a, b).is_le()) {
                write_members(out, map.iter())?;
            } else {
                let mut members: Vec<(&String, &Value)> = map.iter().collect();
                members.sort_by(|a, b| utf16(a.0, b.0));
                write_members(out, members.into_iter())?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_members<'a>(out: &mut String, members: impl Iterator<Item = (&'a String, &'a Value)>) -> Result<(), FloatAt> {
    for (i, (name, member)) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, name);
        out.push(':');
        write_at(out, member).map_err(|mut at| {
            at.0.push(name.clone());
            at
        })?;
    }
    Ok(())
}

/// RFC 8785 §3.2.2.2: escape `"` and `\`, use the short escapes for
/// backspace, tab, line feed, form feed and carriage return, `\u00xx`
/// (lower-case hex) for the other control characters, and nothing else.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    // Runs that need no escape are copied whole; every byte that needs one
    // is ASCII, so a run never ends inside a character.
    let mut run = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x08 => Some("\\b"),
            b'\t' => Some("\\t"),
            b'\n' => Some("\\n"),
            0x0C => Some("\\f"),
            b'\r' => Some("\\r"),
            b if b < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[run..i]);
        match escape {
            Some(short) => out.push_str(short),
            None => {
                let _ = write!(out, "\\u{byte:04x}");
            }
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: Value) -> String {
        String::from_utf8(to_canonical_bytes(&v).expect("canonical")).expect("utf-8")
    }

    #[test]
    fn sorts_members_and_drops_whitespace() {
        assert_eq!(
            canon(json!({"b": 1, "a": [true, null, {"d": "x", "c": -2}]})),
            r#"{"a":[true,null,{"c":-2,"d":"x"}],"b":1}"#
        );
    }

    #[test]
    fn sorts_by_utf16_code_units_as_rfc_8785_requires() {
        // U+1F600 is 0xD83D 0xDE00 in UTF-16, which sorts before U+FB33 (0xFB33),
        // although its UTF-8 bytes sort after.
        let v = json!({"\u{FB33}": 1, "\u{1F600}": 2, "a": 3});
        assert_eq!(canon(v), "{\"a\":3,\"\u{1F600}\":2,\"\u{FB33}\":1}");
    }

    #[test]
    fn escapes_like_rfc_8785() {
        assert_eq!(
            canon(json!("q\" b\\ \u{8}\t\n\u{c}\r \u{1} \u{7f} é")),
            "\"q\\\" b\\\\ \\b\\t\\n\\f\\r \\u0001 \u{7f} é\""
        );
    }

    #[test]
    fn keeps_chinese_text_exactly() {
        let text = "客户投诉：宽带断线（第二次）";
        assert_eq!(canon(json!({ "t": text })), format!("{{\"t\":\"{text}\"}}"));
    }

    #[test]
    fn large_integers_are_exact() {
        assert_eq!(
            canon(json!([u64::MAX, i64::MIN])),
            format!("[{},{}]", u64::MAX, i64::MIN)
        );
    }

    #[test]
    fn refuses_floats_and_names_where() {
        assert_eq!(
            to_canonical_bytes(&json!({"a": [1, {"b/c": 1.5}]})),
            Err(CanonicalError::Float("/a/1/b~1c".to_owned()))
        );
    }
}
