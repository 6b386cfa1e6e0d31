"""Build quiz packs and fill attempt forms the way a learner would."""

from sqlalchemy import select

from lms.plugins.quiz.models import QuizAttempt
from tests.courses.packtools import sync_dirs, write_pack
from tests.factories import fresh

QUIZ = {
    "pass_mark": 75,
    "questions": [
        {"id": "q1", "type": "single_choice", "lesson": "bai-mot", "prompt": "Gọi số nào để báo tin rác?",
         "options": [{"id": "a", "text": "156"}, {"id": "b", "text": "113"}, {"id": "c", "text": "114"}],
         "answer": "a", "explanation": "Đường dây 156 nhận phản ánh cuộc gọi, tin nhắn rác."},
        {"id": "q2", "type": "multiple_choice", "scoring": "partial", "lesson": "bai-mot",
         "prompt": "Điều nào không được làm?",
         "options": [{"id": "a", "text": "Đọc mã OTP cho người lạ"}, {"id": "b", "text": "Gọi lại số quen"},
                     {"id": "c", "text": "Bấm đường link lạ"}, {"id": "d", "text": "Hỏi con cháu"}],
         "answer": ["a", "c"], "explanation": "Không đưa OTP, không bấm link lạ."},
        {"id": "q3", "type": "true_false", "lesson": "bai-hai",
         "prompt": "Công an lấy lời khai qua điện thoại.", "answer": False,
         "explanation": "Công an không làm việc qua điện thoại."},
        {"id": "q4", "type": "ordering", "lesson": "bai-hai", "prompt": "Sắp xếp các bước chuyển tiền.",
         "steps": [{"id": "s1", "text": "Mở ứng dụng ngân hàng"}, {"id": "s2", "text": "Quét mã VietQR"},
                   {"id": "s3", "text": "Kiểm tra tên người nhận"}, {"id": "s4", "text": "Xác nhận"}],
         "explanation": "Luôn kiểm tra tên trước khi xác nhận."},
    ],
}


def quiz_course(db, root, slug="khoa-kiem-tra", quiz=None, lessons=("bai-mot", "bai-hai")):
    write_pack(root, slug, lessons=list(lessons), quiz=quiz or QUIZ)
    sync_dirs(db, [root])
    return slug


def latest_attempt(db, user_id) -> QuizAttempt:
    fresh(db)
    attempt = db.exec(select(QuizAttempt).where(QuizAttempt.user_id == user_id)
                      .order_by(QuizAttempt.id.desc())).scalars().first()
    # End the read: an SQLite snapshot left open would stop this session writing later.
    db.commit()
    return attempt


def answers_for(attempt: QuizAttempt, *, wrong: set[int] = frozenset(), skip: set[int] = frozenset()):
    """Form fields answering every question right, except those in `wrong` or `skip`."""
    form: dict[str, list[str] | str] = {}
    for index, question in enumerate(attempt.questions):
        if index in skip:
            continue
        config, shown, field = question["config"], question["shown"], f"q{index}"
        bad = index in wrong
        if config["type"] == "single_choice":
            pick = next(o for o in shown["options"] if (o["id"] == config["answer"]) != bad)
            form[field] = pick["key"]
        elif config["type"] == "multiple_choice":
            right = set(config["answer"])
            form[field] = [o["key"] for o in shown["options"] if (o["id"] in right) != bad]
        elif config["type"] == "true_false":
            form[field] = shown["true" if config["answer"] != bad else "false"]
        elif config["type"] == "ordering":
            order = [s["id"] for s in config["steps"]]
            if bad:
                order = order[::-1]
            for step in shown["steps"]:
                form[f"{field}-{step['key']}"] = str(order.index(step["id"]) + 1)
        else:
            form[field] = str(config["answer"])
    return form
