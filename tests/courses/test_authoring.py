"""Courses written in the browser: editors, drafts, preview, publishing, scope, versions, packs."""

import io
import re
import zipfile
from pathlib import Path

from sqlalchemy import select

from lms.plugins.courses.models import ContentEditor, Course, CourseChange, CourseDraft, Lesson, LessonProgress
from lms.plugins.courses.packs import load_packs
from tests.factories import csrf, fresh, login, make_user, post_form, text_of

WORDS = ("Ông Tư ở thôn Đông mở điện thoại, vào ứng dụng ngân hàng, quét mã trên tấm bảng của quầy rau. "
         "Trước khi bấm chuyển, ông đọc kỹ tên người nhận hiện trên màn hình và so với tên chủ quầy. ") * 6
SOURCES = "\n\n## Nguồn tham khảo\n\n- Ngân hàng Nhà nước Việt Nam: https://sbv.gov.vn\n"


def body(intro: str) -> str:
    return f"{intro}\n\n## Các bước\n\n1. Mở ứng dụng.\n2. Quét mã.\n3. Kiểm tra tên.\n\n{WORDS}{SOURCES}"


def _create(client, **overrides):
    data = {"title": "Mô hình số của xã Minh Châu", "summary": "Những cách làm hay ở xã mình.",
            "audiences": ["nguoi-dan"], "domains": ["an-toan"], "estimated_minutes": "20", "slug": "", **overrides}
    response = post_form(client, "/studio/new", data, page="/studio/new")
    assert response.status_code == 303, text_of(response.text)
    return int(re.search(r"/studio/(\d+)", response.headers["location"]).group(1))


def _lesson(client, draft_id, title, text, slug="new"):
    page = f"/studio/{draft_id}/lessons/{slug}"
    response = post_form(client, page, {"title": title, "body": text, "action": "save"}, page=page)
    assert response.status_code == 303, text_of(response.text)
    return response.headers["location"].split("/lessons/")[1].split("?")[0]


def _publish(client, draft_id):
    return post_form(client, f"/studio/{draft_id}/publish", {}, page=f"/studio/{draft_id}")


def test_only_editors_open_the_studio(client, make_client, db, settings, commune_editor):
    places, other, editor, admin_client = commune_editor
    staff = make_user(db, settings, role="staff", commune=places.commune)
    for person, status in ((staff, 200), (make_user(db, settings, village=places.villages[0]), 403),
                           (make_user(db, settings, role="team_member", commune=places.commune), 403)):
        browser = make_client()
        login(browser, person.phone)
        page = browser.get("/studio")
        assert page.status_code == status
        if person.role == "staff":
            # Told who gives the permission; and nothing can be created without it.
            assert "chưa được giao soạn khóa học" in text_of(page.text)
            assert "Tạo khóa học mới" not in text_of(page.text)
            refused = post_form(browser, "/studio/new", {"title": "Thử", "summary": "Thử", "audiences": ["nguoi-dan"],
                                                         "estimated_minutes": "5"}, page="/studio")
            assert refused.status_code == 403
    assert make_client().get("/studio").status_code == 303  # to the log-in page
    assert "Cán Bộ Văn Hóa" in text_of(admin_client.get("/studio-editors").text)
    assert client.get("/studio-editors").status_code == 403  # only admins give the permission


