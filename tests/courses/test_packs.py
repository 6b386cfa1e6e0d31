"""Course packs: the real ones load cleanly, and each kind of mistake is reported where it is."""

import json
import shutil
import unicodedata
from pathlib import Path

import pytest

from lms.core.services import AUDIENCES
from lms.paths import courses_dir
from lms.plugins.courses.packs import DOMAINS, MAX_IMAGE_BYTES, Problem
from lms.plugins.courses.packs import load_packs as load_packs_with
from lms.plugins.quiz.builtin_types import builtin_types, types_by_identifier


def load_packs(dirs):
    # As `lms courses check` does: quiz questions are checked by the installed types.
    return load_packs_with(dirs, types_by_identifier(builtin_types()))

# A small valid pack. Its course.yaml has the lesson entries on lines 11 (bai-mot) and
# 13 (bai-hai); its quiz.yaml has questions q1..q4 starting on lines 4, 13, 21 and 27.
BASE = Path(__file__).parent / "fixtures" / "mau-hop-le"
GOOD, BROKEN = "khoa-tot", "khoa-hong"


def copy_pack(root: Path, slug: str) -> Path:
    folder = root / slug
    shutil.copytree(BASE, folder)
    edit(folder / "course.yaml", "slug: mau-hop-le", f"slug: {slug}")
    return folder


def edit(path: Path, old: str | None, new: str) -> None:
    """Replace `old` once (it must be there), or the whole file when `old` is None."""
    text = path.read_text("utf-8")
    if old is not None:
        assert old in text, f"{old!r} not in {path}"
        text = text.replace(old, new, 1)
    else:
        text = new
    path.write_text(text, "utf-8")


def line_of(path: Path, needle: str) -> int:
    lines = [n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} must be on exactly one line of {path}"
    return lines[0]


