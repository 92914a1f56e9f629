//! The text PostgreSQL prints for a `jsonb` value (`view::text`), written
//! from a `serde_json::Value` on the client.
//!
//! A rebuild compares each folded view with the stored one by the SHA-256
//! of this text: PostgreSQL hashes `view::text` of every `tickets` row in
//! the snapshot, the rebuild hashes its own view written the same way, and
//! only the views whose digests differ travel to the database to be parsed
//! and compared as `jsonb`. Parsing every view into `jsonb` and comparing
//! it was most of the database's share of a rebuild (docs/performance.md).
//!
//! Getting this text wrong costs speed, never correctness: a view whose
//! text differs from PostgreSQL's is compared as `jsonb` like any changed
//! view. Values whose text this module does not know how PostgreSQL would
//! print (fractional or exponent numbers, whose `numeric` form keeps the
//! written scale) give `None` and take that path.
//!
//! The form is `jsonb`'s output function (`JsonbToCString`): object keys in
//! `jsonb`'s storage order (shorter keys first, then bytewise), `", "`
//! between elements and `": "` after keys, and strings escaped by
//! `escape_json`: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control
//! characters as lowercase `\u00xx`, everything else as it is.

use std::fmt::Write;

use serde_json::Value;

/// `value` as PostgreSQL prints it as `jsonb`, or `None` when this module
/// cannot be sure of PostgreSQL's text.
pub fn jsonb_text(value: &Value) -> Option<String> {
    let mut out = String::with_capacity(256);
    write_jsonb_text(value, &mut out).then_some(out)
}

/// Writes `value` as [`jsonb_text`] does into `out` (cleared first), so a
/// caller that writes many reuses one buffer; `false` when this module
/// cannot be sure of PostgreSQL's text.
pub fn write_jsonb_text(value: &Value, out: &mut String) -> bool {
    out.clear();
    write_value(value, out)
}

fn write_value(value: &Value, out: &mut String) -> bool {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            // Integers print as their digits in `numeric` too; anything
            // else keeps the scale it was written with, which a float does
            // not know.
            if n.is_i64() || n.is_u64() {
                let _ = write!(out, "{n}");
            } else {
                return false;
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if !write_value(item, out) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries
                .sort_unstable_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes())));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, out);
                out.push_str(": ");
                if !write_value(item, out) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    true
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if u32::from(c) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push_str(escaped);
        }
        plain = i + c.len_utf8();
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::jsonb_text;

    // Each expected text is what PostgreSQL 15 prints for `'<input>'::jsonb::text`.

    #[test]
    fn keys_come_shorter_first_then_bytewise_with_postgres_spacing() {
        let view = json!({"status": "filed", "id": 7, "b": [1, 2], "a": {}, "version": 3, "notes": []});
        assert_eq!(
            jsonb_text(&view).as_deref(),
            Some(r#"{"a": {}, "b": [1, 2], "id": 7, "notes": [], "status": "filed", "version": 3}"#)
        );
    }

    #[test]
    fn strings_escape_as_escape_json_does_and_keep_other_text_as_it_is() {
        let view = json!({"t": "引号\"斜杠\\\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é"});
        assert_eq!(
            jsonb_text(&view).as_deref(),
            Some("{\"t\": \"引号\\\"斜杠\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}é\"}")
        );
    }

    #[test]
    fn integers_print_as_digits_and_fractions_are_left_to_the_database() {
        assert_eq!(
            jsonb_text(&json!([-5, 0, u64::MAX])).as_deref(),
            Some("[-5, 0, 18446744073709551615]")
        );
        assert_eq!(jsonb_text(&json!({"score": 4.5})), None);
        assert_eq!(
            jsonb_text(&json!([true, false, null])).as_deref(),
            Some("[true, false, null]")
        );
    }
}
