//! Every message the HTTP layer words a problem with: the `detail` of each
//! kind of problem, and what is wrong with a query parameter, a header or
//! the shape of a body. The domain's own refusals are in
//! [`crate::domain::messages`]; the words of both are in the catalogues
//! (`i18n/*.ftl`).

use crate::domain::message::messages;

messages! {
    // The detail of the kinds whose detail is the same every time, but
    // for its numbers.
    invalid_query = "problem-invalid-query-detail" (count);
    validation_failed = "problem-validation-failed-detail" (count);
    forbidden = "problem-forbidden-detail" (permission);
    method_not_allowed = "problem-method-not-allowed-detail";
    invalid_transition = "problem-invalid-transition-detail" (aggregate, state, command);
    payload_too_large = "problem-payload-too-large-detail" (limit);
    idempotency_key_reused = "problem-idempotency-key-reused-detail";
    idempotency_in_progress = "problem-idempotency-in-progress-detail";
    precondition_required = "problem-precondition-required-detail";
    internal = "problem-internal-detail";
    /// What a permission lets one do, by its key; the forbidden detail
    /// says it.
    permission_name = "permission-name" (permission);

    // Not found.
    no_such_ticket = "not-found-ticket";
    no_ticket_named = "not-found-ticket-named" (reference);
    no_readable_ticket_named = "not-found-readable-ticket-named" (reference);
    no_such_kind = "not-found-kind" (kind);
    no_ticket_yet = "not-found-ticket-not-yet";
    no_freeze_window = "not-found-freeze-window" (id);
    no_business_calendar = "not-found-business-calendar" (id);
    no_such_resource = "not-found-resource";

    // Preconditions.
    changed_by_another_request = "precondition-changed-by-another-request";
    stale_if_match = "precondition-stale-if-match";
    lost_race = "precondition-lost-race";
    weak_entity_tag = "precondition-weak-entity-tag";

    // Authentication.
    authorization_missing = "unauthenticated-authorization-missing";
    authorization_not_text = "unauthenticated-authorization-not-text";
    authorization_not_bearer = "unauthenticated-authorization-not-bearer";
    /// `reason` is the token library's name for what failed, such as
    /// `ExpiredSignature`; the catalogues word the common ones.
    token_invalid = "unauthenticated-token-invalid" (reason);
    token_without_claim = "unauthenticated-token-without-claim" (claim);
    token_undecodable = "unauthenticated-token-undecodable" (cause);
    token_without_kid = "unauthenticated-token-without-kid";
    token_unknown_kid = "unauthenticated-token-unknown-kid" (kid);
    token_empty_sub = "unauthenticated-token-empty-sub";
    token_without_iss = "unauthenticated-token-without-iss";
    token_exp_not_integer = "unauthenticated-token-exp-not-integer";
    metrics_token_required = "unauthenticated-metrics-token-required";

    // Headers, media types and bodies.
    header_not_text = "bad-request-header-not-text" (name);
    header_token_shape = "bad-request-header-token-shape" (name, max);
    last_event_id = "bad-request-last-event-id";
    body_unreadable = "bad-request-body-unreadable" (cause);
    /// An error the web framework found by itself, in its own words.
    framework_refused = "bad-request-framework" (cause);
    request_invalid = "bad-request-invalid";
    content_type_missing = "unsupported-media-type-missing";
    content_type_unsupported = "unsupported-media-type-unsupported" (content_type);
    media_type_unsupported = "unsupported-media-type-other";
    /// `reason` is a code of [`crate::http::body`]'s table of JSON syntax
    /// errors, or the parser's own words for one it does not know.
    body_not_json = "malformed-body-not-json" (reason, line, column);

    // Services it depends on.
    database_unavailable = "unavailable-database" (cause);
    database_busy = "unavailable-database-busy";
    /// The SLA policy or a calendar changed under every retry of a command.
    decided_from_moving_streams = "unavailable-decided-from-moving-streams";
    migration_history_unreadable = "unavailable-migration-history" (cause);
    migrations_pending = "unavailable-migrations-pending";
    service_unavailable = "unavailable-service";

    // Fields of a body as JSON reads them: in the words of serde, which
    // names types and values as Rust does.
    field_missing = "field-missing" (field);
    field_unknown = "field-unknown" (field, expected);
    field_unknown_none_expected = "field-unknown-none-expected" (field);
    field_unknown_variant = "field-unknown-variant" (variant, expected);
    field_invalid_type = "field-invalid-type" (found, expected);
    field_invalid_value = "field-invalid-value" (found, expected);
    field_invalid_length = "field-invalid-length" (length, expected);
    field_duplicate = "field-duplicate" (field);
    field_member_given_twice = "field-member-given-twice" (name);
    field_not_uuid = "field-not-uuid" (cause);
    /// A value a type refused in its own words (a date, say).
    field_unreadable = "field-unreadable" (cause);

    // Query parameters.
    field_zero_or_more = "field-zero-or-more";
    field_too_large = "field-too-large";
    field_uuid = "field-uuid";
    field_instant = "field-instant";
    field_one_of = "field-one-of" (allowed);
    field_calendar_span = "field-calendar-span";
    field_foreign_cursor = "field-foreign-cursor";
    field_foreign_queue_cursor = "field-foreign-queue-cursor";
    field_give_one_contact = "field-give-one-contact";
    field_give_at_most_one_cut = "field-give-at-most-one-cut";
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::domain::permissions::MATRIX;
    use crate::http::i18n::{self, Language, Parameters};

    /// Every message a client can be refused with, from both registries.
    fn declared() -> impl Iterator<Item = &'static crate::domain::message::MessageSpec> {
        crate::domain::messages::ALL.iter().chain(super::ALL)
    }

    #[test]
    fn every_declared_message_is_said_in_both_languages_with_exactly_its_parameters() {
        let catalogue = i18n::catalogue();
        let mut ids = BTreeSet::new();
        for message in declared() {
            assert!(ids.insert(message.id), "{} is declared twice", message.id);
            let declared: BTreeSet<String> = message.parameters.iter().map(|p| (*p).to_owned()).collect();
            // Each parameter stands for itself, so the sentence shows where it went.
            let arguments: Parameters = message
                .parameters
                .iter()
                .map(|p| ((*p).to_owned(), format!("<{p}>")))
                .collect();
            for language in Language::ALL {
                let tag = language.tag();
                assert_eq!(
                    catalogue.parameters(language, message.id),
                    Some(&declared),
                    "{} ({tag}) is missing or names other parameters than the code gives it",
                    message.id
                );
                let said = catalogue.render(language, message.id, &arguments).unwrap_or_default();
                assert!(
                    !said.is_empty() && !said.contains('{'),
                    "{} ({tag}) says {said:?}",
                    message.id
                );
                for parameter in message.parameters {
                    assert!(
                        said.contains(&format!("<{parameter}>")),
                        "{} ({tag}) drops ${parameter}",
                        message.id
                    );
                }
            }
        }
    }

    #[test]
    fn a_refused_command_is_worded_by_its_aggregate_state_and_command() {
        let catalogue = i18n::catalogue();
        let refused = super::invalid_transition("complaint", "filed", "record satisfaction for");
        assert_eq!(
            catalogue.say(Language::En, &refused),
            "cannot record satisfaction for a complaint that is filed"
        );
        assert_eq!(
            catalogue.say(Language::ZhCn, &refused),
            "投诉当前为“已登记”状态，不能记录满意度"
        );
        let refused = super::invalid_transition("change", "scheduled", "authorise an out-of-window start of");
        assert_eq!(
            catalogue.say(Language::ZhCn, &refused),
            "变更当前为“已排期”状态，不能授权在窗口之外开始实施"
        );
        // A state or command the catalogue does not know reads as the code names it.
        let refused = super::invalid_transition("change", "paused", "resume");
        assert_eq!(
            catalogue.say(Language::ZhCn, &refused),
            "变更当前为“paused”状态，不能恢复处理"
        );
    }

    #[test]
    fn the_permission_names_are_the_permission_matrix_s_in_english_and_translated_in_chinese() {
        let catalogue = i18n::catalogue();
        for grant in MATRIX {
            let name = |language| catalogue.say(language, &super::permission_name(grant.permission.key()));
            assert_eq!(name(Language::En), grant.name, "{}", grant.permission.key());
            let chinese = name(Language::ZhCn);
            assert!(
                chinese != grant.name && chinese != grant.permission.key(),
                "{} has no Chinese name",
                grant.permission.key()
            );
        }
    }
}
