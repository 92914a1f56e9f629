//! Turning stored JSON (views, payloads) into what one caller may see:
//! every sealed value becomes clear text, a mask, or `[erased]`.
//!
//! Sealed values are recognised by shape anywhere in the document, so every
//! view and payload, of every kind of ticket, goes through the same code.
//! How a value is masked depends on the member name it sits under.
//!
//! Which data subject a document concerns is itself personal data: the
//! members that name subjects are left out of masked renderings, so a
//! caller without `pii:read` never learns whether two filings share one.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};
use uuid::Uuid;

use super::crypto::{self, Sealed};
use super::keys::SubjectKey;

/// Shown instead of a value whose subject was erased.
pub const ERASED: &str = "[erased]";
/// Shown instead of a value whose key a privacy repair destroyed; the
/// repair's `complaint.personal_data_resealed` event holds it now.
pub const REPAIRED: &str = "[repaired]";
/// Shown instead of a value whose subject was merged into another; the
/// merge's `complaint.personal_data_resealed` event holds it now.
pub const MERGED: &str = "[merged]";
/// Shown in one subject's export instead of another subject's value.
pub const WITHHELD: &str = "[withheld]";

/// Members that name data subjects, left out of masked renderings.
const SUBJECT_MEMBERS: [&str; 5] = [
    "subject",
    "previous_subject",
    "subject_joined",
    "merged_into",
    "successors",
];

/// Why a subject has no key any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    Erased,
    Repaired,
    Merged,
    /// Not gone, but not this rendering's to open (see [`Keyring::only`]).
    Withheld,
}

impl Gone {
    /// What the last event of a subject's own stream says became of it.
    pub fn of(event_type: &str) -> Option<Gone> {
        match event_type {
            "subject.erased" => Some(Gone::Erased),
            "subject.repaired" => Some(Gone::Repaired),
            "subject.merged" => Some(Gone::Merged),
            _ => None,
        }
    }

    pub fn marker(self) -> &'static str {
        match self {
            Gone::Erased => ERASED,
            Gone::Repaired => REPAIRED,
            Gone::Merged => MERGED,
            Gone::Withheld => WITHHELD,
        }
    }
}

/// The keys a rendering may use, and what became of the subjects whose
/// keys are gone. A subject in neither reads as erased.
#[derive(Default)]
pub struct Keyring {
    pub keys: HashMap<Uuid, SubjectKey>,
    pub gone: HashMap<Uuid, Gone>,
}

impl Keyring {
    fn marker(&self, subject: Uuid) -> &'static str {
        self.gone.get(&subject).copied().unwrap_or(Gone::Erased).marker()
    }

    /// Only `subject`'s key: what a subject's export may open.
    pub fn only(mut self, subject: Uuid) -> Keyring {
        let others: Vec<Uuid> = self.keys.keys().copied().filter(|s| *s != subject).collect();
        for other in others {
            self.keys.remove(&other);
            self.gone.insert(other, Gone::Withheld);
        }
        self
    }
}

/// Whether a caller sees personal data in clear or masked: how a view is
/// rendered, and which of a version's two representations an ETag names.
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
    json.contains("\"ciphertext\"") || json.contains("\"erased\"") || json.contains("\"subject\"")
}

