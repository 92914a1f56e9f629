# English messages: one sentence per event type (`event-<type>`, the dots
# and underscores of the type as hyphens), rendered on read with the
# event's payload as parameters (nested members joined with `_`, lists as
# `<name>_count`, a member left out or null as `none`), `$actor` (who
# caused it) and `$number` (the ticket);
# then the titles of problems (`problem-<kind>`) and every message a
# problem's `detail` or an invalid field's `detail` says, each declared in
# the code with its parameters (`domain::messages`, `http::messages`).
# zh-CN.ftl has the same messages with the same parameters; tests check
# both against the code.

## Complaints

event-complaint-filed = { $actor } filed complaint { $number } from { $complainant_name } by { $channel }: “{ $title }” (category { $category }, priority { $priority })
event-complaint-acknowledged = { $message ->
    [none] { $actor } acknowledged the complaint
   *[other] { $actor } acknowledged the complaint and told the complainant: “{ $message }”
}
event-complaint-assigned = { $assignee ->
    [none] { $actor } assigned the complaint to team { $team }
   *[other] { $team ->
        [none] { $actor } assigned the complaint to { $assignee }
       *[other] { $actor } assigned the complaint to { $assignee } (team { $team })
    }
}
event-complaint-note-added = { $visibility ->
    [complainant] { $actor } sent the complainant an update: “{ $body }”
   *[other] { $actor } added an internal note: “{ $body }”
}
event-complaint-waiting-on-customer = { $actor } is waiting on the customer: { $reason }
event-complaint-resumed = { $actor } resumed work on the complaint
event-complaint-resolved = { $root_cause ->
    [none] { $actor } resolved the complaint: { $resolution }
   *[other] { $actor } resolved the complaint: { $resolution } (root cause: { $root_cause })
}
event-complaint-satisfaction-recorded = { $actor } recorded the complainant's satisfaction: { $rating } of 5
event-complaint-closed = { $actor } closed the complaint
event-complaint-reopened = { $actor } reopened the complaint: { $reason }
event-complaint-escalated = { $actor } escalated the complaint to fault { $fault_number }
event-complaint-linked-fault-resolved = Linked fault { $fault_number } was resolved: { $resolution }
event-complaint-linked-fault-reopened = Linked fault { $fault_number } was reopened: { $reason }
event-complaint-personal-data-resealed = The complainant's personal data was sealed again ({ $values_count } values): { $reseal_reason }
event-complaint-details-corrected = { $actor } corrected the complaint's record (what it replaced is in the changes): { $reason }
event-complaint-priority-changed = { $actor } changed the priority from { $from } to { $to }: { $reason }
event-complaint-linked = { $actor } linked this ticket to { $other_number } ({ $relation })
event-complaint-unlinked = { $actor } removed the link to { $other_number }: { $reason }

## Faults

event-fault-reported = { $actor } reported fault { $number } on { $affected_service } (detected by { $detected_by }): “{ $title }”
event-fault-triaged = { $actor } triaged the fault as severity { $severity }
event-fault-technician-assigned = { $actor } assigned technician { $technician }
event-fault-evaluated = { $actor } evaluated the fault: { $nature }, about { $estimated_effort_minutes } minutes of work
event-fault-investigation-started = { $actor } started investigating the fault
event-fault-mitigated = { $actor } mitigated the fault: { $workaround }
event-fault-repair-logged = { $actor } logged a { $maintenance_type } repair by { $technician }: { $action_taken } ({ $person_minutes } person-minutes)
event-fault-resolved = { $actor } resolved the fault: { $resolution } (root cause: { $root_cause })
event-fault-review-written = { $actor } wrote the post-incident review: { $summary }
event-fault-action-item-completed = { $actor } completed an action item of the review
event-fault-closed = { $actor } closed the fault
event-fault-reopened = { $actor } reopened the fault: { $reason }
event-fault-note-added = { $actor } added a note: “{ $body }”
event-fault-repair-voided = { $actor } voided repair { $repair } as recorded in error: { $reason }
event-fault-affected-service-corrected = { $actor } corrected the affected service from { $from } to { $to }: { $reason }
event-fault-linked = { $actor } linked this ticket to { $other_number } ({ $relation })
event-fault-unlinked = { $actor } removed the link to { $other_number }: { $reason }

