//! Personal data as the domain sees it.
//!
//! A command brings personal data in clear; the application seals every
//! such value under its data subject's key before the event is stored, so
//! folded state holds it sealed (or erased). The domain never needs to read
//! it back: it only validates clear text on the way in, and carries the
//! value through otherwise.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

/// A personal value: clear text from a command, or its protected form.
/// A JSON string is clear text, an object the protected form (see the
/// `Deserialize` below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Personal {
    /// As a command brought it. Never stored: sealed before appending.
    Clear(String),
    /// Sealed under the subject's key (`{subject, key_id, nonce,
    /// ciphertext}`) or erased (`{erased: true}`); opaque here.
    Protected(Map<String, Value>),
}

impl Personal {
    pub fn clear(text: &str) -> Personal {
        Personal::Clear(text.to_owned())
    }
}

/// What `#[serde(untagged)]` would decide (a string is clear text, an
/// object the protected form), told apart by the JSON's own type instead:
/// the untagged derive buffered every value and tried each form in turn,
/// and personal values are in every complaint event a rebuild or a
/// history reads (a tenth of a rebuild's client, docs/performance.md).
impl<'de> Deserialize<'de> for Personal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Personal, D::Error> {
        deserializer.deserialize_any(PersonalVisitor)
    }
}

struct PersonalVisitor;

impl<'de> Visitor<'de> for PersonalVisitor {
    type Value = Personal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a personal value: a string, or an object (sealed or erased)")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Personal, E> {
        Ok(Personal::Clear(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Personal, E> {
        Ok(Personal::Clear(text))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Personal, A::Error> {
        let mut map = Map::new();
        while let Some((key, value)) = members.next_entry::<String, Value>()? {
            map.insert(key, value);
        }
        Ok(Personal::Protected(map))
    }
}

/// Which kind of personal value a field holds; decides how it is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalField {
    Name,
    Phone,
    Email,
    CustomerRef,
    /// Free text the complainant supplied or was sent.
    Text,
}

impl utoipa::PartialSchema for Personal {
    fn schema() -> RefOr<Schema> {
        let text = || ObjectBuilder::new().schema_type(Type::String);
        OneOfBuilder::new()
            .item(text().description(Some(
                "Clear, masked (`***`, `张**`, `*********8000`) or `[erased]` text in API responses; \
                 never stored for personal data (internal note bodies are not personal and are stored as text).",
            )))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .description(Some("Sealed under the data subject's key (AES-256-GCM), as stored."))
                    .property(
                        "subject",
                        text()
                            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                                utoipa::openapi::KnownFormat::Uuid,
                            )))
                            .description(Some("The data subject (UUID) whose key sealed the value.")),
                    )
                    .property(
                        "key_id",
                        text()
                            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                                utoipa::openapi::KnownFormat::Uuid,
                            )))
                            .description(Some("The id (UUID) of the data key that sealed the value.")),
                    )
                    .property(
                        "nonce",
                        text().description(Some(
                            "The 12-byte AES-GCM nonce, base64url without padding; unique per sealed value.",
                        )),
                    )
                    .property(
                        "ciphertext",
                        text().description(Some(
                            "The encrypted UTF-8 text followed by the 16-byte GCM tag, base64url without padding.",
                        )),
                    )
                    .required("subject")
                    .required("key_id")
                    .required("nonce")
                    .required("ciphertext"),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .description(Some("In views after the data subject was erased."))
                    .property(
                        "erased",
                        ObjectBuilder::new()
                            .schema_type(Type::Boolean)
                            .enum_values(Some([true]))
                            .description(Some(
                                "Always `true`: the value was erased with its data subject and cannot be read back.",
                            )),
                    )
                    .required("erased"),
            )
            .description(Some(
                "Personal data (see the personal data section of the API description).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Personal {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_string_is_clear_text_and_an_object_its_protected_form() {
        let sealed = json!({"subject": "s", "key_id": "k", "nonce": "n", "ciphertext": "c"});
        for read in [
            |text: &str| serde_json::from_str::<Personal>(text).map_err(|e| e.to_string()),
            |text: &str| {
                let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
                serde_json::from_value::<Personal>(value).map_err(|e| e.to_string())
            },
        ] {
            assert_eq!(read(r#""张三""#), Ok(Personal::clear("张三")));
            assert_eq!(read(r#""a \"quoted\" name""#), Ok(Personal::clear("a \"quoted\" name")));
            let Some(map) = sealed.as_object() else { unreachable!() };
            assert_eq!(read(&sealed.to_string()), Ok(Personal::Protected(map.clone())));
            let erased = Map::from_iter([("erased".to_owned(), json!(true))]);
            assert_eq!(read(r#"{"erased": true}"#), Ok(Personal::Protected(erased)));
            for not_personal in ["42", "null", "[]", "true"] {
                let refused = read(not_personal).expect_err(not_personal);
                assert!(refused.contains("a personal value"), "{refused}");
            }
        }
        // And it reads back what it writes.
        for value in [
            Personal::clear("13800138000"),
            serde_json::from_value(sealed).unwrap_or_else(|e| panic!("{e}")),
        ] {
            let text = serde_json::to_string(&value).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(serde_json::from_str::<Personal>(&text).ok(), Some(value));
        }
    }
}
