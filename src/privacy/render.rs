//! Turning stored JSON (views, payloads) into what one caller may see:
//! every sealed value becomes clear text, a mask, or `[erased]`.
//!
//! Sealed values are recognised by shape anywhere in the document, so every
//! view and payload, of every kind of ticket, goes through the same code.
//! How a value is masked depends on the member name it sits under.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};
use uuid::Uuid;

use super::crypto::{self, Sealed};
use super::keys::SubjectKey;

/// Shown instead of a value whose subject was erased.
pub const ERASED: &str = "[erased]";

/// Whether a caller sees personal data in clear or masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    Clear,
    Masked,
}

/// A sealed value is an object of exactly its four members, all strings
/// (what `Sealed`'s `deny_unknown_fields` accepts), read without copying
/// the object: reads walk every member of every view they return.
fn as_sealed(map: &Map<String, Value>) -> Option<Sealed> {
    let (subject, key_id, nonce, ciphertext) = sealed_parts(map)?;
    Some(Sealed {
        subject,
        key_id,
        nonce: nonce.to_owned(),
        ciphertext: ciphertext.to_owned(),
    })
}

fn sealed_parts(map: &Map<String, Value>) -> Option<(Uuid, Uuid, &str, &str)> {
    if map.len() != 4 {
        return None;
    }
    let text = |name: &str| map.get(name).and_then(Value::as_str);
    let ciphertext = text("ciphertext")?;
    let nonce = text("nonce")?;
    Some((
        text("subject")?.parse().ok()?,
        text("key_id")?.parse().ok()?,
        nonce,
        ciphertext,
    ))
}

/// Whether JSON text (as stored: canonical, keys unescaped) may hold a
/// sealed value or an erased marker, so that it must be parsed and rendered
/// rather than passed through. Both are objects with a key no other payload
/// field has; a text that merely mentions the word has its quotes escaped,
/// so this never misses one.
pub fn may_hold_personal_data(json: &str) -> bool {
    json.contains("\"ciphertext\"") || json.contains("\"erased\"")
}

fn is_erased_marker(map: &Map<String, Value>) -> bool {
    map.len() == 1 && map.get("erased") == Some(&Value::Bool(true))
}

/// The subjects whose sealed values occur in `value`.
pub fn sealed_subjects(value: &Value, out: &mut BTreeSet<Uuid>) {
    match value {
        Value::Object(map) => match sealed_parts(map) {
            Some((subject, ..)) => {
                out.insert(subject);
            }
            None => map.values().for_each(|v| sealed_subjects(v, out)),
        },
        Value::Array(items) => items.iter().for_each(|v| sealed_subjects(v, out)),
        _ => {}
    }
}

/// Replaces every sealed or erased value in `value` with a string and
/// returns the subjects whose data was shown in clear.
pub fn render(value: &mut Value, keys: &HashMap<Uuid, SubjectKey>, reveal: Reveal) -> BTreeSet<Uuid> {
    let mut revealed = BTreeSet::new();
    walk(value, "", keys, reveal, &mut revealed);
    revealed
}