def pack_pair(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of packs holding one good pack and one (still valid) pack to break."""
    root = tmp_path / "courses"
    copy_pack(root, GOOD)
    return root, copy_pack(root, BROKEN)


def assert_reported(root: Path, path: Path, line: int, phrase: str) -> list[Problem]:
    """The broken pack is left out with a problem at path:line; the good sibling still loads."""
    packs, problems = load_packs([root])
    listing = "\n".join(map(str, problems))
    assert [pack.slug for pack in packs] == [GOOD], listing
    assert any(p.path == path and p.line == line and phrase in p.message for p in problems), listing
    assert all(root / BROKEN in p.path.parents for p in problems), listing
    return problems


# --- The real packs -------------------------------------------------------------


@pytest.fixture(scope="module")
def real_packs():
    packs, problems = load_packs([courses_dir()])
    assert problems == [], "\n".join(map(str, problems))
    return packs


def test_real_packs_load_without_problems(real_packs):
    assert len(real_packs) >= 8
    assert {pack.folder.name for pack in real_packs} == {pack.slug for pack in real_packs}


def test_every_audience_has_at_least_two_courses(real_packs):
    for audience in AUDIENCES:
        courses = [pack.slug for pack in real_packs if audience in pack.audiences]
        assert len(courses) >= 2, f"{audience}: {courses}"


def test_real_lessons_have_250_to_600_words(real_packs):
    for pack in real_packs:
        for lesson in pack.lessons:
            assert 250 <= lesson.word_count <= 600, f"{lesson.path}: {lesson.word_count} words"


def test_real_quizzes_have_at_least_eight_questions(real_packs):
    for pack in real_packs:
        assert pack.quiz is not None, pack.slug
        assert len(pack.quiz.questions) >= 8, pack.slug


def test_real_packs_use_only_known_domains(real_packs):
    assert len(DOMAINS) == 6
    for pack in real_packs:
        assert pack.domains and set(pack.domains) <= set(DOMAINS), pack.slug


# --- A valid pack, read in full ---------------------------------------------------


def test_valid_pack_is_read_in_full(tmp_path):
    root, folder = pack_pair(tmp_path)
    (root / "README.md").write_text("Không phải gói khóa học.\n", "utf-8")
    (root / "ghi-chu").mkdir()  # a folder without course.yaml is not a pack
    packs, problems = load_packs([root])
    assert problems == []
    assert [pack.slug for pack in packs] == [BROKEN, GOOD]  # sorted by folder name
    pack = packs[0]
    assert pack.folder == folder
    assert pack.title == "Khóa học mẫu để kiểm thử"
    assert pack.audiences == ["nguoi-dan", "to-cong-nghe"]
    assert (pack.estimated_minutes, pack.version) == (10, 1)
    assert pack.domains == ["an-toan"] and pack.prerequisites == []
    assert [(lesson.slug, lesson.position) for lesson in pack.lessons] == [("bai-mot", 1), ("bai-hai", 2)]
    first = pack.lessons[0]
    assert first.title == "Bài một: mật khẩu"
    assert first.path == folder / "bai-mot.md"
    assert first.body_md.startswith("Mật khẩu giúp giữ tài khoản")
    assert first.word_count == 44
    assert pack.assets == {"anh-mau.png": folder / "assets" / "anh-mau.png"}


def test_quiz_questions_are_plain_data_as_written(tmp_path):
    _, folder = pack_pair(tmp_path)
    quiz = load_packs([folder.parent])[0][0].quiz
    assert quiz is not None
    assert (quiz.path, quiz.pass_mark, quiz.cooldown_minutes) == (folder / "quiz.yaml", 80, 0)
    types = [q["type"] for q in quiz.questions]
    assert types == ["single_choice", "multiple_choice", "true_false", "ordering"]
    assert quiz.questions[1]["answer"] == ["a", "b"]
    assert quiz.questions[2]["answer"] is False
    assert quiz.questions[0]["options"][1] == {"id": "b", "text": "Tám ký tự"}
    assert type(quiz.questions[0]) is dict and type(quiz.questions[0]["options"]) is list
    json.dumps(quiz.questions)


def test_quiz_defaults_and_missing_quiz(tmp_path):
    _, folder = pack_pair(tmp_path)
    edit(folder / "quiz.yaml", "pass_mark: 80\ncooldown_minutes: 0\n", "")
    packs, problems = load_packs([folder.parent])
    assert problems == []
    assert (packs[0].quiz.pass_mark, packs[0].quiz.cooldown_minutes) == (80, 0)
    (folder / "quiz.yaml").unlink()
    packs, problems = load_packs([folder.parent])
    assert problems == [] and packs[0].quiz is None


def test_problem_reads_as_path_line_message():
    assert str(Problem(Path("a/course.yaml"), 3, "Lỗi.")) == "a/course.yaml:3: Lỗi."


# --- One broken pack per kind of mistake -------------------------------------------------

COURSE_CASES = [
    # (what is broken, old text, new text, expected line (int or a unique text on it), key phrase)
    ("yaml-syntax", "estimated_minutes: 10", "estimated_minutes: 10: phút", "estimated_minutes",
     "YAML không hợp lệ"),
    ("not-a-mapping", None, "Chỉ là một dòng chữ.\n", 1, "bảng “khóa: giá trị”"),
    ("missing-summary", "summary: >-\n  Một khóa học nhỏ, đúng định dạng, dùng làm gốc cho các gói hỏng "
     "trong kiểm thử.\n", "", 1, "thiếu mục bắt buộc “summary”"),
    ("missing-lessons", "lessons:", "bai-hoc:", 1, "thiếu mục bắt buộc “lessons”"),
    ("empty-title", 'title: "Khóa học mẫu để kiểm thử"', 'title: ""', 2, "“title” phải là một đoạn chữ"),
    ("negative-minutes", "estimated_minutes: 10", "estimated_minutes: -5", 6, "số nguyên dương"),
    ("text-minutes", "estimated_minutes: 10", "estimated_minutes: mười", 6, "số nguyên dương"),
    ("boolean-version", "version: 1", "version: true", 7, "“version” phải là số nguyên dương"),
    ("no-audience", "audiences: [nguoi-dan, to-cong-nghe]", "audiences: []", 3, "có ít nhất một mục"),
    ("audience-not-list", "audiences: [nguoi-dan, to-cong-nghe]", "audiences: nguoi-dan", 3,
     "“audiences” phải là một danh sách"),
    ("slug-pattern", f"slug: {BROKEN}", "slug: Khoa_Hong", 1, "Mã khóa học “Khoa_Hong” không hợp lệ"),
    ("slug-not-folder", f"slug: {BROKEN}", "slug: khoa-khac", 1, "phải trùng với tên thư mục “khoa-hong”"),
    ("unknown-audience", "audiences: [nguoi-dan, to-cong-nghe]", "audiences: [nguoi-dan, hoc-sinh]", 3,
     "Đối tượng “hoc-sinh” không hợp lệ; chỉ được chọn: can-bo, doanh-nghiep, to-cong-nghe, nguoi-dan"),
    ("unknown-domain", "domains: [an-toan]", "domains:\n  - an-toan\n  - lap-trinh", "lap-trinh",
     "Lĩnh vực năng lực số “lap-trinh” không hợp lệ"),
    ("lesson-file-missing", '    title: "Bài hai: mã OTP"',
     '    title: "Bài hai: mã OTP"\n  - slug: bai-ba\n    title: "Bài ba"', "slug: bai-ba",
     "Không tìm thấy tệp bài học “bai-ba.md”"),
    ("duplicate-lesson", '    title: "Bài hai: mã OTP"',
     '    title: "Bài hai: mã OTP"\n  - slug: bai-mot\n    title: "Bài lặp"', 15,
     "Mã bài học “bai-mot” bị trùng (đã dùng ở dòng 11)"),
    ("lesson-without-title", '\n    title: "Bài hai: mã OTP"', "", 13, "cần có cả “slug” và “title”"),
    ("lesson-without-slug", "  - slug: bai-hai\n    title:", "  - title:", 13, "cần có cả “slug” và “title”"),
    ("lesson-slug-escapes", "slug: bai-hai", "slug: ../bai-hai", 13, "Mã bài học “../bai-hai” không hợp lệ"),
    ("no-lessons", "lessons:", "lessons: []\nold:", 10, "ít nhất một bài học"),
    ("unknown-prerequisite", "prerequisites: []", "prerequisites: [khong-co-khoa-nay]", 9,
     "Khóa học tiên quyết “khong-co-khoa-nay” không tồn tại"),
    ("self-prerequisite", "prerequisites: []", f"prerequisites: [{BROKEN}]", 9, "tiên quyết của chính nó"),
]


@pytest.mark.parametrize(("old", "new", "line", "phrase"), [case[1:] for case in COURSE_CASES],
                         ids=[case[0] for case in COURSE_CASES])
def test_course_yaml_mistakes(tmp_path, old, new, line, phrase):
    root, folder = pack_pair(tmp_path)
    path = folder / "course.yaml"
    edit(path, old, new)
    assert_reported(root, path, line if isinstance(line, int) else line_of(path, line), phrase)


QUIZ_CASES = [
    ("yaml-syntax", "cooldown_minutes: 0", "cooldown_minutes: 0: 5", 2, "YAML không hợp lệ"),
    ("not-a-mapping", None, "- một\n- hai\n", 1, "quiz.yaml phải là một bảng “khóa: giá trị”"),
    ("pass-mark-too-high", "pass_mark: 80", "pass_mark: 120", 1,
     "“pass_mark” phải là số nguyên từ 1 đến 100"),
    ("negative-cooldown", "cooldown_minutes: 0", "cooldown_minutes: -5", 2, "số nguyên không âm"),
    ("no-questions", None, "pass_mark: 80\nquestions: []\n", 2, "ít nhất một câu hỏi"),
    ("duplicate-id", "  - id: q2", "  - id: q1", 13, "Mã câu hỏi “q1” bị trùng với câu ở dòng 4"),
    ("unknown-type", "type: single_choice", "type: essay", 4, "loại câu hỏi “essay” không hợp lệ"),
    ("empty-prompt", 'prompt: "Có thể đọc mã OTP cho người xưng là cán bộ."', 'prompt: ""', 21,
     "Câu hỏi “q3”: thiếu “prompt”"),
    ("no-explanation", '    explanation: "Không đọc mã OTP cho bất kỳ ai."\n', "", 21,
     "Câu hỏi “q3”: thiếu “explanation”"),
    ("unknown-lesson", 'lesson: bai-hai\n    prompt: "Sắp xếp', 'lesson: bai-ba\n    prompt: "Sắp xếp', 27,
     "bài học “bai-ba” không có trong khóa này"),
    ("single-answer-nowhere", "answer: b", "answer: d", 4, "đáp án “d” không trỏ tới lựa chọn nào"),
    ("single-one-option", '      - {id: a, text: "Bốn ký tự"}\n', "", 4, "cần ít nhất 2 lựa chọn"),
    ("option-duplicate-id", '{id: b, text: "Tám ký tự"}', '{id: a, text: "Tám ký tự"}', 10,
     "mã lựa chọn “a” bị trùng"),
    ("option-without-text", '{id: b, text: "Tám ký tự"}', "{id: b}", 10, "cần có “id” và “text”"),
    ("multiple-answer-nowhere", "answer: [a, b]", "answer: [a, e]", 13,
     "đáp án “e” không trỏ tới lựa chọn nào"),
    ("multiple-answer-empty", "answer: [a, b]", "answer: []", 13, "danh sách mã các lựa chọn đúng"),
    ("unknown-scoring", "scoring: partial", "scoring: half", 13, "cách chấm “half” không hợp lệ"),
    ("true-false-quoted", "answer: false", 'answer: "sai"', 21, "true hoặc false"),
    ("ordering-one-step", '      - {id: s2, text: "Tự nhập mã vào ứng dụng"}\n', "", 27,
     "cần ít nhất 2 bước"),
    ("step-duplicate-id", "{id: s2,", "{id: s1,", 33, "mã bước “s1” bị trùng"),
]


@pytest.mark.parametrize(("old", "new", "line", "phrase"), [case[1:] for case in QUIZ_CASES],
                         ids=[case[0] for case in QUIZ_CASES])
def test_quiz_yaml_mistakes(tmp_path, old, new, line, phrase):
    root, folder = pack_pair(tmp_path)
    path = folder / "quiz.yaml"
    edit(path, old, new)
    assert_reported(root, path, line, phrase)


LESSON_CASES = [
    ("starts-with-title", "bai-mot.md", "Mật khẩu giúp", "# Bài một\n\nMật khẩu giúp", 1, "“# …”"),
    ("image-missing", "bai-hai.md", "## Giữ kín mã OTP\n",
     "## Giữ kín mã OTP\n\n![Tin nhắn](assets/otp.png)\n", 5, "Không tìm thấy ảnh “assets/otp.png”"),
    ("image-outside-assets", "bai-mot.md", "(assets/anh-mau.png)", "(https://example.com/anh.png)", 8,
     "phải nằm trong thư mục assets/"),
    ("empty-lesson", "bai-hai.md", None, "\n", 1, "chưa có nội dung"),
]


@pytest.mark.parametrize(("name", "old", "new", "line", "phrase"), [case[1:] for case in LESSON_CASES],
                         ids=[case[0] for case in LESSON_CASES])
def test_lesson_mistakes(tmp_path, name, old, new, line, phrase):
    root, folder = pack_pair(tmp_path)
    path = folder / name
    edit(path, old, new)
    assert_reported(root, path, line, phrase)


def test_missing_lesson_file(tmp_path):
    root, folder = pack_pair(tmp_path)
    (folder / "bai-hai.md").unlink()
    assert_reported(root, folder / "course.yaml", 13, "Không tìm thấy tệp bài học “bai-hai.md”")


def test_decomposed_unicode_in_yaml_is_reported_on_its_line(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "course.yaml"
    title = 'title: "Khóa học mẫu để kiểm thử"'
    edit(path, title, unicodedata.normalize("NFD", title))
    assert_reported(root, path, 2, "chuẩn hóa Unicode NFC")


def test_decomposed_unicode_in_lesson_is_reported_on_its_line(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "bai-hai.md"
    sentence = "Không đọc mã OTP cho bất kỳ ai"
    edit(path, sentence, unicodedata.normalize("NFD", sentence))
    assert_reported(root, path, 5, "chuẩn hóa Unicode NFC")


def test_text_that_is_not_utf8(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "bai-hai.md"
    path.write_bytes("Dòng một.\nMã OTP\n".encode("utf-16"))
    assert_reported(root, path, 1, "không phải UTF-8")


def test_oversize_image(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "assets" / "anh-lon.png"
    path.write_bytes(b"\x89PNG" + bytes(MAX_IMAGE_BYTES))
    assert_reported(root, path, 1, "tối đa 150 KB")


def test_image_of_exactly_the_limit_is_fine(tmp_path):
    root, folder = pack_pair(tmp_path)
    (folder / "assets" / "vua-du.png").write_bytes(bytes(MAX_IMAGE_BYTES))
    packs, problems = load_packs([root])
    assert problems == [] and len(packs) == 2


# --- Across packs --------------------------------------------------------------


def test_duplicate_course_slug_is_reported_on_the_second(tmp_path):
    first = copy_pack(tmp_path / "mot", GOOD)
    second = copy_pack(tmp_path / "hai", GOOD)
    copy_pack(tmp_path / "hai", "khoa-khac")
    packs, problems = load_packs([tmp_path / "mot", tmp_path / "hai"])
    assert [pack.folder for pack in packs] == [first, second.parent / "khoa-khac"]
    assert problems == [Problem(second / "course.yaml", 1,
                                f"Mã khóa học “{GOOD}” đã được dùng ở {first / 'course.yaml'}.")]


def test_prerequisite_of_a_known_course_is_kept(tmp_path):
    root, folder = pack_pair(tmp_path)
    edit(folder / "course.yaml", "prerequisites: []", f"prerequisites: [{GOOD}]")
    packs, problems = load_packs([root])
    assert problems == []
    assert {pack.slug: pack.prerequisites for pack in packs} == {BROKEN: [GOOD], GOOD: []}


def test_prerequisite_in_another_dir_is_known(tmp_path):
    copy_pack(tmp_path / "mot", GOOD)
    folder = copy_pack(tmp_path / "hai", BROKEN)
    edit(folder / "course.yaml", "prerequisites: []", f"prerequisites: [{GOOD}]")
    packs, problems = load_packs([tmp_path / "hai", tmp_path / "mot"])
    assert problems == [] and len(packs) == 2


def test_course_needing_a_broken_course_is_left_out_too(tmp_path):
    root, folder = pack_pair(tmp_path)
    needy = copy_pack(root, "khoa-sau")
    edit(needy / "course.yaml", "prerequisites: []", f"prerequisites: [{BROKEN}]")
    edit(folder / "course.yaml", "version: 1", "version: 0")
    packs, problems = load_packs([root])
    assert [pack.slug for pack in packs] == [GOOD]
    assert [(p.path, p.line) for p in problems] == [(folder / "course.yaml", 7), (needy / "course.yaml", 9)]
    assert f"“{BROKEN}” đang có lỗi" in problems[1].message


def test_prerequisite_cycle(tmp_path):
    root, folder = pack_pair(tmp_path)
    other = copy_pack(root, "khoa-sau")
    edit(folder / "course.yaml", "prerequisites: []", "prerequisites: [khoa-sau]")
    edit(other / "course.yaml", "prerequisites: []", f"prerequisites: [{BROKEN}]")
    packs, problems = load_packs([root])
    assert [pack.slug for pack in packs] == [GOOD]
    assert [(p.path, p.line) for p in problems] == [(folder / "course.yaml", 1), (other / "course.yaml", 1)]
    assert "vòng lặp: khoa-hong → khoa-sau → khoa-hong" in problems[0].message


def test_problems_are_sorted_by_path_then_line(tmp_path):
    root, folder = pack_pair(tmp_path)
    edit(folder / "course.yaml", "version: 1", "version: 0")
    edit(folder / "course.yaml", "estimated_minutes: 10", "estimated_minutes: 0")
    edit(folder / "bai-mot.md", "Mật khẩu giúp", "# Tiêu đề\nMật khẩu giúp")
    edit(folder / "quiz.yaml", "answer: b", "answer: x")
    _, problems = load_packs([root])
    assert [(p.path.name, p.line) for p in problems] == [
        ("bai-mot.md", 1), ("course.yaml", 6), ("course.yaml", 7), ("quiz.yaml", 4)]


def test_missing_directory_is_reported(tmp_path):
    packs, problems = load_packs([tmp_path / "khong-co"])
    assert packs == []
    assert [(p.path, p.line) for p in problems] == [(tmp_path / "khong-co", 1)]


# --- Content hash -----------------------------------------------------------------


def test_content_hash_is_stable_and_follows_lesson_text(tmp_path):
    root, folder = pack_pair(tmp_path)

    def hash_of(slug: str) -> str:
        return next(pack.content_hash for pack in load_packs([root])[0] if pack.slug == slug)

    before = hash_of(BROKEN)
    assert len(before) == 64 and int(before, 16) >= 0
    assert hash_of(BROKEN) == before  # nothing changed, same hash
    edit(folder / "bai-hai.md", "gửi qua tin nhắn", "gửi qua tin nhắn SMS")
    assert hash_of(BROKEN) != before
    edit(folder / "bai-hai.md", "gửi qua tin nhắn SMS", "gửi qua tin nhắn")
    assert hash_of(BROKEN) == before


def test_content_hash_follows_assets_and_quiz(tmp_path):
    root, folder = pack_pair(tmp_path)
    hashes = {pack.slug: pack.content_hash for pack in load_packs([root])[0]}
    # Same content in two folders: the slug line differs, so the hashes do too.
    assert hashes[GOOD] != hashes[BROKEN]
    (folder / "assets" / "them.png").write_bytes(b"\x89PNG")
    after_asset = next(p.content_hash for p in load_packs([root])[0] if p.slug == BROKEN)
    assert after_asset != hashes[BROKEN]
    edit(folder / "quiz.yaml", "pass_mark: 80", "pass_mark: 70")
    after_quiz = next(p.content_hash for p in load_packs([root])[0] if p.slug == BROKEN)
    assert after_quiz not in (after_asset, hashes[BROKEN])
