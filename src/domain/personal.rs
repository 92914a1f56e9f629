//! Personal data as the domain sees it.
//!
//! A command brings personal data in clear; the application seals every
//! such value under its data subject's key before the event is stored, so
//! folded state holds it sealed (or erased). The domain never needs to read
//! it back: it only validates clear text on the way in, and carries the
//! value through otherwise.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

/// A personal value: clear text from a command, or its protected form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