/// Whether an object is a sealed value or an erased marker: personal data,
/// which is compared, shown and hidden whole.
pub fn is_sealed_or_erased(map: &Map<String, Value>) -> bool {
    is_erased_marker(map) || sealed_parts(map).is_some()
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
/// returns the subjects whose data was shown in clear. Masked renderings
/// also lose the members that name subjects.
pub fn render(value: &mut Value, keys: &Keyring, reveal: Reveal) -> BTreeSet<Uuid> {
    let mut revealed = BTreeSet::new();
    walk(value, "", keys, reveal, &mut revealed);
    revealed
}

fn walk(value: &mut Value, member: &str, keys: &Keyring, reveal: Reveal, revealed: &mut BTreeSet<Uuid>) {
    match value {
        Value::Object(map) => {
            if is_erased_marker(map) {
                *value = Value::String(ERASED.to_owned());
            } else if let Some(sealed) = as_sealed(map) {
                let clear = keys
                    .keys
                    .get(&sealed.subject)
                    .filter(|k| k.key_id == sealed.key_id)
                    .and_then(|k| crypto::open(&k.key, &sealed).ok());
                *value = Value::String(match (clear, reveal) {
                    (None, _) => keys.marker(sealed.subject).to_owned(),
                    (Some(text), Reveal::Clear) => {
                        revealed.insert(sealed.subject);
                        text
                    }
                    (Some(text), Reveal::Masked) => mask(member, &text),
                });
            } else {
                if reveal == Reveal::Masked {
                    for name in SUBJECT_MEMBERS {
                        map.remove(name);
                    }
                }
                for (name, child) in map.iter_mut() {
                    walk(child, name, keys, reveal, revealed);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, member, keys, reveal, revealed)),
        _ => {}
    }
}

/// Every value sealed under `subject` in `value`, with its JSON Pointer
/// (RFC 6901) from the root of `value`.
pub fn sealed_values(value: &Value, subject: Uuid) -> Vec<(String, Sealed)> {
    fn visit(value: &Value, pointer: &mut String, subject: Uuid, out: &mut Vec<(String, Sealed)>) {
        let at = pointer.len();
        match value {
            Value::Object(map) => match as_sealed(map) {
                Some(sealed) if sealed.subject == subject => out.push((pointer.clone(), sealed)),
                Some(_) => {}
                None => {
                    for (name, child) in map {
                        pointer.push('/');
                        pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
                        visit(child, pointer, subject, out);
                        pointer.truncate(at);
                    }
                }
            },
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    visit(child, pointer, subject, out);
                    pointer.truncate(at);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    visit(value, &mut String::new(), subject, &mut out);
    out
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
        let keys = Keyring {
            keys: HashMap::from([(alice.subject, alice.clone())]),
            gone: HashMap::new(),
        };

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
                &Keyring {
                    keys: HashMap::from([(alice.subject, alice.clone())]),
                    gone: HashMap::new(),
                },
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
        render(&mut rendered, &Keyring::default(), Reveal::Clear);
        assert_eq!(rendered["a"], ERASED);
    }

    #[test]
    fn values_of_a_repaired_or_merged_subject_say_so_and_masked_renderings_name_no_subject() {
        let repaired = key(Uuid::new_v4());
        let merged = key(Uuid::new_v4());
        let live = key(Uuid::new_v4());
        let doc = json!({
            "subject": live.subject.to_string(),
            "subject_joined": "named",
            "complainant": {"name": sealed(&live, "张伟")},
            "old": [sealed(&repaired, "x"), sealed(&merged, "y")],
            "values": [{"pointer": "/complainant/name", "value": sealed(&live, "张伟")}],
        });
        let keys = Keyring {
            keys: HashMap::from([(live.subject, live.clone())]),
            gone: HashMap::from([(repaired.subject, Gone::Repaired), (merged.subject, Gone::Merged)]),
        };
        let mut clear = doc.clone();
        render(&mut clear, &keys, Reveal::Clear);
        assert_eq!(clear["old"], json!([REPAIRED, MERGED]));
        assert_eq!(clear["subject"], live.subject.to_string(), "pii:read sees the subject");

        let mut masked = doc.clone();
        render(&mut masked, &keys, Reveal::Masked);
        assert!(
            masked.get("subject").is_none() && masked.get("subject_joined").is_none(),
            "{masked}"
        );
        assert_eq!(masked["complainant"]["name"], "张**");
        assert_eq!(masked["values"][0]["value"], "***");
    }

    #[test]
    fn sealed_values_are_found_with_their_pointers() {
        let alice = key(Uuid::new_v4());
        let bob = key(Uuid::new_v4());
        let doc = json!({
            "complainant": {"name": sealed(&alice, "A"), "a/b~c": sealed(&alice, "B")},
            "notes": [{"body": "internal"}, {"body": sealed(&alice, "C")}, {"body": sealed(&bob, "D")}],
        });
        let found: Vec<String> = sealed_values(&doc, alice.subject).into_iter().map(|(p, _)| p).collect();
        assert_eq!(found, ["/complainant/a~1b~0c", "/complainant/name", "/notes/1/body"]);
        for pointer in &found {
            assert!(doc.pointer(pointer).is_some(), "{pointer} resolves");
        }
    }
}
