"""Who may open and send each page of the plugin: anonymous visitors, learners, team members, staff
and administrators; staff of another commune find nothing of this one."""

from datetime import datetime

import pytest

from lms.templating import VIETNAM
from tests.factories import csrf, fresh, login, post_form, text_of
from tests.mo_hinh.conftest import SUBMISSION, only_model, signed_in, submit

ROLES = ["anonymous", "learner", "team_member", "staff", "admin", "other_staff"]
YEAR = datetime.now(VIETNAM).year


@pytest.fixture
def models(people, make_client, db):
    """A learner's submission waiting for review, and a published model of the same commune."""
    learner = signed_in(make_client, people.learner)
    assert submit(learner).status_code == 303
    waiting = only_model(db)
    staff = signed_in(make_client, people.staff)
    assert submit(staff, {"title": "Chợ 4.0: thanh toán không dùng tiền mặt", "publish": "on"},
                  path="/mo-hinh-duyet/moi").status_code == 303
    from sqlalchemy import select

    from lms.plugins.mo_hinh.models import ExemplaryModel

    fresh(db)
    published = db.execute(select(ExemplaryModel).where(ExemplaryModel.status == "published")).scalars().one()
    db.commit()
    return waiting, published


def _client_for(role, people, make_client):
    client = make_client()
    if role != "anonymous":
        login(client, people.of(role).phone)
    return client


