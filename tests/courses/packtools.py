"""Write small course packs for tests."""

from pathlib import Path

import yaml

from lms.plugins.courses import services
from lms.plugins.courses.packs import load_packs
from lms.plugins.quiz.builtin_types import builtin_types, types_by_identifier

# At least the 80 words and the sources section `lms courses check` asks of every lesson.
FILLER = ("Đoạn này chỉ để bài thử đủ độ dài tối thiểu mà trình kiểm tra gói khóa học đòi hỏi. "
          "Một bài thật nên dài từ hai trăm năm mươi đến sáu trăm từ, chia thành các mục ngắn có tiêu đề, "
          "dùng danh sách đánh số cho từng bước làm theo, viết câu ngắn, dễ hiểu với mọi lứa tuổi, "
          "và ghi rõ số hiệu cùng ngày ban hành của văn bản được nhắc tới.\n\n")
BODY = ("Đây là nội dung bài học {n}, viết ngắn gọn cho người đọc trên điện thoại.\n\n" + FILLER
        + "## Nguồn tham khảo\n\n- Tài liệu thử.\n")


def write_pack(root: Path, slug: str, *, lessons: list[str] | None = None,
               audiences: tuple[str, ...] = ("nguoi-dan",), title: str | None = None,
               bodies: dict[str, str] | None = None, quiz: dict | None = None) -> Path:
    lessons = lessons or ["bai-mot", "bai-hai", "bai-ba"]
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    course = {
        "slug": slug, "title": title or f"Khóa học {slug}", "audiences": list(audiences),
        "summary": "Một khóa học ngắn để thử.", "estimated_minutes": 15, "version": 1,
        "domains": ["an-toan"],
        "lessons": [{"slug": s, "title": f"Bài {i}: {s}"} for i, s in enumerate(lessons, 1)],
    }
    (folder / "course.yaml").write_text(yaml.safe_dump(course, allow_unicode=True), "utf-8")
    for i, lesson in enumerate(lessons, 1):
        body = (bodies or {}).get(lesson, BODY.format(n=i))
        (folder / f"{lesson}.md").write_text(body, "utf-8")
    if quiz is not None:
        (folder / "quiz.yaml").write_text(yaml.safe_dump(quiz, allow_unicode=True), "utf-8")
    return folder


def sync_dirs(db, dirs: list[Path]) -> services.SyncReport:
    packs, problems = load_packs(dirs, types_by_identifier(builtin_types()))
    assert not problems, [str(p) for p in problems]
    report = services.sync_packs(db, packs)
    db.commit()
    return report