def test_write_preview_publish_and_scope(client, make_client, db, settings, commune_editor):
    places, other, editor, _ = commune_editor
    draft_id = _create(client)
    # Nothing to publish yet: the checker's message, in Vietnamese, nothing published.
    refused = _publish(client, draft_id)
    assert refused.status_code == 422 and "course.yaml" in text_of(refused.text)
    assert db.exec(select(Course).where(Course.slug == "mo-hinh-so-cua-xa-minh-chau")).first() is None

    first = _lesson(client, draft_id, "Quét mã khi mua rau", body("Chợ quê nay có mã QR."))
    # The preview uses the learners' pipeline: Markdown becomes HTML, hostile parts are gone.
    hostile = "<script>alert(1)</script>\n\n[bấm](javascript:alert(1))\n\n<img src=x onerror=alert(1)>\n\n**đậm**"
    page = f"/studio/{draft_id}/lessons/{first}"
    preview = post_form(client, page, {"title": "Quét mã khi mua rau", "body": hostile, "action": "preview"},
                        page=page)
    assert preview.status_code == 200
    shown = preview.text.split('id="preview" class="lesson-body">', 1)[1].split("</section>", 1)[0]
    assert "<strong>đậm</strong>" in shown
    # Raw HTML shows as text; the javascript: link is not a link.
    assert "<script" not in shown and "<img" not in shown and "href=" not in shown
    assert "&lt;script&gt;" in shown
    fresh(db)
    assert "<script>" not in db.get(CourseDraft, draft_id).files[f"{first}.md"]  # a preview saves nothing
    db.commit()
    second = _lesson(client, draft_id, "Kiểm tra tên người nhận", body("Tên người nhận là điều cần xem."))
    # As learners will see it: the outline, then a lesson, before anyone can.
    outline = text_of(client.get(f"/studio/{draft_id}/preview").text)
    assert "Dành cho: Người dân" in outline and "Kiểm tra tên người nhận" in outline
    assert "Tên người nhận là điều cần xem." in text_of(client.get(f"/studio/{draft_id}/preview/{second}").text)
    assert _publish(client, draft_id).status_code == 303
    fresh(db)
    course = db.exec(select(Course).where(Course.slug == "mo-hinh-so-cua-xa-minh-chau")).scalars().one()
    assert (course.commune_id, course.source, course.version) == (places.commune.id, "editor", 1)
    assert [lesson.slug for lesson in db.exec(select(Lesson).where(Lesson.course_id == course.id)
                                              .order_by(Lesson.position)).scalars().all()] == [first, second]
    db.commit()

    # The commune's learner sees it; a learner of another commune and a visitor do not.
    mine, theirs, visitor = make_client(), make_client(), make_client()
    login(mine, make_user(db, settings, village=places.villages[0]).phone)
    login(theirs, make_user(db, settings, village=other.villages[0]).phone)
    assert "Mô hình số của xã Minh Châu" in text_of(mine.get("/courses").text)
    assert "Mô hình số của xã Minh Châu" not in text_of(theirs.get("/courses").text)
    assert "Mô hình số của xã Minh Châu" not in text_of(visitor.get("/courses").text)
    assert mine.get(f"/courses/{course.slug}/{first}").status_code == 200
    assert theirs.get(f"/courses/{course.slug}/{first}").status_code == 404
    assert visitor.get(f"/courses/{course.slug}").status_code == 404
    assert "<script>alert(1)" not in mine.get(f"/courses/{course.slug}/{first}").text