EXPECTED_GET = {
    # path template: status per role (anonymous, learner, team_member, staff, admin, other_staff)
    "/mo-hinh": (200, 200, 200, 200, 200, 200),
    "/mo-hinh/{published_slug}": (200, 200, 200, 200, 200, 200),
    "/mo-hinh/{waiting_id}": (404, 404, 404, 404, 404, 404),
    "/mo-hinh/gui": (303, 200, 200, 200, 200, 200),
    "/mo-hinh/cua-toi": (303, 200, 200, 200, 200, 200),
    "/mo-hinh/cua-toi/{waiting_id}": (303, 200, 404, 404, 404, 404),
    "/mo-hinh-duyet": (303, 403, 403, 200, 200, 200),
    "/mo-hinh-duyet/moi": (303, 403, 403, 200, 200, 200),
    "/mo-hinh-duyet/{waiting_id}": (303, 403, 403, 200, 200, 404),
    "/mo-hinh-tong-hop": (303, 403, 403, 200, 200, 200),
    "/mo-hinh-tong-hop/{year}.docx?xa={commune_id}": (303, 403, 403, 200, 200, 404),
    "/mo-hinh-tong-hop/{year}.pdf?xa={commune_id}": (303, 403, 403, 200, 200, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_each_page_for_each_role(role, people, models, make_client):
    waiting, published = models
    client = _client_for(role, people, make_client)
    values = {"published_slug": published.slug, "waiting_id": waiting.id, "year": YEAR,
              "commune_id": people.places.commune.id}
    for template, statuses in EXPECTED_GET.items():
        path = template.format(**values)
        response = client.get(path)
        expected = statuses[ROLES.index(role)]
        assert response.status_code == expected, (path, role, response.status_code)
        if expected == 303:
            assert response.headers["location"].startswith("/login?next="), path
        elif expected == 403:
            assert "Không có quyền truy cập" in response.text, path
        elif expected == 404:
            assert "Trang bạn tìm không có" in response.text or "Không tìm thấy" in response.text, path
    queue = client.get("/mo-hinh-duyet")
    if role in ("staff", "admin"):
        assert SUBMISSION["title"] in text_of(queue.text)
    elif role == "other_staff":
        assert SUBMISSION["title"] not in queue.text and "Chờ duyệt (0)" in text_of(queue.text)


@pytest.mark.parametrize("role", ROLES)
def test_each_form_for_each_role(role, people, models, make_client, db):
    waiting, published = models
    client = _client_for(role, people, make_client)
    token = csrf(client, "/login") if role == "anonymous" else csrf(client, "/mo-hinh/gui")

    def post(path, data=None):
        return client.post(path, data={**(data or {}), "csrf_token": token})

    reviewer = role in ("staff", "admin")
    # Review steps: staff of the commune and administrators only.
    asked = post(f"/mo-hinh-duyet/{waiting.id}/yeu-cau-sua", {"note": "Bổ sung ảnh."})
    expected = {"anonymous": 303, "learner": 403, "team_member": 403, "other_staff": 404}.get(role, 303)
    assert asked.status_code == expected, role
    if reviewer:
        assert asked.headers["location"] == f"/mo-hinh-duyet/{waiting.id}?da=yeu-cau-sua"
        assert only_status(db, waiting.id) == "changes_requested"
    else:
        assert only_status(db, waiting.id) == "submitted"
    unpublished = post(f"/mo-hinh-duyet/{published.id}/go-xuong")
    assert unpublished.status_code == expected
    assert only_status(db, published.id) == ("unpublished" if reviewer else "published")
    assert post(f"/mo-hinh-duyet/{waiting.id}/xoa").status_code == (expected if not reviewer else 404)
    # Editing a submission: its submitter only.
    edited = post(f"/mo-hinh/cua-toi/{waiting.id}", {**SUBMISSION, "title": "Đổi tên"})
    assert edited.status_code == {"anonymous": 303, "learner": 303}.get(role, 404)
    # Direct entry: staff and administrators.
    entered = post("/mo-hinh-duyet/moi", {**SUBMISSION, "commune_id": str(people.places.commune.id)})
    assert entered.status_code == {"anonymous": 303, "learner": 403, "team_member": 403}.get(role, 303)
    # Submitting: anyone signed in.
    sent = post("/mo-hinh/gui", {**SUBMISSION, "commune_id": str(people.places.commune.id)})
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/login" if role == "anonymous" else "/mo-hinh/cua-toi")


def only_status(db, model_id):
    from lms.plugins.mo_hinh.models import ExemplaryModel

    fresh(db)
    status = db.get(ExemplaryModel, model_id).status
    db.commit()
    return status


def test_an_administrator_compiles_any_commune_and_staff_only_their_own(people, models, make_client, db):
    admin = signed_in(make_client, people.admin)
    page = text_of(admin.get("/mo-hinh-tong-hop").text)
    assert "Vui lòng chọn xã, phường để tổng hợp" in page  # no commune of their own
    page = admin.get(f"/mo-hinh-tong-hop?xa={people.other.commune.id}").text
    assert f"/mo-hinh-tong-hop/{YEAR}.docx?xa={people.other.commune.id}" in page
    other = admin.get(f"/mo-hinh-tong-hop/{YEAR}.docx?xa={people.other.commune.id}")
    assert other.status_code == 200 and "phuong-hoa-binh" in other.headers["content-disposition"]
    assert admin.get(f"/mo-hinh-tong-hop/{YEAR}.docx").status_code == 404  # which commune?
    assert admin.get(f"/mo-hinh-tong-hop/{YEAR}.docx?xa=abc").status_code == 404
    assert admin.get("/mo-hinh-tong-hop/1800.docx").status_code == 404  # a year out of range names nothing
    staff = signed_in(make_client, people.staff)
    assert staff.get(f"/mo-hinh-tong-hop/{YEAR}.pdf?xa={people.other.commune.id}").status_code == 404
    assert staff.get(f"/mo-hinh-tong-hop/{YEAR}.pdf").status_code == 200
    # The review queue of an administrator shows every commune's, or one commune's.
    assert SUBMISSION["title"] in admin.get("/mo-hinh-duyet").text
    assert SUBMISSION["title"] not in admin.get(f"/mo-hinh-duyet?xa={people.other.commune.id}").text


def test_odd_addresses_are_not_found(people, models, client):
    for path in ("/mo-hinh/khong-co-mo-hinh-nay", "/mo-hinh/%00abc", "/mo-hinh/" + "a" * 300,
                 "/mo-hinh/99999999999", "/mo-hinh/Ứng-dụng"):
        assert client.get(path).status_code == 404, path
    assert client.get("/mo-hinh?xa=abc&linh-vuc=%00&trang=-1").status_code == 200
    assert post_form(client, "/mo-hinh/gui", {}, page="/login").status_code == 303
