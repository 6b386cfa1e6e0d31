"""Course packs: the real ones load cleanly, and each kind of mistake is reported where it is."""

import json
import re
import shutil
import unicodedata
from pathlib import Path

import pytest

from lms.core.services import AUDIENCES
from lms.paths import courses_dir
from lms.plugins.courses.packs import (
    DOMAINS,
    MAX_IMAGE_BYTES,
    MAX_LESSON_WORDS,
    MIN_LESSON_WORDS,
    Problem,
)
from lms.plugins.courses.packs import load_packs as load_packs_with
from lms.plugins.quiz.builtin_types import builtin_types, types_by_identifier


def load_packs(dirs):
    # As `lms courses check` does: quiz questions are checked by the installed types.
    return load_packs_with(dirs, types_by_identifier(builtin_types()))

# A small valid pack. Its course.yaml has the lesson entries on lines 11 (bai-mot) and
# 13 (bai-hai); its quiz.yaml has questions q1..q4 starting on lines 4, 13, 21 and 27.
FIXTURES = Path(__file__).parent / "fixtures"
BASE = FIXTURES / "mau-hop-le"
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


def test_real_quizzes_have_at_least_eight_questions(real_packs):
    # A short guide may come without a quiz (README allows it); the real courses have one.
    quizzes = {pack.slug: pack.quiz for pack in real_packs if pack.quiz is not None}
    assert len(quizzes) >= 8
    for slug, quiz in quizzes.items():
        assert len(quiz.questions) >= 8, slug


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
    assert first.word_count == 105
    assert all(lesson.competences == () for lesson in pack.lessons)  # optional in course.yaml
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
     "Lỗi cú pháp YAML ở dòng 6, cột 22: dấu hai chấm “:” ở chỗ này không hợp lệ"),
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
    ("yaml-syntax", "cooldown_minutes: 0", "cooldown_minutes: 0: 5", 2,
     "Lỗi cú pháp YAML ở dòng 2, cột 20: dấu hai chấm"),
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
    ("lesson-is-a-list", 'lesson: bai-hai\n    prompt: "Sắp xếp', 'lesson: [bai-hai]\n    prompt: "Sắp xếp', 27,
     "bài học “['bai-hai']” không có trong khóa này"),
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


# --- The rules courses/README.md promises, each reported exactly -------------------


def problems_of_broken(root: Path) -> list[str]:
    """Every problem, as `lms courses check` prints it; the good sibling still loads."""
    packs, problems = load_packs([root])
    assert [pack.slug for pack in packs] == [GOOD], "\n".join(map(str, problems))
    return [str(problem) for problem in problems]


def test_good_fixture_packs_pass_and_a_short_guide_is_allowed():
    packs, problems = load_packs([FIXTURES])
    assert problems == [], "\n".join(map(str, problems))
    assert [pack.slug for pack in packs] == ["huong-dan-ngan", "mau-hop-le"]
    guide = packs[0]
    assert guide.quiz is None  # a course without a quiz needs no question per lesson
    [lesson] = guide.lessons
    # A 3-minute guide: below the recommended 250 words, above the refused minimum.
    assert MIN_LESSON_WORDS <= lesson.word_count < 250
    assert lesson.competences == ("757:nguoi-dan:0.2", "757:hoc-sinh")


SOURCES = "\n\n## Nguồn tham khảo\n\n- Cổng Dịch vụ công quốc gia (dichvucong.gov.vn).\n"
SOURCES_WORDS = 10  # “Nguồn tham khảo” and the seven pieces of the item; “##” and “-” are not words


def body_of(words: int) -> str:
    return " ".join(["chữ"] * (words - SOURCES_WORDS)) + SOURCES


