//! Every message the domain refuses a command with: what is wrong with a
//! field (`field-…`), which rule refuses it (`rule-…`), and why a change
//! may not take or start in a window (`window-…`). The words are in the
//! catalogues (`src/http/i18n/*.ftl`), one sentence per id in each
//! language; see [`crate::domain::message`].

use super::message::messages;

messages! {
    // Any field.
    field_empty = "field-empty";
    field_length = "field-length" (min, max, length);
    field_control_characters = "field-control-characters";
    field_range = "field-range" (min, max);
    field_between = "field-between" (min, max);
    field_more_than_zero = "field-more-than-zero";
    field_one_or_more = "field-one-or-more";
    field_too_many_items = "field-too-many-items" (max, count);
    field_item_count = "field-item-count" (min, max, count);
    field_listed_twice = "field-listed-twice" (item);

    // Times and windows.
    field_unknown_time_zone = "field-unknown-time-zone" (name);
    field_time_shape = "field-time-shape";
    field_time_ambiguous = "field-time-ambiguous" (time, time_zone, earlier, later);
    field_time_skipped = "field-time-skipped" (time, time_zone);
    field_end_not_after_start = "field-end-not-after-start";
    field_window_too_long = "field-window-too-long" (days);
    field_window_over = "field-window-over";
    field_freeze_over = "field-freeze-over";

    // Complaints.
    field_give_contact = "field-give-contact";
    field_give_name_or_contact = "field-give-name-or-contact";
    field_phone = "field-phone";
    field_email_length = "field-email-length" (max, length);
    field_email = "field-email";
    field_give_team_or_assignee = "field-give-team-or-assignee";
    field_give_correction = "field-give-correction";
    field_another_person_name = "field-another-person-name";
    field_another_person_details = "field-another-person-details";
    field_subject_only_for_another_person = "field-subject-only-for-another-person";
    field_reseal_nothing = "field-reseal-nothing";
    field_reseal_replaces_twice = "field-reseal-replaces-twice";
    rule_complaint_already_assigned = "rule-complaint-already-assigned";
    rule_satisfaction_already_recorded = "rule-satisfaction-already-recorded";
    rule_priority_unchanged = "rule-priority-unchanged" (priority);
    rule_already_sealed_under_subject = "rule-already-sealed-under-subject";
    rule_complainant_record_unavailable = "rule-complainant-record-unavailable";
    rule_correction_changes_nothing = "rule-correction-changes-nothing";

    // Faults.
    field_severity_one_needs_technician = "field-severity-one-needs-technician";
    field_repair_ends_before_start = "field-repair-ends-before-start";
    field_repair_in_future = "field-repair-in-future";
    field_no_such_action_item = "field-no-such-action-item" (item, count);
    rule_already_escalated = "rule-already-escalated" (fault);
    rule_not_the_evaluator = "rule-not-the-evaluator" (evaluator);
    rule_fault_has_no_evaluator = "rule-fault-has-no-evaluator";
    rule_already_the_technician = "rule-already-the-technician" (technician);
    rule_investigation_needs_technician = "rule-investigation-needs-technician";
    rule_close_needs_fault_review = "rule-close-needs-fault-review";
    rule_fault_review_written = "rule-fault-review-written";
    rule_no_fault_review = "rule-no-fault-review";
    rule_action_item_done = "rule-action-item-done" (item);
    rule_no_such_repair = "rule-no-such-repair" (repair, count);
    rule_repair_already_voided = "rule-repair-already-voided" (repair);
    rule_affected_service_unchanged = "rule-affected-service-unchanged" (service);

    // Changes, their windows and freezes.
    field_not_a_fault = "field-not-a-fault" (number, kind);
    field_give_amendment = "field-give-amendment";
    field_canary_needs_percent = "field-canary-needs-percent";
    field_percent_only_for_canary = "field-percent-only-for-canary" (step);
    field_withdrawal_needs_reason = "field-withdrawal-needs-reason";
    field_override_needs_reason = "field-override-needs-reason";
    rule_standard_change_pre_approved = "rule-standard-change-pre-approved";
    rule_requester_cannot_approve = "rule-requester-cannot-approve";
    rule_requester_cannot_reject = "rule-requester-cannot-reject";
    rule_change_has_no_plan = "rule-change-has-no-plan";
    rule_already_approved_by_you = "rule-already-approved-by-you";
    rule_already_the_assignee = "rule-already-the-assignee" (assignee);
    rule_emergency_needs_no_authorisation = "rule-emergency-needs-no-authorisation";
    rule_requester_cannot_authorise = "rule-requester-cannot-authorise";
    rule_start_already_authorised = "rule-start-already-authorised" (by, at);
    rule_rollout_ended = "rule-rollout-ended" (step);
    rule_canary_must_grow = "rule-canary-must-grow" (previous, percent);
    rule_complete_needs_final_step = "rule-complete-needs-final-step";
    rule_close_needs_change_review = "rule-close-needs-change-review" (change_type);
    rule_emergency_close_needs_approval = "rule-emergency-close-needs-approval";
    rule_scheduled_without_window = "rule-scheduled-without-window" (change);
    rule_no_such_freeze = "rule-no-such-freeze" (id);
    rule_freeze_already_lifted = "rule-freeze-already-lifted" (id);
    window_in_freeze_on_service = "window-in-freeze-on-service" (id, reason, start, end, service);
    window_in_freeze_everywhere = "window-in-freeze-everywhere" (id, reason, start, end);
    window_taken = "window-taken" (changes);
    window_not_yet_open = "window-not-yet-open" (change, start, end, time_zone, now);
    window_closed = "window-closed" (change, start, end, time_zone, now);
    window_frozen_on_service = "window-frozen-on-service" (id, reason, service, start, end, change);
    window_frozen_everywhere = "window-frozen-everywhere" (id, reason, start, end, change);

    // Business calendars.
    field_calendar_code = "field-calendar-code";
    field_time_of_day = "field-time-of-day";
    field_hours_overlap = "field-hours-overlap" (start);
    field_calendar_never_works = "field-calendar-never-works";
    field_workday_is_holiday = "field-workday-is-holiday" (date);
    field_after_covers_until = "field-after-covers-until" (covers_until);
    rule_calendar_unchanged = "rule-calendar-unchanged";
    rule_calendar_code_taken = "rule-calendar-code-taken" (code);

    // Service-level policies.
    field_sla_resolution_before_response = "field-sla-resolution-before-response" (first_response_minutes);
    field_sla_unknown_calendar = "field-sla-unknown-calendar" (code);
    rule_sla_policy_unchanged = "rule-sla-policy-unchanged";

    // Links between tickets, and the tickets a command names.
    field_relation_not_requestable = "field-relation-not-requestable" (allowed, relation, inverse);
    field_not_a_ticket_reference = "field-not-a-ticket-reference" (reference);
    rule_link_to_itself = "rule-link-to-itself";
    rule_already_linked = "rule-already-linked" (this, relation, other);
    rule_not_linked = "rule-not-linked" (this, other);

    // Data subjects.
    field_merge_into_itself = "field-merge-into-itself";
    rule_subject_already_erased = "rule-subject-already-erased";
    rule_subject_erased = "rule-subject-erased";
    // Said of a subject a field names, and of one a path names.
    no_such_subject = "no-such-subject" (subject);
    subject_gone = "subject-gone" (subject, marker);
}