def test_version_two_keeps_progress_and_an_old_version_comes_back(client, make_client, db, settings,
                                                                  commune_editor):
    places, other, editor, _ = commune_editor
    draft_id = _create(client, title="Chợ 4.0 ở xã")
    first = _lesson(client, draft_id, "Bảng mã ở quầy", body("Mỗi quầy có một bảng mã."))
    assert _publish(client, draft_id).status_code == 303
    learner = make_user(db, settings, village=places.villages[0])
    browser = make_client()
    login(browser, learner.phone)
    path = f"/courses/cho-4-0-o-xa/{first}"
    assert post_form(browser, f"{path}/done", {}, page=path).status_code == 303
    fresh(db)
    lesson_id = db.exec(select(Lesson.id).where(Lesson.slug == first)).scalar()
    db.commit()

    _lesson(client, draft_id, "Bảng mã ở quầy (sửa)", body("Mỗi quầy có một bảng mã, in rõ tên chủ quầy."),
            slug=first)
    _lesson(client, draft_id, "Khi mạng chập chờn", body("Không có mạng thì chưa kiểm tra được tiền về."))
    assert _publish(client, draft_id).status_code == 303
    fresh(db)
    kept = db.exec(select(LessonProgress).where(LessonProgress.user_id == learner.id)).scalars().all()
    assert [p.lesson_id for p in kept] == [lesson_id]
    assert db.get(Lesson, lesson_id).title == "Bảng mã ở quầy (sửa)"
    db.commit()
    assert "Bảng mã ở quầy (sửa)" in text_of(browser.get("/courses/cho-4-0-o-xa").text)
    assert "Đã học 1/2 bài" in text_of(browser.get("/courses/cho-4-0-o-xa").text)

    assert post_form(client, f"/studio/{draft_id}/restore/9", {}, page=f"/studio/{draft_id}").status_code == 404
    # Version 1 back into the draft, then published as version 3.
    assert post_form(client, f"/studio/{draft_id}/restore/1", {}, page=f"/studio/{draft_id}").status_code == 303
    assert _publish(client, draft_id).status_code == 303
    fresh(db)
    course = db.exec(select(Course).where(Course.slug == "cho-4-0-o-xa")).scalars().one()
    assert course.version == 3 and db.get(Lesson, lesson_id).title == "Bảng mã ở quầy"
    log = [c.summary for c in db.exec(select(CourseChange).where(CourseChange.draft_id == draft_id)
                                      .order_by(CourseChange.id)).scalars().all()]
    db.commit()
    assert log[0] == "Tạo khóa học" and "Xuất bản phiên bản 2" in log and log[-1] == "Xuất bản phiên bản 3"
    assert "Khôi phục nội dung phiên bản 1 (chưa xuất bản)" in log
    page = text_of(client.get(f"/studio/{draft_id}").text)
    assert "Nhật ký thay đổi" in page and "Cán Bộ Văn Hóa: Xuất bản phiên bản 3" in page


def test_reorder_and_retire_lessons(client, db, commune_editor):
    draft_id = _create(client, title="Ba bài ngắn")
    slugs = [_lesson(client, draft_id, title, body(title)) for title in ("Bài một", "Bài hai", "Bài ba")]
    page = f"/studio/{draft_id}"
    moved = post_form(client, f"/studio/{draft_id}/lessons/{slugs[2]}/move", {"step": "up"}, page=page)
    assert moved.status_code == 303
    assert post_form(client, f"/studio/{draft_id}/lessons/{slugs[0]}/retire", {}, page=page).status_code == 303
    fresh(db)
    draft = db.get(CourseDraft, draft_id)
    db.commit()
    assert re.findall(r"slug: (\S+)", draft.files["course.yaml"])[1:] == [slugs[2], slugs[1]]
    assert f"{slugs[0]}.md" not in draft.files


def test_export_is_a_pack_and_imports_into_another_commune(client, make_client, db, settings, commune_editor,
                                                           tmp_path):
    places, other, editor, admin_client = commune_editor
    draft_id = _create(client, title="Gói để chia sẻ")
    _lesson(client, draft_id, "Bài chia sẻ", body("Bài này đi từ xã này sang xã khác."))
    exported = client.get(f"/studio/{draft_id}/export.zip")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        archive.extractall(tmp_path / "packs")
    packs, problems = load_packs([tmp_path / "packs"])
    assert problems == [] and [p.slug for p in packs] == ["goi-de-chia-se"]

    other_editor = make_user(db, settings, role="staff", commune=other.commune, name="Cán Bộ Phường")
    assert post_form(admin_client, f"/studio-editors/{other_editor.id}", {"allowed": "1"},
                     page="/studio-editors").status_code == 303
    browser = make_client()
    login(browser, other_editor.phone)
    token = csrf(browser, "/studio")
    taken = browser.post("/studio-import", data={"csrf_token": token},
                         files={"pack": ("goi.zip", exported.content, "application/zip")})
    assert taken.status_code == 422 and "đã có khóa học khác dùng" in text_of(taken.text)
    imported = browser.post("/studio-import", data={"csrf_token": token, "new_slug": "goi-cua-phuong"},
                            files={"pack": ("goi.zip", exported.content, "application/zip")})
    assert imported.status_code == 303, text_of(imported.text)
    fresh(db)
    copy = db.exec(select(CourseDraft).where(CourseDraft.slug == "goi-cua-phuong")).scalars().one()
    assert copy.commune_id == other.commune.id and "slug: goi-cua-phuong" in copy.files["course.yaml"]
    db.commit()
    # Each commune sees only its own drafts.
    assert client.get(f"/studio/{copy.id}").status_code == 404
    assert browser.get(f"/studio/{draft_id}").status_code == 404


