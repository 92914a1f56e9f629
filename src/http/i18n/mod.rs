//! The languages the API speaks: English and Chinese (zh-CN), chosen per
//! request by `Accept-Language` (q-values honoured), with a configurable
//! default. Messages are Project Fluent (`en.ftl`, `zh-CN.ftl`, compiled
//! in): one sentence per event type for the timeline (`event-<type>`), the
//! titles of problems (`problem-<kind>`), and every [`Message`] the domain
//! and the HTTP layer refuse a request with (their registries:
//! [`crate::domain::messages`], [`crate::http::messages`]).
//!
//! A translation may choose its words by a parameter that is a phrase of
//! the code's (such as the refused command, `record satisfaction for`):
//! `KEY($command)` makes it a variant key (`record_satisfaction_for`).
//!
//! Rendering is lenient about parameters on purpose: a message may name a
//! payload member that an event leaves out (an optional one), and gets
//! `none` for it, which its selectors test; the tests hold every
//! parameter a message names to the members its event type can have, in
//! both languages.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use actix_web::HttpRequest;
use actix_web::http::header::{AcceptLanguage, Header, Preference};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;

use crate::domain::Message;

/// A language the API speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    En,
    ZhCn,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::ZhCn];

    /// The BCP 47 tag, as `Content-Language` carries it.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::ZhCn => "zh-CN",
        }
    }

    /// The language of a tag or setting: `en…` or `zh…` (any region or
    /// script: Chinese is served in simplified characters).
    pub fn parse(tag: &str) -> Option<Language> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("en") {
            Some(Language::En)
        } else if primary.eq_ignore_ascii_case("zh") {
            Some(Language::ZhCn)
        } else {
            None
        }
    }

    /// The language a request asks for: the first of its `Accept-Language`
    /// ranges, by quality, that the API speaks; `default` for `*`, for
    /// none, or for a header that does not parse.
    pub fn of_request(req: &HttpRequest, default: Language) -> Language {
        let Ok(accepted) = AcceptLanguage::parse(req) else {
            return default;
        };
        for preference in accepted.ranked() {
            match preference {
                Preference::Any => return default,
                Preference::Specific(tag) => {
                    if let Some(language) = Language::parse(tag.primary_language()) {
                        return language;
                    }
                }
            }
        }
        default
    }
}

/// One language's messages, and the parameters each one names.
struct Messages {
    bundle: FluentBundle<FluentResource>,
    parameters: HashMap<String, BTreeSet<String>>,
}

/// Every message in every language.
pub struct Catalogue {
    en: Messages,
    zh: Messages,
}

const EN: &str = include_str!("en.ftl");
const ZH_CN: &str = include_str!("zh-CN.ftl");

/// The catalogue, parsed once.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| Catalogue {
        en: Messages::load(EN, unic_langid::langid!("en")),
        zh: Messages::load(ZH_CN, unic_langid::langid!("zh-CN")),
    })
}

impl Messages {
    /// Parses a catalogue compiled into this binary. A syntax error there is
    /// a defect of the build, which the tests catch, so it panics.
    fn load(source: &'static str, language: unic_langid::LanguageIdentifier) -> Messages {
        let resource = FluentResource::try_new(source.to_owned())
            .unwrap_or_else(|(_, errors)| panic!("{language} catalogue does not parse: {errors:?}"));
        let mut named = HashMap::new();
        for entry in resource.entries() {
            if let ast::Entry::Message(m) = entry {
                let mut names = Names::default();
                if let Some(pattern) = &m.value {
                    pattern_variables(pattern, &mut names);
                }
                named.insert(m.id.name.to_owned(), names);
            }
        }
        // A message that refers to another gives it its own arguments, so
        // it names the other's parameters too.
        let parameters = named
            .keys()
            .map(|id| {
                let mut variables = BTreeSet::new();
                let mut seen = BTreeSet::new();
                let mut pending = vec![id.as_str()];
                while let Some(next) = pending.pop() {
                    if !seen.insert(next) {
                        continue;
                    }
                    if let Some(names) = named.get(next) {
                        variables.extend(names.variables.iter().cloned());
                        pending.extend(names.messages.iter().map(String::as_str));
                    }
                }
                (id.clone(), variables)
            })
            .collect();
        let mut bundle = FluentBundle::new_concurrent(vec![language.clone()]);
        // Plain text, not bidirectional-isolated: sentences go into JSON,
        // CSV cells and logs, where the isolation marks would be noise.
        bundle.set_use_isolating(false);
        bundle
            .add_function("KEY", |positional, _| match positional {
                [FluentValue::String(phrase)] => FluentValue::from(variant_key(phrase)),
                _ => FluentValue::Error,
            })
            .unwrap_or_else(|e| panic!("{language} catalogue: {e:?}"));
        bundle
            .add_resource(resource)
            .unwrap_or_else(|errors| panic!("{language} catalogue has duplicate messages: {errors:?}"));
        Messages { bundle, parameters }
    }
}

/// A phrase as a Fluent variant key: lower case, with underscores for the
/// spaces and hyphens a key may not hold.
fn variant_key(phrase: &str) -> String {
    phrase.to_lowercase().replace([' ', '-'], "_")
}

/// What a pattern names: variables, through selectors and term arguments,
/// and other messages.
#[derive(Default)]
struct Names {
    variables: BTreeSet<String>,
    messages: BTreeSet<String>,
}

fn pattern_variables(pattern: &ast::Pattern<&str>, out: &mut Names) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, out);
        }
    }
}

fn expression_variables(expression: &ast::Expression<&str>, out: &mut Names) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, out);
            for variant in variants {
                pattern_variables(&variant.value, out);
            }
        }
        ast::Expression::Inline(inline) => inline_variables(inline, out),
    }
}

fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut Names) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            out.variables.insert(id.name.to_owned());
        }
        ast::InlineExpression::MessageReference { id, .. } => {
            out.messages.insert(id.name.to_owned());
        }
        ast::InlineExpression::FunctionReference { arguments, .. }
        | ast::InlineExpression::TermReference {
            arguments: Some(arguments),
            ..
        } => {
            for positional in &arguments.positional {
                inline_variables(positional, out);
            }
            for named in &arguments.named {
                inline_variables(&named.value, out);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, out),
        _ => {}
    }
}

/// What a message fills its parameters from.
pub type Parameters = HashMap<String, String>;

/// What a parameter the event left out reads as; selectors test for it.
pub const NONE: &str = "none";

impl Catalogue {
    fn messages(&self, language: Language) -> &Messages {
        match language {
            Language::En => &self.en,
            Language::ZhCn => &self.zh,
        }
    }

    /// Whether `id` is a message of `language`.
    pub fn has(&self, language: Language, id: &str) -> bool {
        self.messages(language).bundle.has_message(id)
    }

    /// The parameters message `id` names in `language`.
    pub fn parameters(&self, language: Language, id: &str) -> Option<&BTreeSet<String>> {
        self.messages(language).parameters.get(id)
    }

    /// Message `id` in `language` with `parameters`; a parameter it names
    /// that is not given reads [`NONE`]. `None` when there is no such
    /// message.
    pub fn render(&self, language: Language, id: &str, parameters: &Parameters) -> Option<String> {
        self.render_with(language, id, |name| {
            parameters.get(name).map(|v| Cow::Borrowed(v.as_str()))
        })
    }

    /// Message `id` in `language`, each parameter it names asked of
    /// `parameter` (so a caller works out only the values the sentence
    /// uses); one that gives nothing reads [`NONE`]. `None` when there is
    /// no such message.
    pub fn render_with<'p>(
        &self,
        language: Language,
        id: &str,
        parameter: impl Fn(&str) -> Option<Cow<'p, str>>,
    ) -> Option<String> {
        let messages = self.messages(language);
        let pattern = messages.bundle.get_message(id)?.value()?;
        let mut args = FluentArgs::new();
        for name in messages.parameters.get(id).into_iter().flatten() {
            let value = parameter(name).unwrap_or(Cow::Borrowed(NONE));
            args.set(name.as_str(), FluentValue::from(value));
        }
        let mut errors = Vec::new();
        let text = messages.bundle.format_pattern(pattern, Some(&args), &mut errors);
        Some(text.into_owned())
    }

    /// `message` in `language`: its sentence, with its arguments. One the
    /// catalogue lacks (the tests hold every declared message to be there)
    /// reads as its id and arguments rather than as nothing.
    pub fn say(&self, language: Language, message: &Message) -> String {
        let parameters: Parameters = message
            .args()
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        self.render(language, message.id(), &parameters)
            .unwrap_or_else(|| message.to_string())
    }

    /// Every message id of `language`.
    pub fn ids(&self, language: Language) -> impl Iterator<Item = &str> {
        self.messages(language).parameters.keys().map(String::as_str)
    }
}

/// The message id of an event type's sentence: `complaint.note_added` →
/// `event-complaint-note-added`.
pub fn event_message_id(event_type: &str) -> String {
    format!("event-{}", event_type.replace(['.', '_'], "-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn language_of(header: Option<&str>) -> Language {
        let mut req = TestRequest::default();
        if let Some(value) = header {
            req = req.insert_header(("Accept-Language", value));
        }
        Language::of_request(&req.to_http_request(), Language::En)
    }

    #[test]
    fn accept_language_picks_the_best_language_spoken_by_quality() {
        assert_eq!(language_of(None), Language::En);
        assert_eq!(language_of(Some("zh-CN")), Language::ZhCn);
        assert_eq!(language_of(Some("zh-Hans-CN,zh;q=0.9")), Language::ZhCn);
        assert_eq!(language_of(Some("en;q=0.4, zh-TW;q=0.8")), Language::ZhCn);
        assert_eq!(language_of(Some("fr, de;q=0.9, zh;q=0.2")), Language::ZhCn);
        assert_eq!(language_of(Some("fr, *;q=0.5")), Language::En, "the default");
        assert_eq!(language_of(Some("zh;q=0, en")), Language::En, "q=0 is refused");
        assert_eq!(language_of(Some(";;;")), Language::En, "garbage falls back");
    }

    #[test]
    fn both_catalogues_have_the_same_messages_with_the_same_parameters() {
        let c = catalogue();
        let en: BTreeSet<&str> = c.ids(Language::En).collect();
        let zh: BTreeSet<&str> = c.ids(Language::ZhCn).collect();
        assert_eq!(en, zh, "messages in one language only");
        for id in en {
            assert_eq!(
                c.parameters(Language::En, id),
                c.parameters(Language::ZhCn, id),
                "{id} names different parameters in the two languages"
            );
        }
    }

    #[test]
    fn a_missing_parameter_reads_none_and_selectors_test_for_it() {
        let c = catalogue();
        let mut p = Parameters::new();
        p.insert("actor".into(), "li.na".into());
        p.insert("resolution".into(), "更换光猫".into());
        let id = event_message_id("complaint.resolved");
        assert_eq!(
            c.render(Language::En, &id, &p).as_deref(),
            Some("li.na resolved the complaint: 更换光猫")
        );
        p.insert("root_cause".into(), "光猫老化".into());
        assert_eq!(
            c.render(Language::ZhCn, &id, &p).as_deref(),
            Some("li.na 解决了投诉：更换光猫（根本原因：光猫老化）")
        );
        assert_eq!(c.render(Language::En, "event-nothing", &p), None);
    }
}
