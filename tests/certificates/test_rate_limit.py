"""An office checks a whole class from one address; guessing codes and flooding are still stopped."""

import time

from fastapi.testclient import TestClient

from lms.app import create_app
from lms.core.models import Place
from lms.plugins.certificates import services
from lms.plugins.courses import services as courses
from tests.certificates.certtools import SLUG, completed_course
from tests.factories import make_user


def _class_of(client, db, settings, tmp_path, size: int) -> list[str]:
    """`size` learners of one commune, each with a certificate of the course."""
    user, first = completed_course(client, db, settings, tmp_path)
    course = courses.course_by_id(db, first.course_id)
    assert course.slug == SLUG
    village = db.get(Place, user.village_id)
    codes = [first.code]
    context = client.app.state.context
    for i in range(size - 1):
        learner = make_user(db, settings, village=village, name=f"Học Viên Số {i}")
        with context.transaction() as session:
            codes.append(services.issue(session, settings=context.settings, user_id=learner.id,
                                        course_id=course.id).code)
    return codes


def test_an_office_checks_a_class_of_40_from_one_address(client, db, settings, tmp_path, make_client):
    codes = _class_of(client, db, settings, tmp_path, 40)
    office = make_client()  # one browser, one address
    for code in codes:
        shown = services.display_code(code)
        assert office.get(f"/c/{shown}").status_code == 200, code
        assert office.get(f"/c/{shown}.json").status_code == 200, code
    # Guessing is limited as before: LMS_VERIFY_RATE_LIMIT unknown codes a minute. The limit
    # counts in fixed minutes: start early in one, so every miss shares it (PostgreSQL is slow
    # enough here for the 80 views above to reach a minute's end).
    while time.time() % 60 > 40:
        time.sleep(0.5)
    misses = [office.get(f"/c/HVS-2222-2222-2222-2222-{i:04d}".replace("0", "3")).status_code
              for i in range(settings.verify_rate_limit + 1)]
    assert misses[:-1] == [404] * settings.verify_rate_limit and misses[-1] == 429
    # Another address is not affected.
    assert make_client().get(f"/c/{codes[0]}").status_code == 200


def test_a_flood_of_lookups_is_still_stopped(make_settings, engine, db, tmp_path):
    settings = make_settings(verify_rate_limit=3)  # 3 misses, 30 lookups a minute
    with TestClient(create_app(settings), follow_redirects=False) as client:
        _, certificate = completed_course(client, db, settings, tmp_path)
        while time.time() % 60 > 40:  # the window is a fixed minute: keep all 31 in one
            time.sleep(0.5)
        statuses = [client.get(f"/c/{certificate.code}").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


def test_a_found_certificate_is_read_without_a_write(client, db, settings, tmp_path, make_client):
    import sqlalchemy as sa

    _, certificate = completed_course(client, db, settings, tmp_path)
    visitor = make_client()
    visitor.get(f"/c/{certificate.code}")  # a first view may warm caches
    written: list[str] = []

    def note(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            written.append(statement)

    engine = client.app.state.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        for suffix in ("", ".json", ""):
            assert visitor.get(f"/c/{certificate.code}{suffix}").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    assert written == []


def test_ten_thousand_forged_codes_are_refused_long_before_the_end(client, settings):
    import math
    import time

    started = time.monotonic()
    answers = [client.get(f"/c/HVS-{i:04d}-7777-7777-7777-7777").status_code for i in range(10_000)]
    minutes = math.ceil((time.monotonic() - started) / 60) + 1  # each minute's window lets a few through
    assert answers[:settings.verify_rate_limit] == [404] * settings.verify_rate_limit
    assert set(answers) == {404, 429}
    assert answers.count(404) <= settings.verify_rate_limit * minutes < 500