def _zip(entries: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_bad_pack_is_refused_with_its_file_and_line(client, db, commune_editor):
    token = csrf(client, "/studio")

    def send(data):
        return client.post("/studio-import", data={"csrf_token": token},
                           files={"pack": ("x.zip", data, "application/zip")})

    course = ("slug: goi-loi\ntitle: Gói lỗi\naudiences: [nguoi-dan]\nsummary: Thử.\nestimated_minutes: 5\n"
              "version: 1\nlessons:\n  - {slug: mot, title: Một}\n")
    broken = send(_zip({"goi-loi/course.yaml": course}))
    assert broken.status_code == 422 and "course.yaml:8" in text_of(broken.text)
    escape = send(_zip({"../evil/course.yaml": course}))
    assert escape.status_code == 422 and "không phải gói khóa học" in text_of(escape.text)
    script = send(_zip({"goi-loi/course.yaml": course, "goi-loi/run.sh": "rm -rf /"}))
    assert script.status_code == 422 and "tệp không dùng được" in text_of(script.text)
    assert send(b"not a zip").status_code == 422
    assert db.exec(select(CourseDraft)).first() is None


def test_copy_an_installation_course_for_the_commune(client, db, commune_editor):
    packs = Path(__file__).resolve().parents[2] / "courses"
    slug = sorted(p.name for p in packs.iterdir() if (p / "course.yaml").is_file())[0]
    for bad in ("Có Dấu", "", "-"):  # none is a slug
        refused = post_form(client, f"/studio-copy/{slug}", {"new_slug": bad}, page="/studio")
        assert refused.status_code == 422 and "Mã" in text_of(refused.text)
    assert post_form(client, "/studio-copy/khong-co-khoa-nay", {"new_slug": "x-y"}, page="/studio").status_code == 404
    fresh(db)
    assert db.exec(select(CourseDraft)).first() is None
    db.commit()
    response = post_form(client, f"/studio-copy/{slug}", {"new_slug": f"{slug}-minh-chau"}, page="/studio")
    assert response.status_code == 303, text_of(response.text)
    fresh(db)
    draft = db.exec(select(CourseDraft).where(CourseDraft.slug == f"{slug}-minh-chau")).scalars().one()
    assert draft.commune_id is not None and f"slug: {slug}-minh-chau" in draft.files["course.yaml"]
    assert any(name.endswith(".md") for name in draft.files)
    db.commit()


def test_a_pack_never_takes_over_a_course_from_the_editor(client, db, commune_editor, tmp_path):
    from lms.plugins.courses import services
    from tests.courses.packtools import write_pack

    draft_id = _create(client, title="Khóa của xã", slug="khoa-cua-xa")
    _lesson(client, draft_id, "Bài của xã", body("Bài của xã mình."))
    assert _publish(client, draft_id).status_code == 303
    write_pack(tmp_path / "packs", "khoa-cua-xa", lessons=["khac"])
    write_pack(tmp_path / "packs", "khoa-khac", lessons=["mot"])
    fresh(db)
    packs, problems = load_packs([tmp_path / "packs"])
    report = services.sync_packs(db, packs)
    db.commit()
    assert report.conflicts == ["khoa-cua-xa"] and report.created == ["khoa-khac"]
    course = db.exec(select(Course).where(Course.slug == "khoa-cua-xa")).scalars().one()
    assert course.source == "editor" and not course.retired
    # A sync without the commune's course leaves it alone too.
    services.sync_packs(db, [])
    db.commit()
    assert not db.exec(select(Course).where(Course.slug == "khoa-cua-xa")).scalars().one().retired
    assert db.exec(select(ContentEditor)).first() is not None


def _photo(width=1600, height=1000) -> bytes:
    from PIL import Image as PILImage

    picture = PILImage.new("RGB", (width, height))
    picture.putdata([(x % 256, (x * y) % 256, y % 256) for y in range(height) for x in range(width)])
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_an_uploaded_picture_is_shown_at_several_widths(client, make_client, db, settings, commune_editor):
    places, *_ = commune_editor
    draft_id = _create(client, title="Khóa có ảnh")
    first = _lesson(client, draft_id, "Bài có ảnh", body("Xem ảnh chợ quê."))
    token = csrf(client, f"/studio/{draft_id}/lessons/{first}")

    def upload(data, alt, name="cho-que.jpg", kind="image/jpeg"):
        return client.post(f"/studio/{draft_id}/images", data={"csrf_token": token, "alt": alt},
                           files={"image": (name, data, kind)})

    no_alt = upload(_photo(), "")
    assert no_alt.status_code == 422 and "mô tả ảnh" in text_of(no_alt.text)
    svg = upload(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "Hình", "x.svg",
                 "image/svg+xml")
    assert svg.status_code == 422
    fresh(db)
    assert db.get(CourseDraft, draft_id).assets == {}
    db.commit()
    added = upload(_photo(), "Quầy rau có bảng mã QR")
    assert added.status_code == 200, text_of(added.text)
    snippet = re.search(r"!\[Quầy rau có bảng mã QR\]\(assets/[a-z0-9.-]+\)", text_of(added.text)).group(0)
    _lesson(client, draft_id, "Bài có ảnh", body("Xem ảnh chợ quê.") + "\n\n" + snippet, slug=first)
    # The picture is also the course's cover; another published course is to be taken first.
    before = _create(client, title="Khóa nên học trước")
    _lesson(client, before, "Bài đầu", body("Bài đầu tiên."))
    assert _publish(client, before).status_code == 303
    name = snippet.split("assets/")[1].rstrip(")")
    saved = post_form(client, f"/studio/{draft_id}", {
        "fields": "all", "title": "Khóa có ảnh", "summary": "Những cách làm hay ở xã mình.",
        "audiences": ["nguoi-dan"], "estimated_minutes": "20", "cover": name,
        "prerequisites": ["khoa-nen-hoc-truoc", "khong-co-khoa-nay"]}, page=f"/studio/{draft_id}")
    assert saved.status_code == 303
    assert _publish(client, draft_id).status_code == 303
    learner = make_client()
    login(learner, make_user(db, settings, village=places.villages[0]).phone)
    page = learner.get(f"/courses/khoa-co-anh/{first}").text
    image = re.search(r'<img [^>]*alt="Quầy rau có bảng mã QR"[^>]*>', page).group(0)
    assert 'width="800"' in image and 'height="500"' in image and 'loading="lazy"' in image
    widths = re.findall(r"(/media/[0-9a-f]+\.\w+) (\d+)w", image)
    assert [int(w) for _, w in widths] == [400, 800, 1200]
    served = learner.get(widths[0][0])
    assert served.status_code == 200 and served.headers["content-type"] in ("image/webp", "image/jpeg")
    src = re.search(r'src="([^"]+)"', image).group(1)
    assert learner.get(src).status_code == 200
    card = learner.get("/courses").text.split("Khóa có ảnh</a>")[0].rsplit('<article class="card">', 1)[1]
    assert re.search(r'<img class="card-cover" src="/course-assets/khoa-co-anh/\w+/' + re.escape(name), card)
    fresh(db)
    course = db.exec(select(Course).where(Course.slug == "khoa-co-anh")).scalars().one()
    assert (course.cover, course.prerequisites) == (name, ["khoa-nen-hoc-truoc"])
    db.commit()