## Changes

event-change-drafted = { $actor } drafted { $change_type } change { $number }: “{ $title }”
event-change-amended = { $actor } amended the change
event-change-submitted = { $actor } submitted the change
event-change-assessed = { $actor } assessed the change as { $risk } risk
event-change-plan-amended = { $actor } amended the plan ({ $risk } risk)
event-change-approved = { $actor } approved the change: { $comment }
event-change-rejected = { $actor } rejected the change: { $comment }
event-change-assigned = { $actor } assigned the change to { $assignee }
event-change-scheduled = { $actor } scheduled the change from { $start } to { $end } ({ $time_zone })
event-change-unscheduled = { $actor } took the change off the calendars: { $reason }
event-change-start-authorised = { $actor } authorised starting the change outside its window ({ $window_start } to { $window_end }): { $reason }
event-change-implementation-started = { $actor } started implementing the change
event-change-rollout-step-recorded = { $kind ->
    [canary] { $actor } rolled the change out to { $percent } %
    [blue_green_switch] { $actor } switched the traffic over (blue-green)
   *[other] { $actor } rolled the change out in full
}
event-change-completed = { $actor } completed the change
event-change-rolled-back = { $actor } rolled the change back: { $reason }
event-change-failed = { $actor } recorded the change as failed: { $reason }
event-change-reviewed = { $actor } reviewed the change: { $outcome }
event-change-closed = { $actor } closed the change
event-change-note-added = { $actor } added a note: “{ $body }”
event-change-linked = { $actor } linked this ticket to { $other_number } ({ $relation })
event-change-unlinked = { $actor } removed the link to { $other_number }: { $reason }

## Calendars, freeze windows and data subjects (not tickets, but in the log)

event-calendar-booked = { $actor } booked { $change_number } on { $service } from { $start } to { $end }
event-calendar-released = { $actor } released { $change_number } from { $service }: { $reason }
event-freeze-declared = { $actor } declared a freeze from { $start } to { $end } ({ $time_zone }): { $reason }
event-freeze-lifted = { $actor } lifted freeze window { $id }: { $reason }
event-business-calendar-defined = { $actor } defined business calendar { $code }, “{ $definition_name }” in { $definition_time_zone }, with { $definition_holidays_count } holidays and { $definition_workdays_count } make-up workdays
event-business-calendar-amended = { $actor } amended business calendar “{ $definition_name }” in { $definition_time_zone }: now { $definition_holidays_count } holidays and { $definition_workdays_count } make-up workdays

## Service levels

event-sla-clocks-pinned = Service-level clocks pinned ({ $cause }) under policy version { $policy_version } on calendar { $calendar_code } (version { $calendar_version }): first response due { $first_response_due_at }, resolution due { $resolution_due_at }
event-sla-clocks-paused = Service-level clocks paused while waiting on the customer (calendar { $calendar_code })
event-sla-clocks-resumed = Service-level clocks resumed: first response due { $first_response_due_at }, resolution due { $resolution_due_at }
event-sla-clock-stopped = { $met ->
    [true] The { $target } clock (cycle { $cycle }) stopped within its target
    [false] The { $target } clock (cycle { $cycle }) stopped after its target
   *[other] The { $target } clock (cycle { $cycle }) stopped
}
event-sla-policy-amended = { $actor } amended the service-level policy: { $reason }
event-subject-erased = { $actor } erased a data subject's personal data: { $reason }
event-subject-merged = { $actor } merged a data subject into another: { $reason }
event-subject-repaired = { $actor } repaired a data subject: { $reason }

## Problems: the title of each kind (`problem-<kind>`), and the detail of the
## kinds whose detail is the same sentence every time but for its numbers
## (`problem-<kind>-detail`). The other details, and the detail of each
## invalid field, follow: one message each, declared in the code
## (`domain::messages`, `http::messages`).

