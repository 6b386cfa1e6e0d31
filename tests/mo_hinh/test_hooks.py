"""What the plugin gives the rest of the platform: the showcase's order and filters, channel items,
plan evidence, the lesson card, navigation, and a person's data (export, erasure, merge)."""

import json
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import select
from sqlmodel import Session

from lms.channels import ChannelItem, EvidenceChoice
from lms.core import merge_services, personal_data_services
from lms.personal_data import ERASED_NAME, DataSection, ErasureNote
from lms.plugin_host import flatten
from lms.plugins.mo_hinh import services
from lms.plugins.mo_hinh.models import ExemplaryModel, Transition
from tests.factories import fresh, make_user, post_form, text_of
from tests.mo_hinh.conftest import SUBMISSION, counts, photo_bytes, signed_in, submit


def _publish(make_client, staff, data=None, photos=None, path="/mo-hinh-duyet/moi"):
    client = signed_in(make_client, staff)
    response = submit(client, {"publish": "on", **(data or {})}, photos=photos, path=path)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[2].split("?")[0])


def _age(db, model_id, days):
    """Published `days` earlier than now, to set an order."""
    fresh(db)
    model = db.get(ExemplaryModel, model_id)
    model.published_at = model.published_at - timedelta(days=days)
    db.add(model)
    db.commit()


def test_the_showcase_filters_and_puts_the_readers_commune_first(people, make_client, db, client):
    ours_old = _publish(make_client, people.staff, {"title": "Mô hình cũ của xã", "sector": "xa-hoi-so"})
    theirs = _publish(make_client, people.other_staff, {"title": "Mô hình của phường bạn", "sector": "kinh-te-so"})
    ours_new = _publish(make_client, people.staff, {"title": "Mô hình mới của xã", "sector": "kinh-te-so"})
    _age(db, ours_old, 30)
    _age(db, ours_new, 10)

    def titles(page: str) -> list[str]:
        text = text_of(page)
        found = [(text.find(t), t) for t in ("Mô hình cũ của xã", "Mô hình của phường bạn", "Mô hình mới của xã")]
        return [t for position, t in sorted(found) if position >= 0]

    # A visitor: newest first, every commune.
    assert titles(client.get("/mo-hinh").text) == ["Mô hình của phường bạn", "Mô hình mới của xã",
                                                   "Mô hình cũ của xã"]
    # A learner of Minh Châu: their commune's first, newest first within.
    learner = signed_in(make_client, people.learner)
    assert titles(learner.get("/mo-hinh").text) == ["Mô hình mới của xã", "Mô hình cũ của xã",
                                                    "Mô hình của phường bạn"]
    # Filters by commune and by field, together.
    assert titles(client.get(f"/mo-hinh?xa={people.other.commune.id}").text) == ["Mô hình của phường bạn"]
    assert titles(client.get("/mo-hinh?linh-vuc=xa-hoi-so").text) == ["Mô hình cũ của xã"]
    both = client.get(f"/mo-hinh?xa={people.places.commune.id}&linh-vuc=kinh-te-so")
    assert titles(both.text) == ["Mô hình mới của xã"] and 'aria-current="page">Kinh tế số' in both.text
    assert "Chưa có mô hình nào được công bố theo lựa chọn này" in text_of(
        client.get(f"/mo-hinh?xa={people.other.commune.id}&linh-vuc=khcn-dmst").text)
    assert theirs


def test_channel_items_evidence_and_the_lesson_card(people, make_client, db, app):
    with_photo = _publish(make_client, people.staff, {"show_contact": "on"}, photos=[("photo_1", photo_bytes())])
    without = _publish(make_client, people.staff, {"title": "Sổ tay điện tử của chi hội", "show_photos": ""},
                       photos=[("photo_1", photo_bytes())])
    theirs = _publish(make_client, people.other_staff, {"title": "Mô hình của phường bạn"})
    learner = signed_in(make_client, people.learner)
    submit(learner, {"title": "Chưa duyệt thì không có ở đâu"})
    pm = app.state.pm
    fresh(db)
    items = [i for i in flatten(pm.hook.channel_items(db=db, commune_id=people.places.commune.id, limit=10))
             if isinstance(i, ChannelItem) and i.kind == "model"]
    assert [i.key for i in items] == [f"mo-hinh:{without}", f"mo-hinh:{with_photo}"]
    first = items[1]
    assert first.title == SUBMISSION["title"] and first.kind_label == "Mô hình tiêu biểu"
    assert first.summary.startswith("Hội Liên hiệp Phụ nữ xã Minh Châu · Kinh tế số. Hội viên Hội Liên hiệp")
    assert first.image_url and first.image_url.startswith("/media/") and items[0].image_url is None
    assert first.commune_id == people.places.commune.id and first.published.tzinfo is not None
    for item in items:  # the contact was agreed for the page, never for feeds
        assert "0912345678" not in repr(item) and "Trần Thị Hường" not in repr(item)
    everywhere = [i.key for i in flatten(pm.hook.channel_items(db=db, commune_id=None, limit=10))
                  if i.kind == "model"]
    assert set(everywhere) == {f"mo-hinh:{with_photo}", f"mo-hinh:{without}", f"mo-hinh:{theirs}"}
    assert len([i for i in flatten(pm.hook.channel_items(db=db, commune_id=None, limit=1)) if i.kind == "model"]) == 1

    def evidence(user):
        return [c for c in flatten(pm.hook.evidence_choices(db=db, user=user))
                if isinstance(c, EvidenceChoice) and c.group == "Mô hình tiêu biểu"]

    ours = evidence(people.staff)
    assert [c.key for c in ours] == [f"mo-hinh:{without}", f"mo-hinh:{with_photo}"]
    assert ours[1].title == f"{SUBMISSION['title']} ({SUBMISSION['unit']})" and ours[1].url.startswith("/mo-hinh/")
    assert {c.key for c in evidence(people.admin)} == set(everywhere)
    assert evidence(people.learner) == []

    card = services.embed_card_html(db, with_photo)
    assert card.startswith('<aside class="card mohinh-embed"') and SUBMISSION["title"] in card
    assert SUBMISSION["unit"] in card and "srcset=" in card and 'class="card-cover"' in card
    model = db.get(ExemplaryModel, with_photo)
    assert f'href="/mo-hinh/{model.slug}"' in card and "0912345678" not in card
    assert "srcset=" not in services.embed_card_html(db, without)  # photos not agreed
    waiting = db.execute(select(ExemplaryModel.id).where(ExemplaryModel.status == "submitted")).scalar_one()
    assert services.embed_card_html(db, waiting) is None and services.embed_card_html(db, 999999) is None
    hostile = _publish(make_client, people.staff, {"title": '<script>alert("x")</script> & "Mô hình"'})
    fresh(db)
    assert "<script>" not in services.embed_card_html(db, hostile)
    assert "&lt;script&gt;" in services.embed_card_html(db, hostile)


