"""A question type registered by another plugin, through the same entry point path,
is validated by `lms courses check` and works end to end."""

import re

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lms.app import create_app
from lms.cli import build_cli
from lms.plugins.courses.packs import load_packs
from lms.plugins.quiz.builtin_types import builtin_types, types_by_identifier
from tests.courses.packtools import write_pack
from tests.factories import csrf, login, make_places, make_user, text_of
from tests.plugins.number_type import NumberAnswer
from tests.quiz.quiztools import latest_attempt

QUIZ = {"pass_mark": 100, "questions": [
    {"id": "q1", "type": "number", "lesson": "bai-mot", "prompt": "Số đường dây nóng báo tin rác là gì?",
     "answer": 156, "explanation": "Đường dây 156."}]}


def test_a_plugin_question_type_end_to_end(install_plugins, make_settings, engine, db, tmp_path,
                                           monkeypatch):
    install_plugins({"number_type": "tests.plugins.number_type",
                     "extra_packs": "tests.courses.extra_packs"})
    packs_dir = tmp_path / "packs"
    write_pack(packs_dir, "khoa-so", lessons=["bai-mot"], quiz=QUIZ)
    settings = make_settings()
    monkeypatch.setenv("HOCVUSO_TEST_PACKS", str(packs_dir))
    monkeypatch.setenv("LMS_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(build_cli(settings), ["courses", "sync"])
    assert result.exit_code == 0, result.output

    user = make_user(db, settings, village=make_places(db).villages[0])
    with TestClient(create_app(settings), follow_redirects=False) as client:
        login(client, user.phone)
        start = client.post("/quiz/khoa-so/start", data={"csrf_token": csrf(client, "/quiz/khoa-so")})
        url = start.headers["location"]
        page = client.get(url).text
        # The answer is not in the page (the CSRF token's hex digits could hold "156" by chance).
        assert 'inputmode="numeric" name="q0"' in page and "156" not in re.sub(r"[0-9a-f]{64}", "", page)
        bad = client.post(url, data={"csrf_token": csrf(client, url), "action": "submit", "q0": "abc"})
        assert bad.status_code == 422 and "Hãy nhập một số." in text_of(bad.text)
        client.post(url, data={"csrf_token": csrf(client, url), "action": "submit", "q0": "156"})
        assert "100% — Đạt" in text_of(client.get(url).text)
    assert latest_attempt(db, user.id).passed is True


def test_the_check_uses_the_plugin_type(tmp_path):
    write_pack(tmp_path, "khoa-so", lessons=["bai-mot"], quiz={
        "questions": [{**QUIZ["questions"][0], "answer": "một trăm"}]})
    types = types_by_identifier([*builtin_types(), NumberAnswer()])
    _, problems = load_packs([tmp_path], types)
    assert [p.message for p in problems] == ["Câu hỏi “q1”: “answer” phải là một số nguyên."]
    _, without = load_packs([tmp_path], types_by_identifier(builtin_types()))
    assert "loại câu hỏi “number” không hợp lệ" in without[0].message
