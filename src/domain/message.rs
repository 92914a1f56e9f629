//! What the server says to a person when it refuses something, as a message
//! id and named arguments rather than words: the HTTP layer puts the words
//! in the language each request asks for, from its catalogues
//! (`src/http/i18n/*.ftl`).
//!
//! A [`Message`] is made only by the functions that [`messages!`] declares,
//! each with its id and one argument per parameter, and the same
//! declaration lists them all in an `ALL` registry; the tests hold every
//! registered message to a sentence in every language that names exactly
//! those parameters. So no message can be used that has no words.

use std::fmt;

/// One message: which sentence, and the values of its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    id: &'static str,
    args: Vec<(&'static str, String)>,
}

impl Message {
    /// Only for [`messages!`], which declares the message in a registry.
    pub(crate) fn declared(id: &'static str, args: Vec<(&'static str, String)>) -> Message {
        Message { id, args }
    }

    /// The message's id in the catalogues.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// Every parameter with its value, in the order declared.
    pub fn args(&self) -> &[(&'static str, String)] {
        &self.args
    }

    /// The value of parameter `name`.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// The id and the arguments, for logs and tests; people get the words.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)?;
        for (i, (name, value)) in self.args.iter().enumerate() {
            let separator = if i == 0 { " { " } else { ", " };
            write!(f, "{separator}{name}: {value:?}")?;
        }
        if !self.args.is_empty() {
            f.write_str(" }")?;
        }
        Ok(())
    }
}

/// A message as its registry declares it: its id and its parameters' names.
#[derive(Debug, Clone, Copy)]
pub struct MessageSpec {
    pub id: &'static str,
    pub parameters: &'static [&'static str],
}

/// Declares messages: for each `name = "id" (parameter, …);` a function
/// `name(parameter, …) -> Message` taking each parameter as anything
/// `Display`, and one `ALL: &[MessageSpec]` listing them, which the tests
/// check against the catalogues.
macro_rules! messages {
    ($( $(#[$doc:meta])* $name:ident = $id:literal $(( $($parameter:ident),+ $(,)? ))? ; )*) => {
        $(
            $(#[$doc])*
            #[doc = concat!("\n\nCatalogue id: `", $id, "`.")]
            pub fn $name($($($parameter: impl ::std::fmt::Display),+)?) -> $crate::domain::message::Message {
                $crate::domain::message::Message::declared(
                    $id,
                    vec![$($((stringify!($parameter), $parameter.to_string())),+)?],
                )
            }
        )*

        /// Every message declared here, for the tests that hold each one to
        /// its sentences.
        pub const ALL: &[$crate::domain::message::MessageSpec] = &[
            $($crate::domain::message::MessageSpec {
                id: $id,
                parameters: &[$($(stringify!($parameter)),+)?],
            }),*
        ];
    };
}

pub(crate) use messages;

#[cfg(test)]
mod tests {
    use super::*;

    mod sample {
        super::messages! {
            plain = "sample-plain";
            sized = "sample-sized" (min, max);
        }
    }

    #[test]
    fn declared_messages_carry_their_arguments_and_are_registered() {
        let sized = sample::sized(1, "200");
        assert_eq!(sized.id(), "sample-sized");
        assert_eq!(sized.arg("max"), Some("200"));
        assert_eq!(sized.to_string(), r#"sample-sized { min: "1", max: "200" }"#);
        assert_eq!(sample::plain().to_string(), "sample-plain");
        let registered: Vec<_> = sample::ALL.iter().map(|m| (m.id, m.parameters)).collect();
        assert_eq!(
            registered,
            [("sample-plain", &[][..]), ("sample-sized", &["min", "max"][..])]
        );
    }
}
