"""`lms courses sync`: idempotent, updates in place, retires instead of deleting."""

import io

from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from lms import paths
from lms.cli import build_cli
from lms.plugins.courses.models import CatalogState, Course, Lesson, LessonProgress
from tests.courses.packtools import BODY, sync_dirs, write_pack
from tests.factories import fresh, make_places, make_user


def _snapshot(db):
    fresh(db)
    courses = {(c.slug, c.content_hash, c.synced_at, c.retired)
               for c in db.exec(select(Course)).scalars().all()}
    lessons = {(lesson.id, lesson.slug, lesson.updated_at, lesson.retired)
               for lesson in db.exec(select(Lesson)).scalars().all()}
    return courses, lessons, db.get(CatalogState, 1).version


def test_syncing_the_real_packs_twice_changes_nothing(db):
    first = sync_dirs(db, [paths.courses_dir()])
    assert len(first.created) >= 8 and not first.updated
    before = _snapshot(db)
    second = sync_dirs(db, [paths.courses_dir()])
    assert second.created == second.updated == second.retired == []
    assert len(second.unchanged) == len(first.created)
    assert _snapshot(db) == before


def test_editing_a_lesson_updates_it_and_keeps_progress(db, settings, tmp_path):
    write_pack(tmp_path, "khoa-thu")
    sync_dirs(db, [tmp_path])
    lesson = db.exec(select(Lesson).where(Lesson.slug == "bai-hai")).scalars().one()
    learner = make_user(db, settings, village=make_places(db).villages[0])
    db.add(LessonProgress(user_id=learner.id, lesson_id=lesson.id, course_id=lesson.course_id))
    db.commit()

    (tmp_path / "khoa-thu" / "bai-hai.md").write_text("Nội dung **mới** của bài hai.\n\n" + BODY.format(n=2),
                                                      "utf-8")
    report = sync_dirs(db, [tmp_path])
    assert report.updated == ["khoa-thu"]
    fresh(db)
    edited = db.get(Lesson, lesson.id)
    assert "<strong>mới</strong>" in edited.body_html
    assert db.exec(select(func.count()).select_from(LessonProgress)).one()[0] == 1


def test_a_lesson_dropped_from_its_pack_is_retired_not_deleted(db, settings, tmp_path):
    write_pack(tmp_path, "khoa-thu")
    sync_dirs(db, [tmp_path])
    dropped = db.exec(select(Lesson).where(Lesson.slug == "bai-ba")).scalars().one()
    learner = make_user(db, settings, village=make_places(db).villages[0])
    db.add(LessonProgress(user_id=learner.id, lesson_id=dropped.id, course_id=dropped.course_id))
    db.commit()

    write_pack(tmp_path, "khoa-thu", lessons=["bai-mot", "bai-hai"])
    (tmp_path / "khoa-thu" / "bai-ba.md").unlink()
    sync_dirs(db, [tmp_path])
    fresh(db)
    assert db.get(Lesson, dropped.id).retired is True
    assert db.exec(select(LessonProgress)).scalars().one().lesson_id == dropped.id

    # Put back: the same row comes back to life, history intact.
    write_pack(tmp_path, "khoa-thu")
    sync_dirs(db, [tmp_path])
    fresh(db)
    assert db.get(Lesson, dropped.id).retired is False


def test_a_course_removed_from_the_packs_is_retired(db, tmp_path):
    write_pack(tmp_path, "khoa-mot")
    write_pack(tmp_path, "khoa-hai")
    sync_dirs(db, [tmp_path])
    import shutil

    shutil.rmtree(tmp_path / "khoa-hai")
    report = sync_dirs(db, [tmp_path])
    assert report.retired == ["khoa-hai"]
    fresh(db)
    assert db.exec(select(Course).where(Course.slug == "khoa-hai")).scalars().one().retired


def test_images_get_size_lazy_loading_and_long_cache(client, db, tmp_path):
    folder = write_pack(tmp_path, "khoa-anh", bodies={
        "bai-mot": "Xem hình:\n\n![Màn hình VNeID](assets/man-hinh.png)\n\n" + BODY.format(n=1)})
    (folder / "assets").mkdir()
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (11, 83, 148)).save(buffer, "PNG")
    (folder / "assets" / "man-hinh.png").write_bytes(buffer.getvalue())
    sync_dirs(db, [tmp_path])

    page = client.get("/courses/khoa-anh/bai-mot").text
    import re

    tag = re.search(r"<img [^>]+>", page).group(0)
    assert 'width="320"' in tag and 'height="200"' in tag
    assert 'loading="lazy"' in tag and 'alt="Màn hình VNeID"' in tag
    src = re.search(r'src="([^"]+)"', tag).group(1)
    image = client.get(src)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert image.content == buffer.getvalue()
    assert client.get(src.replace("man-hinh", "khac")).status_code == 404


def test_lesson_html_is_sanitised(client, db, tmp_path):
    write_pack(tmp_path, "khoa-xau", bodies={
        "bai-mot": "<script>alert(1)</script>\n\n[bấm](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n"
                   + BODY.format(n=1)})
    sync_dirs(db, [tmp_path])
    body = client.get("/courses/khoa-xau/bai-mot").text
    assert "<script>alert" not in body and 'href="javascript' not in body
    assert "<img src=x" not in body and "&lt;img src=x" in body  # shown as text, inert


def test_cli_sync_and_check(settings, engine, db, monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(settings.instance_dir))
    runner = CliRunner()
    check = runner.invoke(build_cli(settings), ["courses", "check"])
    assert check.exit_code == 0, check.output
    assert "Các gói khóa học hợp lệ" in check.output
    first = runner.invoke(build_cli(settings), ["courses", "sync"])
    assert first.exit_code == 0 and " mới" in first.output
    second = runner.invoke(build_cli(settings), ["courses", "sync"])
    assert "0 mới, 0 cập nhật, 0 ngừng" in second.output


def test_cli_check_reports_path_and_line_and_sync_refuses(settings, engine, db, monkeypatch,
                                                           tmp_path, install_plugins):
    broken = write_pack(tmp_path / "packs", "khoa-loi", audiences=("nguoi-la",))
    install_plugins({"extra_packs": "tests.courses.extra_packs"})
    monkeypatch.setenv("HOCVUSO_TEST_PACKS", str(tmp_path / "packs"))
    monkeypatch.setenv("LMS_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    check = runner.invoke(build_cli(settings), ["courses", "check"])
    assert check.exit_code == 1
    assert f"{broken / 'course.yaml'}:" in check.output and "nguoi-la" in check.output
    sync = runner.invoke(build_cli(settings), ["courses", "sync"])
    assert sync.exit_code == 1 and "Chưa nạp gì" in sync.output
    fresh(db)
    assert db.exec(select(func.count()).select_from(Course)).one()[0] == 0


def test_a_plugin_can_ship_its_own_packs(settings, engine, db, monkeypatch, tmp_path,
                                         install_plugins):
    write_pack(tmp_path / "packs", "khoa-cua-plugin")
    install_plugins({"extra_packs": "tests.courses.extra_packs"})
    monkeypatch.setenv("HOCVUSO_TEST_PACKS", str(tmp_path / "packs"))
    monkeypatch.setenv("LMS_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(build_cli(settings), ["courses", "sync"])
    assert result.exit_code == 0, result.output
    fresh(db)
    slugs = set(db.exec(select(Course.slug)).scalars().all())
    assert "khoa-cua-plugin" in slugs and "vneid-va-dich-vu-cong" in slugs
