"""Drives a complaint through its lifecycle with a client generated from
openapi/openapi.json by openapi-python-client, as an integrator would:
no hand-written HTTP, every answer checked to arrive as its typed model.

Usage: drive.py BASE_URL AGENT_TOKEN MANAGER_TOKEN
(run by tests/api/generated_client.rs, with the client on PYTHONPATH)
"""

import sys
import uuid

from opsledger_client import AuthenticatedClient
from opsledger_client.api.complaints import (
    complaints_acknowledge,
    complaints_add_note,
    complaints_close,
    complaints_escalate,
    complaints_file,
    complaints_record_satisfaction,
    complaints_resolve,
)
from opsledger_client.api.tickets import tickets_get, tickets_history, tickets_list
from opsledger_client.models import (
    Acknowledge,
    AddNote,
    Channel,
    Close,
    Complainant,
    Complaint,
    ComplaintStatus,
    EscalateComplaint,
    Fault,
    FileComplaint,
    History,
    NoteVisibility,
    Prefer,
    Priority,
    Problem,
    Receipt,
    RecordSatisfaction,
    Resolve,
    TicketPage,
)


def expect(response, status, model):
    """The answer has `status` and arrives parsed as `model`."""
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(response.parsed, model), (type(response.parsed), response.content)
    return response.parsed


def main(base, agent_token, manager_token):
    agent = AuthenticatedClient(base_url=base, token=agent_token)

    filed = complaints_file.sync_detailed(
        client=agent,
        idempotency_key=str(uuid.uuid4()),
        body=FileComplaint(
            title="宽带反复断线",
            description="客户反映家中宽带每晚八点后断线，已持续一周。",
            channel=Channel.PHONE,
            complainant=Complainant(name="张伟", phone="+86 138 0013 8000"),
            category="broadband",
            priority=Priority.P2,
        ),
    )
    complaint = expect(filed, 201, Complaint)
    assert filed.headers["location"] == f"/v1/tickets/{complaint.id}"
    etag = filed.headers["etag"]
    print("filed", complaint.number, complaint.status)

    acknowledged = complaints_acknowledge.sync_detailed(
        str(complaint.id), client=agent, if_match=etag, body=Acknowledge(message="您好，我们已收到。")
    )
    assert expect(acknowledged, 200, Complaint).status == ComplaintStatus.ACKNOWLEDGED
    stale, etag = etag, acknowledged.headers["etag"]

    # A stale If-Match is refused with a typed problem and the current ETag.
    refused = complaints_resolve.sync_detailed(
        str(complaint.id), client=agent, if_match=stale, body=Resolve(resolution="重启光猫")
    )
    problem = expect(refused, 412, Problem)
    assert problem.type_ == "urn:opsledger:problem:precondition-failed", problem
    assert refused.headers["etag"] == etag

    # A note commutes: no If-Match. Asked for a minimal answer, the
    # server sends the ticket's receipt, typed as such.
    noted = complaints_add_note.sync_detailed(
        str(complaint.id),
        client=agent,
        body=AddNote(body="已派单", visibility=NoteVisibility.INTERNAL),
        prefer=Prefer.RETURNMINIMAL,
    )
    receipt = expect(noted, 200, Receipt)
    assert receipt.number == complaint.number and noted.headers["preference-applied"] == "return=minimal"
    etag = noted.headers["etag"]

    escalated = complaints_escalate.sync_detailed(
        str(complaint.id),
        client=agent,
        if_match=etag,
        body=EscalateComplaint(description="7 区光缆中断", affected_service="fibre"),
    )
    fault = expect(escalated, 201, Fault)
    etag = escalated.headers["complaint-etag"]
    print("escalated to", fault.number)

    resolved = complaints_resolve.sync_detailed(
        str(complaint.id), client=agent, if_match=etag, body=Resolve(resolution="更换分光器")
    )
    etag = expect(resolved, 200, Complaint) and resolved.headers["etag"]
    rated = complaints_record_satisfaction.sync_detailed(
        str(complaint.id), client=agent, if_match=etag, body=RecordSatisfaction(rating=5)
    )
    etag = expect(rated, 200, Complaint) and rated.headers["etag"]
    closed = complaints_close.sync_detailed(str(complaint.id), client=agent, if_match=etag, body=Close())
    assert expect(closed, 200, Complaint).status == ComplaintStatus.CLOSED

    manager = AuthenticatedClient(base_url=base, token=manager_token)
    view = expect(tickets_get.sync_detailed(str(complaint.id), client=manager), 200, Complaint)
    assert view.satisfaction is not None and view.satisfaction.rating == 5, view
    page = expect(tickets_list.sync_detailed(client=manager, limit=10), 200, TicketPage)
    kinds = sorted(type(item).__name__ for item in page.items)
    assert kinds == ["Complaint", "Fault"], kinds
    history = expect(tickets_history.sync_detailed(str(complaint.id), client=manager), 200, History)
    print("closed", complaint.number, "after", len(history.events), "events")


if __name__ == "__main__":
    main(*sys.argv[1:4])
