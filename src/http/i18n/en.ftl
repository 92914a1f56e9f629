# English messages: one sentence per event type (`event-<type>`, the dots
# and underscores of the type as hyphens), rendered on read with the
# event's payload as parameters (nested members joined with `_`, lists as
# `<name>_count`, a member left out or null as `none`), `$actor` (who
# caused it) and `$number` (the ticket);
# then the titles and details of problems (`problem-<kind>`).
# zh-CN.ftl has the same messages with the same parameters; a test checks.

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
event-subject-erased = { $actor } erased a data subject's personal data: { $reason }
event-subject-merged = { $actor } merged a data subject into another: { $reason }
event-subject-repaired = { $actor } repaired a data subject: { $reason }

## Problems: the title of each kind (`problem-<kind>`), and the detail of the
## kinds whose detail is the same sentence every time (`problem-<kind>-detail`)

problem-bad-request = Bad request
problem-malformed-body = Malformed request body
problem-invalid-query = Invalid query parameters
problem-invalid-query-detail = the query has { $count } invalid parameter(s)
problem-unauthenticated = Authentication required
problem-forbidden = Not permitted
problem-not-found = Not found
problem-method-not-allowed = Method not allowed
problem-method-not-allowed-detail = the method is not allowed on this resource
problem-invalid-transition = Not allowed in the current state
problem-rule-violated = Refused by a business rule
problem-schedule-conflict = The window is taken
problem-outside-change-window = Outside the change's window
problem-change-frozen = Inside a freeze window
problem-precondition-failed = The ticket has changed
problem-payload-too-large = Request body too large
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