problem-bad-request = Bad request
problem-malformed-body = Malformed request body
problem-invalid-query = Invalid query parameters
problem-invalid-query-detail = the query has { $count } invalid parameter(s)
problem-unauthenticated = Authentication required
problem-forbidden = Not permitted
problem-forbidden-detail = this requires the permission to { permission-name }
problem-not-found = Not found
problem-method-not-allowed = Method not allowed
problem-method-not-allowed-detail = the method is not allowed on this resource
problem-invalid-transition = Not allowed in the current state
problem-invalid-transition-detail = cannot { $command } a { $aggregate } that is { $state }
problem-rule-violated = Refused by a business rule
problem-schedule-conflict = The window is taken
problem-outside-change-window = Outside the change's window
problem-change-frozen = Inside a freeze window
problem-precondition-failed = The ticket has changed
problem-payload-too-large = Request body too large
problem-payload-too-large-detail = the request body exceeds the limit of { $limit } bytes
problem-unsupported-media-type = Unsupported media type
problem-validation-failed = Invalid request
problem-validation-failed-detail = the request has { $count } invalid field(s)
problem-idempotency-key-reused = Idempotency key reused
problem-idempotency-key-reused-detail = this Idempotency-Key was already used for a different request
problem-idempotency-in-progress = Request in progress
problem-idempotency-in-progress-detail = a request with this Idempotency-Key is still in progress; retry shortly
problem-precondition-required = If-Match required
problem-precondition-required-detail = this request changes state and must carry If-Match with the ticket's current ETag
problem-unavailable = Service unavailable
problem-internal = Internal server error
problem-internal-detail = an internal error occurred

## What each permission lets one do, by its key (the permission matrix's words)

permission-name = { $permission ->
    [ticket_read] read complaints; lists and histories of readable tickets
    [pii_read] see personal data in clear, and the data subject it belongs to; name a subject when filing
    [complaint_file] file a complaint
    [complaint_handle] acknowledge, wait, resume, resolve, rate, close, reopen a complaint; correct its record, change its priority
    [complaint_assign] assign a complaint
    [complaint_note] add a note or progress update to a complaint
    [fault_read] read every fault
    [fault_read_linked] read the faults linked to a complaint
    [complaint_escalate] escalate a complaint into a fault
    [fault_report] report a fault
    [fault_triage] triage a fault, assign its technician
    [fault_work] evaluate, investigate, mitigate, resolve, close, reopen a fault; log and void repairs; correct its affected service; write reviews
    [ticket_link] link two tickets one may read
    [subject_admin] find data subjects by contact; export, erase or merge them
    [audit_read] read the personal-data access log (subject ids included), verify the log
    [events_read] follow the event feed, filtered by what one may read (every ticket reader may too)
    [events_read_all] follow the whole event feed unfiltered: every stream, gap-free
    [change_read] read changes and the change calendar
    [change_request] draft, amend, submit a change; add notes to it
    [change_assess] assess a change, amend its plan
    [change_approve] approve or reject a change
    [change_schedule] schedule, unschedule, assign a change; authorise a start outside its window
    [change_implement] implement, roll out, complete, roll back, fail, review, close a change
    [freeze_manage] declare and lift freeze windows
    [business_calendar_manage] define and amend business calendars (working hours, holidays, make-up workdays)
    [sla_policy_manage] amend the service-level policy (response and resolution targets, calendars, warning thresholds)
   *[other] { $permission }
}

## Not found

not-found-ticket = no such ticket
not-found-ticket-named = no ticket "{ $reference }"
not-found-readable-ticket-named = there is no ticket "{ $reference }" that you may read
not-found-kind = no such { $kind }
not-found-ticket-not-yet = the ticket did not exist yet at that point
not-found-freeze-window = no freeze window { $id }
not-found-business-calendar = no business calendar { $id }
not-found-resource = no such resource
no-such-subject = no data subject { $subject }

## Preconditions

precondition-changed-by-another-request = the ticket was changed by another request; reload it and retry
precondition-stale-if-match = If-Match does not name the ticket's current version; reload it and retry
precondition-lost-race = another request changed the ticket first; reload it and retry
precondition-weak-entity-tag = weak entity tags never match If-Match

## Authentication

