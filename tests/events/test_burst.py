"""A burst of registrations against a real server process loses and duplicates nothing."""

from sqlalchemy import func, select

from bench.event_burst import burst
from lms.plugins.events.models import Registration
from tests.events.eventtools import staff_with_event
from tests.factories import fresh


def test_burst_of_100_from_20_clients(live_server, client, db, settings):
    _, _, event = staff_with_event(client, db, settings)
    base = live_server(workers=2)
    result = burst(base, event.code, total=100, concurrency=20, retry_every=5)
    assert result.errors == [] and result.server_errors == 0, (result.errors[:3], result.statuses)
    assert result.statuses == {303: 120}  # 100 people + 20 retries, each answered with a ticket
    fresh(db)
    rows, phones = db.exec(select(func.count(), func.count(func.distinct(Registration.phone)))
                           .where(Registration.event_id == event.id)).one()
    assert rows == phones == 100


def test_forty_scanners_at_once_on_two_threads_all_answer(live_server, client, db, settings, make_client):
    """JSON check-ins from many phones at once, more than the database pool: a handler that has
    answered must give its connection back without waiting for a thread that waits for it."""
    import re
    import secrets
    import threading

    import httpx2 as httpx

    from tests.events.eventtools import register
    from tests.factories import PASSWORD

    places, staff, event = staff_with_event(client, db, settings)
    tokens = []
    for i in range(20):
        answer = register(make_client(), event, phone=f"09120{i:05d}", village=places.villages[0])
        tokens.append(answer.headers["location"].split("/t/")[1].split("?")[0])
    base = live_server(workers=1, LMS_WORKER_THREADS="2")
    scanner = httpx.Client(base_url=base, timeout=20, follow_redirects=False)
    token = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
    login_csrf = token.search(scanner.get("/login").text).group(1)
    assert scanner.post("/login", data={"phone": staff.phone, "password": PASSWORD,
                                        "csrf_token": login_csrf}).status_code == 303
    page = f"/staff/events/{event.id}/checkin"
    csrf_value = token.search(scanner.get(page).text).group(1)
    answers: list[object] = []

    def scan(ticket: str) -> None:
        with httpx.Client(base_url=base, timeout=20, cookies=scanner.cookies) as phone:
            try:
                response = phone.post(page, data={"csrf_token": csrf_value, "scan": ticket,
                                                  "nonce": secrets.token_hex(4)},
                                      headers={"accept": "application/json"})
                answers.append(response.json() if response.status_code == 200 else response.status_code)
            except httpx.TransportError as exc:
                answers.append(type(exc).__name__)

    threads = [threading.Thread(target=scan, args=(t,)) for t in tokens for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    scanner.close()
    assert all(isinstance(a, dict) for a in answers), [a for a in answers if not isinstance(a, dict)][:5]
    assert sum(a["first_time"] for a in answers) == 20  # each ticket once, whichever phone was first
    fresh(db)
    checked = db.exec(select(func.count()).select_from(Registration).where(
        Registration.event_id == event.id, Registration.checked_in_at.is_not(None))).scalar()
    assert checked == 20