def test_a_one_word_lesson_is_refused(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "bai-hai.md"
    edit(path, None, "OTP\n")
    assert problems_of_broken(root) == [
        f"{path}:1: Bài học quá ngắn: 1 từ, cần ít nhất 80 từ (nên viết 250–600 từ); "
        "có thể tệp bị cắt mất hoặc mới là bản nháp.",
        f"{path}:1: Bài học thiếu mục “## Nguồn tham khảo” ở cuối bài: hãy thêm mục này và liệt kê nguồn "
        "(văn bản pháp luật có số và ngày, hoặc trang chính thức), mỗi nguồn một dòng “- …”.",
    ]


def test_word_bounds_are_inclusive(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "bai-hai.md"
    for words in (MIN_LESSON_WORDS, MAX_LESSON_WORDS):
        edit(path, None, body_of(words))
        packs, problems = load_packs([root])
        assert problems == [], problems
        assert next(p for p in packs if p.slug == BROKEN).lessons[1].word_count == words
    edit(path, None, body_of(MIN_LESSON_WORDS - 1))
    assert problems_of_broken(root) == [
        f"{path}:1: Bài học quá ngắn: 79 từ, cần ít nhất 80 từ (nên viết 250–600 từ); "
        "có thể tệp bị cắt mất hoặc mới là bản nháp."]
    edit(path, None, body_of(MAX_LESSON_WORDS + 1))
    assert problems_of_broken(root) == [
        f"{path}:1: Bài học quá dài: 1201 từ, tối đa 1200 từ (nên viết 250–600 từ); hãy tách thành hai bài."]


def test_lesson_without_sources_is_reported_on_its_last_line(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "bai-mot.md"
    edit(path, SOURCES, "\n")
    assert len(path.read_text("utf-8").splitlines()) == 12
    assert problems_of_broken(root) == [
        f"{path}:12: Bài học thiếu mục “## Nguồn tham khảo” ở cuối bài: hãy thêm mục này và liệt kê nguồn "
        "(văn bản pháp luật có số và ngày, hoặc trang chính thức), mỗi nguồn một dòng “- …”."]


@pytest.mark.parametrize("heading", ["## Nguồn tham khảo:", "### Nguồn tham khảo", "## nguồn tham khảo",
                                     "## Tài liệu tham khảo", "# Nguồn"])
def test_sources_heading_spelled_otherwise(tmp_path, heading):
    root, folder = pack_pair(tmp_path)
    path = folder / "bai-mot.md"
    edit(path, "## Nguồn tham khảo", heading)
    assert problems_of_broken(root) == [
        f"{path}:14: Tiêu đề mục nguồn phải viết đúng là “## Nguồn tham khảo” (hai dấu #, không có dấu hai "
        f"chấm), không phải “{heading}”."]


def test_sources_heading_inside_code_does_not_count(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "bai-mot.md"
    edit(path, SOURCES, "\n\n```\n## Nguồn tham khảo\n```\n")
    assert problems_of_broken(root) == [
        f"{path}:16: Bài học thiếu mục “## Nguồn tham khảo” ở cuối bài: hãy thêm mục này và liệt kê nguồn "
        "(văn bản pháp luật có số và ngày, hoặc trang chính thức), mỗi nguồn một dòng “- …”."]


def test_sources_section_without_a_list_item(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "bai-mot.md"
    edit(path, "- Cổng Dịch vụ công", "Cổng Dịch vụ công")  # a paragraph, not a list
    assert problems_of_broken(root) == [
        f"{path}:14: Mục “## Nguồn tham khảo” chưa có nguồn nào: hãy liệt kê mỗi nguồn trên một dòng "
        "bắt đầu bằng “- ” (văn bản pháp luật có số và ngày, hoặc trang chính thức)."]


def test_sources_may_be_numbered_or_grouped_under_subheadings(tmp_path):
    root, folder = pack_pair(tmp_path)
    edit(folder / "bai-mot.md", "- Cổng Dịch vụ công", "### Trang chính thức\n\n1. Cổng Dịch vụ công")
    assert load_packs([root])[1] == []


def test_sources_section_must_come_last(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "bai-mot.md"
    edit(path, "(dichvucong.gov.vn).\n", "(dichvucong.gov.vn).\n\n## Ghi chú\n\nHọc chậm cũng được.\n")
    assert problems_of_broken(root) == [
        f"{path}:18: Mục “## Nguồn tham khảo” phải là mục cuối của bài, nhưng sau nó còn mục “Ghi chú”; "
        "hãy chuyển mục này lên trước."]


def test_lesson_no_question_covers_is_named_on_the_questions_line(tmp_path):
    root, folder = pack_pair(tmp_path)
    quiz = folder / "quiz.yaml"
    shutil.copy(folder / "bai-hai.md", folder / "bai-ba.md")
    edit(folder / "course.yaml", '    title: "Bài hai: mã OTP"',
         '    title: "Bài hai: mã OTP"\n  - slug: bai-ba\n    title: "Bài ba"')
    edit(quiz, "    lesson: bai-hai\n", "    lesson: bai-mot\n")
    edit(quiz, "    lesson: bai-hai\n", "    lesson: bai-mot\n")
    assert problems_of_broken(root) == [  # same line: sorted by message
        f"{quiz}:3: Chưa có câu hỏi nào cho bài học “bai-ba”: hãy thêm ít nhất một câu có “lesson: bai-ba”.",
        f"{quiz}:3: Chưa có câu hỏi nào cho bài học “bai-hai”: hãy thêm ít nhất một câu có “lesson: bai-hai”.",
    ]


def test_uncovered_lesson_is_reported_beside_other_quiz_mistakes(tmp_path):
    root, folder = pack_pair(tmp_path)
    quiz = folder / "quiz.yaml"
    text = quiz.read_text("utf-8")
    edit(quiz, None, "\n" + text[:text.index("  - id: q3")].replace("answer: b", "answer: [b]"))
    messages = problems_of_broken(root)
    assert f"{quiz}:4: Chưa có câu hỏi nào cho bài học “bai-hai”: hãy thêm ít nhất một câu có " \
           "“lesson: bai-hai”." in messages
    assert any(m.startswith(f"{quiz}:5: Câu hỏi “q1”") for m in messages), messages


YAML_CASES = [
    # (what, file, old, new, line, column, explanation)
    ("colon-in-title", "course.yaml", 'title: "Khóa học mẫu để kiểm thử"', "title: Khóa học: mẫu", 2, 16,
     "dấu hai chấm “:” ở chỗ này không hợp lệ; có thể thiếu dấu ngoặc kép quanh một câu có dấu hai chấm "
     "(viết title: \"Bước 1: mở ứng dụng\"), hoặc dòng này thụt lề sâu hơn dòng trên, hoặc dòng trên "
     "thiếu dấu hai chấm sau tên mục"),
    ("missing-colon", "course.yaml", "version: 1", "version", 7, 1,
     "thiếu dấu hai chấm “:” sau tên mục (mỗi dòng viết dạng tên: giá trị), hoặc một câu dài bị xuống "
     "dòng mà không nằm trong dấu ngoặc kép"),
    ("tab", "course.yaml", '    title: "Bài hai: mã OTP"', '\ttitle: "Bài hai: mã OTP"', 14, 1,
     "có ký tự Tab; YAML chỉ dùng dấu cách để thụt lề, hãy thay Tab bằng dấu cách"),
    ("misaligned-item", "course.yaml", "  - slug: bai-hai", " - slug: bai-hai", 13, 2,
     "thụt lề không khớp: dòng này không thẳng hàng với các mục cùng cấp ở trên (các mục cùng cấp phải "
     "bắt đầu ở cùng một cột, chỉ thụt lề bằng dấu cách)"),
    ("text-after-quote", "course.yaml", 'title: "Khóa học mẫu để kiểm thử"', 'title: "Khóa học" mẫu', 2, 19,
     "có chữ thừa sau giá trị, thường là chữ nằm sau dấu ngoặc kép đóng; nếu câu có dấu ngoặc kép bên "
     "trong, hãy dùng ngoặc kép “ ” hoặc bọc cả câu bằng dấu nháy đơn '…'; cũng có thể một dấu ngoặc kép "
     "ở dòng trên chưa được đóng"),
    ("quote-left-open-above", "course.yaml", 'title: "Khóa học mẫu để kiểm thử"', 'title: "Khóa học mẫu',
     12, 13, "có chữ thừa sau giá trị, thường là chữ nằm sau dấu ngoặc kép đóng; nếu câu có dấu ngoặc kép "
     "bên trong, hãy dùng ngoặc kép “ ” hoặc bọc cả câu bằng dấu nháy đơn '…'; cũng có thể một dấu ngoặc "
     "kép ở dòng trên chưa được đóng"),
    ("duplicate-key", "course.yaml", "version: 1", "version: 1\nversion: 2", 8, 1,
     "mục “version” được ghi hai lần (lần đầu ở dòng 7); YAML chỉ giữ lần sau, hãy xóa một lần"),
    ("unclosed-quote", "course.yaml", 'title: "Bài hai: mã OTP"', 'title: "Bài hai: mã OTP', 14, 12,
     "dấu ngoặc kép (hoặc nháy đơn) mở ở đây chưa được đóng; hãy thêm dấu đóng ở cuối câu"),
    ("control-character", "course.yaml", "mẫu để", "mẫu\x07 để", 2, 21,
     "có ký tự điều khiển không nhìn thấy được (mã U+0007), thường do dán từ Word hoặc PDF; hãy xóa ký tự đó"),
    ("colon-in-option", "quiz.yaml", '{id: b, text: "Tám ký tự"}', "{id: b, text: Tám: ký tự}", 10, 26,
     "bảng trong ngoặc nhọn {…} (mở ở dòng 10) viết chưa đúng: thiếu dấu phẩy hoặc thiếu dấu “}” đóng; "
     "chữ có dấu hai chấm, dấu phẩy hay dấu ngoặc kép bên trong phải đặt trong dấu ngoặc kép, "
     "ví dụ {id: a, text: \"Chọn: có\"}"),
    ("unclosed-list", "quiz.yaml", "answer: [a, b]", "answer: [a, b", 20, 16,
     "danh sách trong ngoặc vuông […] (mở ở dòng 19) viết chưa đúng: thiếu dấu phẩy giữa các mục hoặc "
     "thiếu dấu “]” đóng; mục có dấu phẩy hay dấu hai chấm phải nằm trong dấu ngoặc kép"),
    ("at-sign", "quiz.yaml", 'prompt: "Có thể đọc', "prompt: @Có thể đọc", 24, 13,
     "giá trị không được bắt đầu bằng ký tự “@”; hãy đặt cả giá trị trong dấu ngoặc kép, ví dụ title: \"…\""),
    ("unknown-problem", "quiz.yaml", "pass_mark: 80", "%YAML x\n---\npass_mark: 80", 1, 7,
     "YAML viết chưa đúng ở chỗ này; hãy kiểm tra thụt lề, dấu hai chấm và dấu ngoặc kép "
     "(chi tiết kỹ thuật: expected a digit, but found 'x')"),
]


@pytest.mark.parametrize(("name", "old", "new", "line", "column", "explanation"),
                         [case[1:] for case in YAML_CASES], ids=[case[0] for case in YAML_CASES])
def test_yaml_errors_are_explained_in_vietnamese(tmp_path, name, old, new, line, column, explanation):
    root, folder = pack_pair(tmp_path)
    path = folder / name
    edit(path, old, new)
    assert problems_of_broken(root) == [
        f"{path}:{line}: Lỗi cú pháp YAML ở dòng {line}, cột {column}: {explanation}."]


def test_every_yaml_error_message_is_vietnamese(tmp_path):
    """No PyYAML English sentence reaches a writer on its own, whatever the mistake."""
    root, folder = pack_pair(tmp_path)
    path = folder / "course.yaml"
    original = path.read_text("utf-8")
    for broken in (": x", "a: *b", "a: !b c", "a: &", "a: >- b\n  c", "- a\nb: c", "a: }", "a: ? b",
                   "[a]: b", "a: 1\n---\nb: 2", 'a: "\\d"', "a: b\n\t c: d", "a: [b,, c]"):
        edit(path, None, broken + "\n")
        messages = problems_of_broken(root)
        assert len(messages) == 1 and "Lỗi cú pháp YAML ở dòng" in messages[0], (broken, messages)
        explanation = messages[0].split(": ", 2)[2]
        assert re.search(r"[ạảãàáâậầấẩẫăắằặẳẵđêềếểễệôồốổỗộơờớởỡợưừứửữự]", explanation), (broken, messages)
        assert "chi tiết kỹ thuật" not in explanation, (broken, messages)
    edit(path, None, original)


COMPETENCE_CASES = [
    # (what, text after the bai-hai title, line, message)
    ("skill-not-dotted", 'competences: ["757:nguoi-dan:2"]', 15,
     "Mã năng lực “757:nguoi-dan:2”: kỹ năng “2” phải là hai số cách nhau bằng dấu chấm, ví dụ 0.2 hoặc 1.3."),
    ("unknown-group", 'competences: ["757:thanh-nien"]', 15,
     "Mã năng lực “757:thanh-nien”: nhóm “thanh-nien” không có trong Quyết định 757/QĐ-BKHCN; "
     "chỉ được chọn: nguoi-dan, can-bo, doanh-nghiep, hoc-sinh."),
    ("wrong-decision", 'competences: ["02:can-bo"]', 15,
     "Mã năng lực “02:can-bo” không hợp lệ: viết dạng 757:<nhóm> hoặc 757:<nhóm>:<kỹ năng> theo "
     "Quyết định 757/QĐ-BKHCN, ví dụ \"757:nguoi-dan:0.2\" hoặc \"757:can-bo\"."),
    ("not-text", "competences: [757]", 15,
     "Mã năng lực “757” phải là chữ trong dấu ngoặc kép; viết dạng 757:<nhóm> hoặc 757:<nhóm>:<kỹ năng> "
     "theo Quyết định 757/QĐ-BKHCN, ví dụ \"757:nguoi-dan:0.2\" hoặc \"757:can-bo\"."),
    ("not-a-list", 'competences: "757:can-bo"', 15,
     "“competences” phải là danh sách mã năng lực, ví dụ [\"757:nguoi-dan:0.2\", \"757:can-bo\"]."),
    ("second-item-wrong", 'competences:\n      - "757:can-bo"\n      - "757:can-bo:"', 17,
     "Mã năng lực “757:can-bo:”: kỹ năng “” phải là hai số cách nhau bằng dấu chấm, ví dụ 0.2 hoặc 1.3."),
    ("repeated", 'competences:\n      - "757:can-bo:1.1"\n      - "757:can-bo:1.1"', 17,
     "Mã năng lực “757:can-bo:1.1” bị lặp trong cùng một bài học."),
]


@pytest.mark.parametrize(("text", "line", "message"), [case[1:] for case in COMPETENCE_CASES],
                         ids=[case[0] for case in COMPETENCE_CASES])
def test_competence_mistakes(tmp_path, text, line, message):
    root, folder = pack_pair(tmp_path)
    path = folder / "course.yaml"
    edit(path, '    title: "Bài hai: mã OTP"', f'    title: "Bài hai: mã OTP"\n    {text}')
    assert problems_of_broken(root) == [f"{path}:{line}: {message}"]


def test_competences_are_exposed_in_order_and_change_the_hash(tmp_path):
    root, folder = pack_pair(tmp_path)
    path = folder / "course.yaml"

    def broken_pack():
        packs, problems = load_packs([root])
        assert problems == [], problems
        return next(pack for pack in packs if pack.slug == BROKEN)

    before = broken_pack().content_hash
    edit(path, '    title: "Bài hai: mã OTP"',
         '    title: "Bài hai: mã OTP"\n    competences: ["757:nguoi-dan:0.2", "757:can-bo", 757:doanh-nghiep:10.12]')
    pack = broken_pack()
    assert [lesson.competences for lesson in pack.lessons] == [
        (), ("757:nguoi-dan:0.2", "757:can-bo", "757:doanh-nghiep:10.12")]
    assert pack.content_hash != before
    edit(path, '"757:can-bo", 757', '"757:hoc-sinh", 757')
    assert broken_pack().content_hash not in (before, pack.content_hash)


def test_a_cover_names_a_picture_of_the_pack(tmp_path):
    root, folder = pack_pair(tmp_path)
    course = folder / "course.yaml"
    edit(course, "lessons:", "cover: assets/bia.png\nlessons:")
    line = line_of(course, "cover:")
    assert problems_of_broken(root) == [
        f"{course}:{line}: Không tìm thấy ảnh bìa “assets/bia.png”: thư mục assets/ không có tệp “bia.png”."]
    edit(course, "cover: assets/bia.png", "cover: bia.png")
    assert problems_of_broken(root) == [
        f"{course}:{line}: “cover” là ảnh bìa trong thư mục assets/, ví dụ cover: assets/bia.png."]
    (folder / "assets").mkdir(exist_ok=True)
    from PIL import Image

    Image.new("RGB", (40, 20), (10, 80, 140)).save(folder / "assets" / "bia.png")
    edit(course, "cover: bia.png", "cover: assets/bia.png")
    packs, problems = load_packs([root])
    assert problems == [] and {p.slug: p.cover for p in packs}[folder.name] == "bia.png"


def test_every_real_lesson_is_tagged_and_residents_lessons_have_a_picture(real_packs):
    untagged = [f"{p.slug}/{lesson.slug}" for p in real_packs for lesson in p.lessons if not lesson.competences]
    assert untagged == []
    bare = [f"{p.slug}/{lesson.slug}" for p in real_packs if "nguoi-dan" in p.audiences
            for lesson in p.lessons if "](assets/" not in lesson.body_md]
    assert bare == []