unauthenticated-authorization-missing = the Authorization header is missing: send `Authorization: Bearer <token>`
unauthenticated-authorization-not-text = the Authorization header is not valid text
unauthenticated-authorization-not-bearer = the Authorization header must use the Bearer scheme
unauthenticated-token-invalid = the bearer token is invalid: { $reason }
unauthenticated-token-without-claim = the bearer token is invalid: Missing required claim: { $claim }
unauthenticated-token-undecodable = the bearer token is invalid: { $cause }
unauthenticated-token-without-kid = the bearer token is invalid: the token has no kid
unauthenticated-token-unknown-kid = the bearer token is invalid: unknown kid "{ $kid }"
unauthenticated-token-empty-sub = the bearer token is invalid: empty sub
unauthenticated-token-without-iss = the bearer token is invalid: missing iss
unauthenticated-token-exp-not-integer = the bearer token is invalid: exp is not an integer
unauthenticated-metrics-token-required = /metrics requires the metrics bearer token

## Headers, media types and bodies

bad-request-header-not-text = the { $name } header is not valid text
bad-request-header-token-shape = the { $name } header must be 1 to { $max } visible ASCII characters
bad-request-last-event-id = Last-Event-ID must be a position (0 or more)
bad-request-body-unreadable = the request body could not be read: { $cause }
bad-request-framework = { $cause }
bad-request-invalid = the request is invalid
unsupported-media-type-missing = the request has no Content-Type; send application/json
unsupported-media-type-unsupported = Content-Type "{ $content_type }" is not supported; send application/json
unsupported-media-type-other = unsupported media type
malformed-body-not-json = the request body is not valid JSON: { $reason ->
    [eof-list] EOF while parsing a list
    [eof-object] EOF while parsing an object
    [eof-string] EOF while parsing a string
    [eof-value] EOF while parsing a value
    [expected-colon] expected `:`
    [expected-comma-or-bracket] expected `,` or `]`
    [expected-comma-or-brace] expected `,` or `{ "}" }`
    [expected-ident] expected ident
    [expected-value] expected value
    [expected-quote] expected `"`
    [invalid-escape] invalid escape
    [invalid-number] invalid number
    [number-out-of-range] number out of range
    [invalid-unicode-code-point] invalid unicode code point
    [control-character] control character (\u0000-\u001F) found while parsing a string
    [key-must-be-a-string] key must be a string
    [lone-leading-surrogate] lone leading surrogate in hex escape
    [trailing-comma] trailing comma
    [trailing-characters] trailing characters
    [unexpected-end-of-hex-escape] unexpected end of hex escape
    [recursion-limit-exceeded] recursion limit exceeded
   *[other] { $reason }
} at line { $line } column { $column }

## Services the server depends on

unavailable-database = the database is unavailable: { $cause }
unavailable-database-busy = the database is busy: a lock was not granted in time
unavailable-decided-from-moving-streams = the service-level policy or a business calendar changed each time this request was decided; retry it
unavailable-migration-history = cannot read the migration history: { $cause }
unavailable-migrations-pending = database migrations are pending
unavailable-service = the service is unavailable

## Fields: what is wrong with the value at a pointer