def test_navigation_links(people, make_client, client):
    assert 'href="/mo-hinh">Mô hình tiêu biểu' in client.get("/").text
    staff_home = signed_in(make_client, people.staff).get("/staff").text
    assert 'href="/mo-hinh-duyet"' in staff_home and 'href="/mo-hinh-tong-hop"' in staff_home
    learner_home = signed_in(make_client, people.learner).get("/").text
    assert 'href="/mo-hinh-duyet"' not in learner_home


def test_a_submitters_data_is_exported_erased_and_merged(people, make_client, db, app, settings):
    second = make_user(db, settings, village=people.places.villages[0], name="Lê Văn Bình")
    phone, name = people.learner.phone, people.learner.full_name
    learner = signed_in(make_client, people.learner)
    submit(learner, {"title": "Chưa duyệt", "contact_name": people.learner.full_name})
    submit(learner, {"title": f"Mô hình của {people.learner.full_name}", "contact_name": people.learner.full_name,
                     "contact_phone": people.learner.phone}, photos=[("photo_1", photo_bytes())])
    fresh(db)
    waiting, to_publish = db.execute(select(ExemplaryModel).order_by(ExemplaryModel.id)).scalars().all()
    db.commit()
    waiting_id = waiting.id
    staff = signed_in(make_client, people.staff)
    assert post_form(staff, f"/mo-hinh-duyet/{to_publish.id}/cong-bo", {}, page="/mo-hinh-duyet").status_code == 303

    pm = app.state.pm
    with Session(app.state.engine) as session:
        sections = {s.table: s for s in flatten(pm.hook.personal_data_export(db=session, user=people.learner))
                    if isinstance(s, DataSection)}
        staff_sections = {s.table: s for s in flatten(pm.hook.personal_data_export(db=session, user=people.staff))
                          if isinstance(s, DataSection)}
    assert len(sections["mohinh_model"].rows) == 2
    assert sections["mohinh_model"].rows[1]["Số điện thoại"] == people.learner.phone
    assert sections["mohinh_model"].rows[0]["Trạng thái"] == "submitted"
    assert len(sections["mohinh_transition"].rows) == 2  # the two submissions
    assert staff_sections["mohinh_model"].rows == []
    assert staff_sections["mohinh_transition"].rows[0]["Sang trạng thái"] == "published"
    download = json.loads(learner.get("/account/data.json").text)
    assert "mohinh_model" in {section["bang"] for section in download["du_lieu"]}

    # Merged into another account of the same person: the submissions follow.
    ctx = app.state.context
    plan = merge_services.preview(db, pm, actor=people.staff, keep_id=second.id, drop_id=people.learner.id)
    assert any(item.label == "Mô hình tiêu biểu đã gửi" and item.count == 2 for item in plan.items)
    merge_services.merge(ctx, actor=people.staff, keep_id=second.id, drop_id=people.learner.id)
    fresh(db)
    assert {m.submitter_id for m in db.execute(select(ExemplaryModel)).scalars()} == {second.id}
    db.commit()

    # Erased: the waiting one deleted, the published one kept without the person.
    before = counts(db)
    notes = personal_data_services.erase(ctx, actor=people.staff, user_id=second.id)
    notes = {n.table: n for n in notes if isinstance(n, ErasureNote)}
    assert notes["mohinh_model"].action == "anonymised" and notes["mohinh_model"].count == 2
    assert "Xoá 1 mô hình chưa công bố" in notes["mohinh_model"].basis
    assert notes["mohinh_transition"].action == "anonymised"
    after = counts(db)
    assert (after[0], after[1]) == (before[0] - 1, before[1] - 1)
    fresh(db)
    kept = db.get(ExemplaryModel, to_publish.id)
    assert kept.submitter_id is None and (kept.contact_name, kept.contact_phone, kept.contact_email) == ("", "", "")
    assert kept.title == f"Mô hình của {ERASED_NAME}" and kept.status == "published"
    assert db.execute(select(ExemplaryModel).where(ExemplaryModel.id == waiting_id)).first() is None
    assert db.execute(select(Transition).where(Transition.actor_id == second.id)).first() is None
    for table in (ExemplaryModel.__table__, Transition.__table__):
        for row in db.execute(sa.select(table)).all():
            text = json.dumps([str(v) for v in row], ensure_ascii=False)
            assert phone not in text and name not in text, table
    db.commit()
