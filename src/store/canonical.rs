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
    write_value(&mut out, value, &mut String::new())?;
    Ok(out.into_bytes())
}

fn write_value(out: &mut String, value: &Value, path: &mut String) -> Result<(), CanonicalError> {
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
                return Err(CanonicalError::Float(if path.is_empty() {
                    "/".to_owned()
                } else {
                    path.clone()
                }));
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let len = path.len();
                let _ = write!(path, "/{i}");
                write_value(out, item, path)?;
                path.truncate(len);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (name, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                let len = path.len();
                path.push('/');
                path.push_str(&name.replace('~', "~0").replace('/', "~1"));
                write_value(out, member, path)?;
                path.truncate(len);
            }
            out.push('}');
        }
    }
    Ok(())
}

/// RFC 8785 §3.2.2.2: escape `"` and `\`, use the short escapes for
/// backspace, tab, line feed, form feed and carriage return, `\u00xx`
/// (lower-case hex) for the other control characters, and nothing else.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
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