field-empty = must not be empty
field-length = must be { $min } to { $max } characters long (is { $length })
field-control-characters = must not contain control characters
field-range = must be { $min } to { $max }
field-between = must be between { $min } and { $max }
field-more-than-zero = must be more than 0
field-one-or-more = must be 1 or more
field-zero-or-more = must be 0 or more
field-too-large = is too large
field-too-many-items = must have at most { $max } items (has { $count })
field-item-count = must have { $min } to { $max } items (has { $count })
field-listed-twice = { $item } is listed twice
field-one-of = must be one of { $allowed }
field-uuid = must be a UUID
field-instant = must be an RFC 3339 instant
field-unknown-time-zone = "{ $name }" is not an IANA time zone name (such as Asia/Shanghai or Europe/Berlin)
field-time-shape = must be an RFC 3339 time with an offset (2026-03-01T10:00:00+08:00) or a local time (2026-03-01T10:00) in the command's time_zone
field-time-ambiguous = { $time } happens twice in { $time_zone } (the clocks go back): give an offset, { $earlier } or { $later }
field-time-skipped = { $time } does not exist in { $time_zone } (the clocks go forward): give a time with an offset
field-end-not-after-start = must be after start
field-window-too-long = must be at most { $days } days after start
field-window-over = must be in the future
field-freeze-over = must be in the future: a freeze that is over protects nothing
field-calendar-code = must be 1 to 32 letters, digits, _ or -, starting with a letter or digit (such as CN or 24x7)
field-time-of-day = must be a time of day HH:MM, from 00:00 to 23:59 (an end may be 24:00)
field-hours-overlap = starts at { $start }, before the previous interval of the day ends: list a day's intervals in order, without overlaps
field-calendar-never-works = must give working hours on at least one day: a calendar without any would never let a target fall due
field-sla-resolution-before-response = must be at least the first-response target ({ $first_response_minutes } minutes)
field-sla-unknown-calendar = names no business calendar: { $code } is neither defined nor shipped
field-workday-is-holiday = { $date } is also listed as a holiday: a day is either a holiday or a make-up workday
field-after-covers-until = must not be after covers_until ({ $covers_until }): the calendar claims no data past that day
field-calendar-span = must be after `from` and at most 366 days later
field-foreign-cursor = is not a cursor this server issued
field-foreign-queue-cursor = is not a cursor of this queue
field-give-one-contact = give exactly one of phone, email or customer_ref
field-give-at-most-one-cut = give at most one of as_of, version and position

## Fields of a body as JSON reads them, in serde's terms: types and values
## are named as Rust names them

field-missing = missing field `{ $field }`
field-unknown = unknown field `{ $field }`, expected one of { $expected }
field-unknown-none-expected = unknown field `{ $field }`, there are no fields
field-unknown-variant = unknown variant `{ $variant }`, expected one of { $expected }
field-invalid-type = invalid type: { $found }, expected { $expected }
field-invalid-value = invalid value: { $found }, expected { $expected }
field-invalid-length = invalid length { $length }, expected { $expected }
field-duplicate = duplicate field `{ $field }`
field-member-given-twice = the member "{ $name }" is given more than once
field-not-uuid = UUID parsing failed: { $cause }
field-unreadable = { $cause }

## Complaints

field-give-contact = give at least one of phone, email or customer_ref
field-give-name-or-contact = give at least one of name, phone, email or customer_ref
field-phone = must be 3 to 32 characters of digits, spaces and + - ( ) ., with at least 3 digits
field-email-length = must be at most { $max } characters long (is { $length })
field-email = must be an email address such as name@example.com
field-give-team-or-assignee = give team, assignee or both
field-give-correction = give category, channel or complainant
field-another-person-name = another person is recorded with their name
field-another-person-details = another person needs their details
field-subject-only-for-another-person = a subject is named only for another person (another_person)
field-reseal-nothing = name at least one value to seal anew
field-reseal-replaces-twice = replaces a value named before
rule-complaint-already-assigned = the complaint is already assigned to that team and person
rule-satisfaction-already-recorded = satisfaction has already been recorded for this resolution
rule-priority-unchanged = the complaint's priority is { $priority } already
rule-already-sealed-under-subject = the complaint's personal data is already sealed under that subject
rule-complainant-record-unavailable = the complainant's recorded details were not available to compare with
rule-correction-changes-nothing = the correction changes nothing: every value given is the one recorded

## Faults

field-severity-one-needs-technician = a severity 1 fault needs a technician: give one, or assign one first
field-repair-ends-before-start = must be after started_at
field-repair-in-future = must not be in the future: only work that has finished can be logged
field-no-such-action-item = the review has no action item { $item } (it has { $count })
rule-already-escalated = the complaint has already been escalated to fault { $fault }
rule-not-the-evaluator = only the evaluator named at triage ({ $evaluator }) may evaluate this fault
rule-fault-has-no-evaluator = the fault has no evaluator; triage it first
rule-already-the-technician = { $technician } is already the fault's technician
rule-investigation-needs-technician = assign a technician before starting the investigation
rule-close-needs-fault-review = a severity 1 or 2 fault cannot be closed without a post-incident review
rule-fault-review-written = the fault already has a post-incident review
rule-no-fault-review = the fault has no post-incident review, so no action items
rule-action-item-done = action item { $item } is already done
rule-no-such-repair = the fault has no repair { $repair } (it has { $count })
rule-repair-already-voided = repair { $repair } is already voided
rule-affected-service-unchanged = the fault's affected service is { $service } already

