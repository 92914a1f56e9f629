//! Masking personal data for principals without `pii:read`.
//!
//! Which fields are personal is the domain's knowledge (JSON Pointers per
//! event type and per view); how they are masked is decided here. Masks keep
//! just enough to recognise a record on the phone (the last four digits of a
//! number, the first character of a name, the mail domain) and never enough
//! to contact anyone.

use serde_json::Value;

use crate::domain::complaint;

/// Masks the personal fields of a ticket view in place.
pub fn mask_view(kind: &str, view: &mut Value) {
    if kind == "complaint" {
        mask_pointers(view, complaint::VIEW_PERSONAL_POINTERS);
    }
}

/// Masks the personal fields of one event payload in place.
pub fn mask_payload(event_type: &str, payload: &mut Value) {
    mask_pointers(payload, complaint::personal_pointers(event_type));
}

fn mask_pointers(value: &mut Value, pointers: &[&str]) {
    for pointer in pointers {
        if let Some(Value::String(s)) = value.pointer_mut(pointer) {
            let field_name = pointer.rsplit('/').next().unwrap_or("");
            *s = mask(field_name, s);
        }
    }
}

fn mask(field: &str, s: &str) -> String {
    match field {
        "phone" => {
            let digits: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
            let keep = digits.len().saturating_sub(4);
            let tail: String = digits[keep..].iter().collect();
            format!("{}{}", "*".repeat(keep.max(3)), tail)
        }
        "email" => match s.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".to_owned(),
        },
        "name" => {
            let first: String = s.chars().take(1).collect();
            format!("{first}**")
        }
        _ => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_keep_only_what_identifies_a_record() {
        assert_eq!(mask("phone", "+86 138-0013-8000"), "*********8000");
        assert_eq!(mask("email", "zhang.wei@example.cn"), "z***@example.cn");
        assert_eq!(mask("name", "张伟"), "张**");
        assert_eq!(mask("customer_ref", "C-99812"), "***");
    }

    #[test]
    fn masks_the_complainant_of_a_complaint_view() {
        let mut view =
            json!({"title": "断网", "complainant": {"name": "张伟", "phone": "13800138000", "email": "z@x.cn"}});
        mask_view("complaint", &mut view);
        assert_eq!(view["complainant"]["name"], "张**");
        assert_eq!(view["complainant"]["phone"], "*******8000");
        assert_eq!(view["title"], "断网");
    }
}
