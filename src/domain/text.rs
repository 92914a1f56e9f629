//! Text limits. Limits count Unicode scalar values (characters), never bytes,
//! so a Chinese title gets the same room as an English one. Text is stored
//! exactly as given: no trimming inside, no Unicode normalisation.
//!
//! The request bodies state the same rules in their OpenAPI schema: each
//! text field carries `minLength`/`maxLength` equal to its [`Limit`] (JSON
//! Schema counts characters the same way) and [`PATTERN`]. utoipa takes only
//! literals in those attributes, so the numbers are written out there; the
//! body tests (`domain::body_limits`) hold every schema equal to what
//! [`check`] accepts.

use super::error::Validator;
use super::messages;

/// Inclusive character bounds for one text field.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub min: usize,
    pub max: usize,
}

pub const TITLE: Limit = Limit { min: 1, max: 200 };
pub const LONG_TEXT: Limit = Limit { min: 1, max: 10_000 };
pub const SHORT_TEXT: Limit = Limit { min: 1, max: 200 };
pub const NAME: Limit = Limit { min: 1, max: 200 };
pub const LABEL: Limit = Limit { min: 1, max: 100 };

/// What [`check`] asks of the characters of a text, as an ECMA-262 regular
/// expression for the `pattern` of a text field's schema: not blank (some
/// character that is not white space), and no control character other than
/// tab, line feed and carriage return. "White space" is Unicode's
/// `White_Space`, as `str::trim` reads it (not ECMA-262's `\s`, which also
/// counts U+FEFF), and "control" is the category `Cc` of `char::is_control`.
/// Written with explicit classes so every engine reads it alike, and
/// without backtracking traps: the leading white space is the only choice.
pub const PATTERN: &str = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Number of characters in `s`.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Checks `value` against `limit`, treating whitespace-only text as empty,
/// and rejects control characters other than tab, line feed and carriage return.
pub fn check(v: &mut Validator, pointer: &str, value: &str, limit: Limit) {
    let len = char_len(value);
    if value.trim().is_empty() && limit.min > 0 {
        v.push(pointer, messages::field_empty());
    } else if len < limit.min || len > limit.max {
        v.push(pointer, messages::field_length(limit.min, limit.max, len));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        v.push(pointer, messages::field_control_characters());
    }
}

/// Like [`check`] for an optional field: absent is fine, present must fit.
pub fn check_opt(v: &mut Validator, pointer: &str, value: Option<&str>, limit: Limit) {
    if let Some(value) = value {
        check(v, pointer, value, limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(value: &str, limit: Limit) -> usize {
        let mut v = Validator::new();
        check(&mut v, "/x", value, limit);
        match v.finish() {
            Ok(()) => 0,
            Err(crate::domain::DomainError::Validation(e)) => e.len(),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let chinese = "投".repeat(200); // 600 bytes, 200 characters
        assert_eq!(errors(&chinese, TITLE), 0);
        assert_eq!(errors(&"投".repeat(201), TITLE), 1);
    }

    #[test]
    fn whitespace_only_is_empty() {
        assert_eq!(errors("   ", TITLE), 1);
        assert_eq!(errors("", TITLE), 1);
    }

    #[test]
    fn control_characters_are_refused_but_newlines_are_kept() {
        assert_eq!(errors("a\u{0007}b", LONG_TEXT), 1);
        assert_eq!(errors("line one\nline two\r\n\tindented", LONG_TEXT), 0);
    }

    /// Whether `value` matches [`PATTERN`], as a JSON Schema validator reads it.
    fn matches_pattern(value: &str) -> bool {
        let schema = serde_json::json!({"type": "string", "pattern": PATTERN});
        jsonschema::draft202012::new(&schema)
            .expect("the text pattern compiles")
            .is_valid(&serde_json::json!(value))
    }

    #[test]
    fn the_schema_pattern_accepts_exactly_the_texts_check_accepts() {
        // Every white space and control character there is, alone, around
        // a letter, and between letters; and texts people write.
        let special: Vec<char> = ('\u{0}'..='\u{3000}')
            .chain(['\u{feff}', '\u{fffd}'])
            .filter(|c| c.is_whitespace() || c.is_control() || *c == '\u{feff}')
            .collect();
        let mut samples: Vec<String> = vec![
            String::new(),
            "Charged twice for March".into(),
            "宽带连续三天断线".into(),
            "line one\nline two\r\n\tindented".into(),
            "\t\n  padded  \r\n".into(),
            "🙂".into(),
        ];
        for c in special {
            samples.extend([
                c.to_string(),
                format!("{c}{c}"),
                format!("{c}a"),
                format!("a{c}"),
                format!("a{c}b"),
                format!(" {c} "),
            ]);
        }
        for sample in &samples {
            let accepted = errors(sample, LONG_TEXT) == 0;
            assert_eq!(
                matches_pattern(sample),
                accepted,
                "{sample:?}: check says {}, the pattern disagrees",
                if accepted { "accepted" } else { "refused" }
            );
        }
    }
}
