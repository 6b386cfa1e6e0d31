"""The log watch (tests/log_watch.py): what it finds, what it leaves, and that a run with personal
data in its logs fails, with or without xdist."""

import logging
import os
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest

from tests import log_watch
from tests.factories import make_user
from tests.log_watch import ERASED_NAME, MAX_LINE, Watch, literal_pattern, scan, watched_names

REPO = Path(__file__).resolve().parents[1]


def _found(lines: list[str], names: tuple[str, ...] | set[str] = (), phones: tuple[str, ...] = ()) -> list[tuple]:
    entries = [("t.py::test", "log lms", line) for line in lines]
    return [(f.kind, f.line) for f in scan(entries, set(names), set(phones))]


def test_a_mobile_number_in_any_form_is_found_recorded_or_not():
    lines = ["call 0912345678 now", "to +84912345678", "(84387654321)", "x=0561234567;"]
    assert _found(lines) == [("phone", line) for line in lines]


def test_numbers_that_are_no_mobile_are_left_alone():
    lines = [
        "GET /events/{event_id}/register 303 12.4ms",
        "09123456789 is eleven digits", "a0912345678 is inside a word", "0112345678 is no mobile prefix",
        "digest ab0912345678cd", "port 127.0.0.1:49123 took 0.9123456781s",
    ]
    assert _found(lines) == []


def test_a_recorded_phone_counts_even_outside_the_mobile_ranges():
    assert _found(["landline 0241234567 logged"], phones=("0241234567",)) == [("phone", "landline 0241234567 logged")]
    assert _found(["landline 0241234567 logged"]) == []


def test_names_match_as_whole_words_with_their_case_after_nfc():
    names = {"Nguyễn Văn An", "Lê Thị Thu", "Lê Thị Thu Hà"}
    decomposed = unicodedata.normalize("NFD", "login of Nguyễn Văn An failed")
    assert decomposed != "login of Nguyễn Văn An failed"
    assert _found([decomposed, "Lê Thị Thu Hà: máy chủ tạm hỏng", "by Lê Thị Thu."], names) == [
        ("name", "login of Nguyễn Văn An failed"),
        ("name", "Lê Thị Thu Hà: máy chủ tạm hỏng"),
        ("name", "by Lê Thị Thu."),
    ]
    assert _found(["Nguyễn Văn Anh", "nguyễn văn an", "XNguyễn Văn An", "Lê Thị Thuỷ"], names) == []


def test_one_word_names_and_the_erasure_placeholder_are_not_looked_for():
    names = {"An", "  Trần   Thị  Mai ", ERASED_NAME, ""}
    assert watched_names(names) == {"Trần Thị Mai"}
    assert _found(["An came", f"{ERASED_NAME} (#12)", "Trần Thị Mai"], names) == [("name", "Trần Thị Mai")]
    assert literal_pattern(set()) is None


def test_each_finding_names_its_test_and_line_cut_to_200_characters():
    long = "Phạm Minh Tuấn " + "x" * 300
    entries = [("a.py::one", "log lms", f"first\n{long}"), ("a.py::one", "log lms", long),
               ("b.py::two", "server-1.log", "ok")]
    [finding] = scan(entries, {"Phạm Minh Tuấn"}, set())
    assert (finding.nodeid, finding.source, finding.kind) == ("a.py::one", "log lms", "name")
    assert len(finding.line) == MAX_LINE and finding.line.startswith("Phạm Minh Tuấn x")
    assert finding.describe().startswith("a.py::one: name in log lms: Phạm Minh Tuấn")


def test_a_server_log_is_read_line_by_line(tmp_path):
    log = tmp_path / "server-5000.log"
    log.write_text("INFO:     Started server process [12]\nERROR lms: sent to 0987654321\n\n", encoding="utf-8")
    watch = Watch()
    watch.add_file(log, nodeid="c.py::three")
    watch.add_file(tmp_path / "missing.log")
    assert [(f.nodeid, f.source, f.line) for f in watch.findings()] == [
        ("c.py::three", "server-5000.log", "ERROR lms: sent to 0987654321")]


def _watching() -> Watch:
    if log_watch._watch is None:
        pytest.skip("the log watch is off (LMS_LOG_WATCH=0)")
    return log_watch._watch


def test_the_run_records_people_the_tests_create_and_rename(db, settings):
    watch = _watching()
    user = make_user(db, settings, name="Hoàng Thị Kim Liên", phone="0399000111")
    user.full_name = "Hoàng Kim Liên"
    db.commit()
    assert {"Hoàng Thị Kim Liên", "Hoàng Kim Liên"} <= watch.names
    assert "0399000111" in watch.phones


def test_app_info_lines_are_collected_with_the_test_that_wrote_them(request):
    watch = _watching()
    logging.getLogger("lms.request").info("GET %s %s", "/log-watch-self-test", 200)
    logging.getLogger("httpx").warning("HTTP Request: GET http://testserver/log-watch-client")
    mine = [(nodeid, source, text) for nodeid, source, text in watch.entries if "log-watch" in text]
    assert mine == [(request.node.nodeid, "log lms.request", "GET /log-watch-self-test 200")]


INNER = '''
import logging

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str]
    phone: Mapped[str | None]


def test_logs_a_name():
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        db.add(Person(full_name="Phạm Minh Tuấn", phone="0241234567"))
        db.commit()
    logging.getLogger("lms.request").info("welcome Phạm Minh Tuấn")
    logging.getLogger("lms").warning("rang 0241234567")


def test_logs_a_mobile():
    logging.getLogger("lms.events").error("boom", exc_info=ValueError("sent to +84912345678"))


def test_logs_nothing_personal():
    logging.getLogger("lms.request").info("GET / 200 1.0ms")
'''


def _run_inner(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER), encoding="utf-8")
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTEST_", "LMS_LOG_WATCH")) and k != "PYTHONPATH"}
    environ.update({"PYTHONPATH": str(REPO), **env})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
         "-p", "tests.log_watch", "-p", "no:cacheprovider", "-q", *args, "test_inner.py"],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120,
    )


def _section(output: str) -> str:
    assert "personal data in the logs" in output, output
    return output.split("personal data in the logs", 1)[1]


def test_a_run_whose_logs_hold_personal_data_fails_and_says_where(tmp_path):
    result = _run_inner(tmp_path, "-p", "no:xdist")
    assert "3 passed" in result.stdout, result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED
    section = _section(result.stdout)
    assert "test_inner.py::test_logs_a_name: name in log lms.request: welcome Phạm Minh Tuấn" in section
    assert "test_inner.py::test_logs_a_name: phone in log lms: rang 0241234567" in section
    assert "test_inner.py::test_logs_a_mobile: phone in log lms.events: ValueError: sent to +84912345678" in section
    assert "test_logs_nothing_personal" not in section
    assert "3 log line(s) hold a phone number or a name" in section


def test_xdist_workers_hand_their_findings_to_the_controller(tmp_path):
    result = _run_inner(tmp_path, "-n", "2")
    assert "3 passed" in result.stdout, result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED
    section = _section(result.stdout)
    assert "test_inner.py::test_logs_a_name: name in log lms.request: welcome Phạm Minh Tuấn" in section
    assert "test_inner.py::test_logs_a_mobile: phone in log lms.events: ValueError: sent to +84912345678" in section


def test_the_watch_can_be_turned_off(tmp_path):
    result = _run_inner(tmp_path, "-p", "no:xdist", LMS_LOG_WATCH="0")
    assert "3 passed" in result.stdout, result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.OK
    assert "personal data in the logs" not in result.stdout
