//! Text limits. Limits count Unicode scalar values (characters), never bytes,
//! so a Chinese title gets the same room as an English one. Text is stored
//! exactly as given: no trimming inside, no Unicode normalisation.

use super::error::Validator;

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

/// Number of characters in `s`.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Checks `value` against `limit`, treating whitespace-only text as empty,
/// and rejects control characters other than tab, line feed and carriage return.
pub fn check(v: &mut Validator, pointer: &str, value: &str, limit: Limit) {
    let len = char_len(value);
    if value.trim().is_empty() && limit.min > 0 {
        v.push(pointer, "must not be empty");
    } else if len < limit.min || len > limit.max {
        v.push(
            pointer,
            format!("must be {} to {} characters long (is {len})", limit.min, limit.max),
        );
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        v.push(pointer, "must not contain control characters");
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
}