## Changes, their windows and freezes

field-not-a-fault = { $number } is a { $kind }, not a fault
field-give-amendment = give at least one of title, description, affected_services, maintenance_type
field-canary-needs-percent = a canary step needs a percent
field-percent-only-for-canary = only canary steps take a percent; { $step } is all of it
field-withdrawal-needs-reason = is required to withdraw a change that was never implemented
field-override-needs-reason = is required with override_conflicts: say why the overlap is acceptable
rule-standard-change-pre-approved = standard changes are pre-approved
rule-requester-cannot-approve = the requester cannot approve their own change
rule-requester-cannot-reject = the requester cannot reject their own change
rule-change-has-no-plan = the change has no plan; assess it first
rule-already-approved-by-you = you have already approved this plan; a second approval needs someone else
rule-already-the-assignee = { $assignee } is already the change's assignee
rule-emergency-needs-no-authorisation = an emergency change may start at once; it needs no authorisation
rule-requester-cannot-authorise = the requester cannot authorise an out-of-window start of their own change
rule-start-already-authorised = an out-of-window start was already authorised by { $by } at { $at }
rule-rollout-ended = the rollout already ended with { $step }; nothing may follow a final step
rule-canary-must-grow = a canary step must reach more than the { $previous }% already rolled out (got { $percent }%)
rule-complete-needs-final-step = a change is complete only after a final rollout step (blue_green_switch or full_rollout)
rule-close-needs-change-review = a { $change_type } change needs a post-implementation review before it is closed
rule-emergency-close-needs-approval = an implemented emergency change cannot be closed before its retrospective approval
rule-scheduled-without-window = { $change } is scheduled but has no window
rule-no-such-freeze = there is no freeze window { $id }
rule-freeze-already-lifted = freeze window { $id } has already been lifted
rule-calendar-unchanged = the new definition is the same as the calendar's current one
rule-calendar-code-taken = a business calendar with the code { $code } already exists: amend it instead
rule-sla-policy-unchanged = the new table is the same as the policy's current one
window-in-freeze-on-service = the window falls in freeze window { $id } ({ $reason }), from { $start } to { $end } on { $service }; only emergency changes may be scheduled in a freeze
window-in-freeze-everywhere = the window falls in freeze window { $id } ({ $reason }), from { $start } to { $end } on every service; only emergency changes may be scheduled in a freeze
window-taken = the window overlaps the bookings of { $changes }; set override_conflicts and give an override_reason to book it anyway
window-not-yet-open = { $change } is scheduled from { $start } to { $end } ({ $time_zone }); it is now { $now }, before that window. Start it inside the window, reschedule it, or have a manager authorise an out-of-window start
window-closed = { $change } is scheduled from { $start } to { $end } ({ $time_zone }); it is now { $now }, after that window. Start it inside the window, reschedule it, or have a manager authorise an out-of-window start
window-frozen-on-service = freeze window { $id } ({ $reason }) forbids changes on { $service } from { $start } to { $end }; { $change } cannot start before it ends. Reschedule the change, or have the freeze lifted
window-frozen-everywhere = freeze window { $id } ({ $reason }) forbids changes on every service from { $start } to { $end }; { $change } cannot start before it ends. Reschedule the change, or have the freeze lifted

## Links between tickets, and the tickets a command names

field-relation-not-requestable = must be one of { $allowed }; { $relation } is recorded on the other ticket, ask for { $inverse } from there
field-not-a-ticket-reference = "{ $reference }" is neither a ticket id nor a ticket number
rule-link-to-itself = a ticket cannot be linked to itself
rule-already-linked = the tickets are already linked as { $this } { $relation } { $other }
rule-not-linked = { $this } and { $other } are not linked

## Data subjects

field-merge-into-itself = name another subject than the one merged
rule-subject-already-erased = this subject's personal data has already been erased
rule-subject-erased = the complainant's personal data was erased; no new personal data can be recorded about them
subject-gone = data subject { $subject } has no personal data any more ({ $marker })