fn walk(
    value: &mut Value,
    member: &str,
    keys: &HashMap<Uuid, SubjectKey>,
    reveal: Reveal,
    revealed: &mut BTreeSet<Uuid>,
) {
    match value {
        Value::Object(map) => {
            if is_erased_marker(map) {
                *value = Value::String(ERASED.to_owned());
            } else if let Some(sealed) = as_sealed(map) {
                let clear = keys
                    .get(&sealed.subject)
                    .filter(|k| k.key_id == sealed.key_id)
                    .and_then(|k| crypto::open(&k.key, &sealed).ok());
                *value = Value::String(match (clear, reveal) {
                    (None, _) => ERASED.to_owned(),
                    (Some(text), Reveal::Clear) => {
                        revealed.insert(sealed.subject);
                        text
                    }
                    (Some(text), Reveal::Masked) => mask(member, &text),
                });
            } else {
                for (name, child) in map.iter_mut() {
                    walk(child, name, keys, reveal, revealed);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, member, keys, reveal, revealed)),
        _ => {}
    }
}

/// Replaces the sealed values of `subject` with the erased marker. Returns
/// whether anything changed.
pub fn scrub(value: &mut Value, subject: Uuid) -> bool {
    match value {
        Value::Object(map) => {
            if sealed_parts(map).is_some_and(|(sealed_for, ..)| sealed_for == subject) {
                *value = serde_json::json!({ "erased": true });
                true
            } else {
                map.values_mut().fold(false, |changed, v| scrub(v, subject) | changed)
            }
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, v| scrub(v, subject) | changed),
        _ => false,
    }
}

/// Masks keep just enough to recognise a record on the phone (the last four
/// digits of a number, the first character of a name, the mail domain) and
/// never enough to contact anyone. Free text is hidden entirely.
fn mask(member: &str, s: &str) -> String {
    match member {
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
    use crate::privacy::crypto::DataKey;
    use serde_json::json;

    fn key(subject: Uuid) -> SubjectKey {
        SubjectKey {
            subject,
            key_id: Uuid::now_v7(),
            key: DataKey::generate().expect("key"),
        }
    }

    fn sealed(k: &SubjectKey, text: &str) -> Value {
        serde_json::to_value(crypto::seal(&k.key, k.subject, k.key_id, text).expect("seal")).expect("json")
    }

    #[test]
    fn masks_keep_only_what_identifies_a_record() {
        assert_eq!(mask("phone", "+86 138-0013-8000"), "*********8000");
        assert_eq!(mask("email", "zhang.wei@example.cn"), "z***@example.cn");
        assert_eq!(mask("name", "张伟"), "张**");
        assert_eq!(mask("customer_ref", "C-99812"), "***");
        assert_eq!(mask("description", "我家宽带坏了"), "***");
    }

    #[test]
    fn renders_clear_masked_and_erased_values_and_reports_what_was_revealed() {
        let alice = key(Uuid::now_v7());
        let erased = key(Uuid::now_v7());
        let doc = json!({
            "title": "not personal",
            "complainant": {"name": sealed(&alice, "张伟"), "phone": sealed(&alice, "13800138000")},
            "notes": [{"body": sealed(&erased, "gone")}, {"body": "internal note"}],
        });
        let keys = HashMap::from([(alice.subject, alice.clone())]);

        let mut clear = doc.clone();
        let revealed = render(&mut clear, &keys, Reveal::Clear);
        assert_eq!(clear["complainant"]["name"], "张伟");
        assert_eq!(clear["notes"][0]["body"], ERASED);
        assert_eq!(clear["notes"][1]["body"], "internal note");
        assert_eq!(revealed, BTreeSet::from([alice.subject]));

        let mut masked = doc.clone();
        assert!(
            render(&mut masked, &keys, Reveal::Masked).is_empty(),
            "a masked read reveals nobody"
        );
        assert_eq!(masked["complainant"]["phone"], "*******8000");

        let mut subjects = BTreeSet::new();
        sealed_subjects(&doc, &mut subjects);
        assert_eq!(subjects, BTreeSet::from([alice.subject, erased.subject]));
    }

    #[test]
    fn only_an_object_of_exactly_the_four_sealed_members_is_a_sealed_value() {
        let alice = key(Uuid::now_v7());
        let sealed = sealed(&alice, "张伟");
        let Value::Object(map) = &sealed else {
            panic!("a sealed value is an object")
        };
        assert_eq!(as_sealed(map).map(|s| s.subject), Some(alice.subject));
        let mut extra = map.clone();
        extra.insert("note".into(), json!("x"));
        let mut not_text = map.clone();
        not_text.insert("nonce".into(), json!(12));
        let mut bad_subject = map.clone();
        bad_subject.insert("subject".into(), json!("not-a-uuid"));
        let mut renamed = map.clone();
        renamed.remove("key_id");
        renamed.insert("key".into(), json!(alice.key_id.to_string()));
        for look_alike in [extra, not_text, bad_subject, renamed] {
            assert!(as_sealed(&look_alike).is_none(), "{look_alike:?}");
            let mut subjects = BTreeSet::new();
            sealed_subjects(&Value::Object(look_alike.clone()), &mut subjects);
            assert!(subjects.is_empty(), "{look_alike:?}");
            let mut rendered = Value::Object(look_alike.clone());
            render(
                &mut rendered,
                &HashMap::from([(alice.subject, alice.clone())]),
                Reveal::Clear,
            );
            assert!(
                rendered.is_object(),
                "a look-alike is walked, not opened: {look_alike:?}"
            );
        }
    }

    #[test]
    fn text_holding_sealed_values_or_erased_markers_is_told_apart_from_other_text() {
        let alice = key(Uuid::now_v7());
        let mut doc = json!({"complainant": {"name": sealed(&alice, "张伟")}});
        let text = |v: &Value| serde_json::to_string(v).expect("json");
        assert!(may_hold_personal_data(&text(&doc)), "what seal() writes");
        scrub(&mut doc, alice.subject);
        assert!(may_hold_personal_data(&text(&doc)), "what scrub() writes");
        // Text that only mentions the words is escaped, never a key.
        assert!(!may_hold_personal_data(&text(
            &json!({"body": "the \"ciphertext\" and \"erased\" fields", "visibility": "internal"})
        )));
    }

    #[test]
    fn scrubbing_replaces_only_the_erased_subjects_values() {
        let alice = key(Uuid::now_v7());
        let bob = key(Uuid::now_v7());
        let mut doc = json!({"a": sealed(&alice, "x"), "b": [sealed(&bob, "y")]});
        assert!(scrub(&mut doc, alice.subject));
        assert_eq!(doc["a"], json!({"erased": true}));
        assert!(doc["b"][0].get("ciphertext").is_some());
        assert!(!scrub(&mut doc, alice.subject), "nothing left to scrub");
        let mut rendered = doc.clone();
        render(&mut rendered, &HashMap::new(), Reveal::Clear);
        assert_eq!(rendered["a"], ERASED);
    }
}
