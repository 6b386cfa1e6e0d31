"""The assistant's services: loading the FAQ pack, keeping the index in step, answering."""

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from lms.context import Context
from lms.core.models import Place, User
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.plugins.courses import services as courses
from lms.plugins.hoi_dap import faq, index
from lms.plugins.hoi_dap.faq import FaqEntry as PackEntry
from lms.plugins.hoi_dap.fold import fold
from lms.plugins.hoi_dap.markup import answer_html
from lms.plugins.hoi_dap.models import FaqEntry, Question
from lms.plugins.hoi_dap.search import Answer, ask  # noqa: F401 - answering is a public service too
from lms.text import InvalidInput, clean_text, nfc

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
QUESTION_MAX, CONTACT_MAX, ANSWER_MAX = 300, 120, 3000
LOCAL_MIN_WORDS = 5  # "Mở cửa từ 7 giờ 30 đến 17 giờ" is a whole answer


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # a commune's own entry holds the slug
    passages: int = 0


def _values(entry: PackEntry) -> dict:
    return {"topic": entry.topic, "topic_title": entry.topic_title, "question": entry.question,
            "also_asked": list(entry.also_asked), "answer_md": entry.answer, "answer_html": answer_html(entry.answer),
            "sources": [{"title": s.title, "url": s.url} for s in entry.sources], "see_also": list(entry.see_also),
            "reviewed": entry.reviewed}


def sync_pack(ctx: Context, entries: list[PackEntry]) -> SyncReport:
    """The pack's entries into the database (safe to run again), then the index rebuilt; one
    unit of work. Entries written in the browser are never touched."""
    report = SyncReport()
    with ctx.transaction() as db:
        existing = {row.slug: row for row in db.exec(select(FaqEntry)).scalars().all()}
        for entry in entries:
            row = existing.get(entry.slug)
            if row is not None and row.origin != "pack":
                report.conflicts.append(entry.slug)
                continue
            values = _values(entry)
            if row is None:
                db.add(FaqEntry(slug=entry.slug, origin="pack", **values))
                report.created.append(entry.slug)
            elif row.retired or any(getattr(row, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.retired, row.updated_at = False, utcnow()
                db.add(row)
                report.updated.append(entry.slug)
        wanted = {entry.slug for entry in entries}
        for slug, row in existing.items():
            if row.origin == "pack" and slug not in wanted and not row.retired:
                row.retired = True
                db.add(row)
                report.retired.append(slug)
        db.flush()
        report.passages = index.rebuild(db, semantic=_semantic(ctx))
    return report


def _semantic(ctx: Context) -> bool:
    return bool(getattr(ctx.settings, "hoi_dap_semantic", False))


def rebuild_index(ctx: Context) -> int:
    with ctx.transaction() as db:
        return index.rebuild(db, semantic=_semantic(ctx))


def entry(db: Session, slug: str, *, commune_id: int | None) -> FaqEntry | None:
    """A FAQ entry the asker may read: the installation's, or their own commune's."""
    row = db.exec(select(FaqEntry).where(FaqEntry.slug == slug, FaqEntry.retired.is_(False))).scalars().first()
    if row is None or (row.commune_id is not None and row.commune_id != commune_id):
        return None
    return row


# --- Questions the assistant could not answer ---------------------------------------------

QUESTION_ERRORS = {
    "question_empty": "Hãy viết câu hỏi của bạn.",
    "question_too_long": f"Câu hỏi dài tối đa {QUESTION_MAX} ký tự.",
    "commune_missing": "Hãy chọn xã, phường của bạn để câu hỏi đến đúng tổ công nghệ số.",
    "contact_without_consent": "Bạn để lại cách liên lạc: hãy đánh dấu đồng ý để tổ công nghệ số dùng nó trả lời bạn.",
    "contact_too_long": f"Cách liên lạc dài tối đa {CONTACT_MAX} ký tự.",
    "answer_empty": "Hãy viết câu trả lời.",
    "answer_too_long": f"Câu trả lời dài tối đa {ANSWER_MAX} ký tự.",
    "not_answered": "Câu hỏi chưa có câu trả lời để đưa vào hỏi đáp.",
}
# Runs of digits a person may type into the question itself (a phone, an ID number) are not kept.
_NUMBER_RUN = re.compile(r"\d[\d .-]{7,}\d")


def _refuse(code: str, status: int = 422) -> ServiceError:
    return ServiceError(code, QUESTION_ERRORS[code], status)


def scrub(text: str) -> str:
    """The question without long digit runs: "gọi 0912 345 678" → "gọi [số]"."""
    return _NUMBER_RUN.sub("[số]", text)


def send_question(ctx: Context, *, text: str, commune_id: int | None, asker: User | None, contact: str = "",
                  consent: bool = False) -> Question:
    """Queue a question for the commune's team and staff; one unit of work."""
    try:
        text = clean_text(text, max_length=QUESTION_MAX)
    except InvalidInput:
        raise _refuse("question_too_long") from None
    contact = " ".join(nfc(contact or "").split())
    if not text:
        raise _refuse("question_empty")
    if len(contact) > CONTACT_MAX:
        raise _refuse("contact_too_long")
    if contact and not consent:
        raise _refuse("contact_without_consent")
    with ctx.transaction() as db:
        if asker is not None and asker.commune_id is not None:
            commune_id = asker.commune_id
        place = db.get(Place, commune_id) if commune_id else None
        if place is None or place.kind != "commune":
            raise _refuse("commune_missing")
        question = Question(token=secrets.token_urlsafe(16), text=scrub(text), folded=fold(text)[:300],
                            commune_id=place.id, asker_id=asker.id if asker else None, contact=contact)
        db.add(question)
        db.flush()
        return question


def question_by_token(db: Session, token: str) -> Question | None:
    return db.exec(select(Question).where(Question.token == token)).scalars().first()


def can_answer(user: User | None, question: Question) -> bool:
    if user is None:
        return False
    if user.role == "admin":
        return True
    return user.role in ("staff", "team_member") and user.commune_id == question.commune_id


@dataclass(frozen=True)
class Queue:
    open: list[Question]
    answered: list[Question]
    most_asked: list[tuple[str, int]]  # a question as first asked, and how many times


def queue(db: Session, user: User, *, limit: int = 50) -> Queue:
    """The questions of the person's commune (every commune for an administrator)."""
    where = [] if user.role == "admin" else [Question.commune_id == user.commune_id]
    open_ = db.exec(select(Question).where(Question.status == "open", *where)
                    .order_by(Question.asked_at).limit(limit)).scalars().all()
    answered = db.exec(select(Question).where(Question.status == "answered", *where)
                       .order_by(Question.answered_at.desc()).limit(limit)).scalars().all()
    counts = db.exec(select(Question.folded, func.count(), func.min(Question.text)).where(*where)
                     .group_by(Question.folded).having(func.count() > 1)
                     .order_by(func.count().desc()).limit(10)).all()
    return Queue(list(open_), list(answered), [(text, count) for _folded, count, text in counts])


def answer_question(ctx: Context, *, actor: User, question_id: int, answer: str) -> Question:
    answer = " ".join(nfc(answer or "").split(" ")).strip()
    if not answer:
        raise _refuse("answer_empty")
    if len(answer) > ANSWER_MAX:
        raise _refuse("answer_too_long")
    with ctx.transaction() as db:
        question = db.get(Question, question_id)
        if question is None or not can_answer(actor, question):
            raise NotFound()
        question.answer, question.status = answer, "answered"
        question.answered_by_id, question.answered_at = actor.id, utcnow()
        db.add(question)
        return question


def promote(ctx: Context, *, actor: User, question_id: int) -> FaqEntry:
    """An answered question becomes an entry of its commune's own FAQ, found by the assistant
    from then on; only staff (who review what the commune publishes) and administrators."""
    with ctx.transaction() as db:
        question = db.get(Question, question_id)
        if question is None or actor.role not in ("staff", "admin") or not can_answer(actor, question):
            raise NotFound()
        if question.status != "answered":
            raise _refuse("not_answered")
        if question.entry_id is not None:
            return db.get(FaqEntry, question.entry_id)
        place = db.get(Place, question.commune_id)
        entry = _local_entry(place, question=question.text, also_asked=[], answer_md=question.answer,
                             answer_html=answer_html(question.answer),
                             sources=[{"title": f"Tổ công nghệ số và cán bộ {place.name}", "url": ""}])
        db.add(entry)
        db.flush()
        question.entry_id = entry.id
        db.add(question)
        index.rebuild(db, semantic=_semantic(ctx))
        return entry


# --- A commune's own entries, written in the browser -------------------------------------

ENTRY_ERRORS = {
    "question": "Hãy viết câu hỏi (tối đa 300 ký tự).",
    "answer": f"Câu trả lời cần từ {LOCAL_MIN_WORDS} đến {faq.MAX_WORDS} từ.",
    "also_asked": "Mỗi dòng một cách hỏi khác, tối đa 5 dòng, mỗi dòng tối đa 300 ký tự.",
    "source_title": "Hãy ghi nguồn của câu trả lời (ví dụ: UBND xã, thông báo ngày …), tối đa 200 ký tự.",
    "source_url": "Địa chỉ nguồn phải bắt đầu bằng https:// (hoặc để trống).",
    "commune": "Hãy chọn xã, phường của mục hỏi đáp.",
}


@dataclass(frozen=True)
class LocalEntryInput:
    question: str = ""
    also_asked: str = ""  # one a line
    answer: str = ""
    source_title: str = ""
    source_url: str = ""
    commune_id: str = ""


def may_write(db: Session, user: User | None) -> bool:
    return user is not None and courses.may_write_content(db, user)


def local_entries(db: Session, user: User) -> list[FaqEntry]:
    query = select(FaqEntry).where(FaqEntry.origin == "editor", FaqEntry.retired.is_(False))
    if user.role != "admin":
        query = query.where(FaqEntry.commune_id == user.commune_id)
    return list(db.exec(query.order_by(FaqEntry.updated_at.desc())).scalars().all())


def _checked(data: LocalEntryInput) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    question = " ".join(nfc(data.question).split())
    if not question or len(question) > QUESTION_MAX:
        errors["question"] = ENTRY_ERRORS["question"]
    also = [" ".join(line.split()) for line in nfc(data.also_asked).splitlines() if line.strip()]
    if len(also) > 5 or any(len(line) > QUESTION_MAX for line in also):
        errors["also_asked"] = ENTRY_ERRORS["also_asked"]
    answer = nfc(data.answer).strip()
    if not LOCAL_MIN_WORDS <= len(answer.split()) <= faq.MAX_WORDS:
        errors["answer"] = ENTRY_ERRORS["answer"]
    title = " ".join(nfc(data.source_title).split())
    if not title or len(title) > 200:
        errors["source_title"] = ENTRY_ERRORS["source_title"]
    url = data.source_url.strip()
    if url and (not url.startswith("https://") or len(url) > 500 or any(c.isspace() for c in url)):
        errors["source_url"] = ENTRY_ERRORS["source_url"]
    return {"question": question, "also_asked": also, "answer_md": answer, "answer_html": answer_html(answer),
            "sources": [{"title": title, "url": url}]}, errors


def _local_entry(place: Place, **values: object) -> FaqEntry:
    """A new entry of the commune's own FAQ, reviewed today (its writer is its reviewer)."""
    return FaqEntry(slug=f"xa-{place.id}-{secrets.token_hex(4)}", topic="cua-xa",
                    topic_title=f"Hỏi đáp của {place.name}", commune_id=place.id, origin="editor",
                    reviewed=datetime.now(VIETNAM).date(), **values)


def save_local_entry(ctx: Context, *, actor: User, entry_id: int | None, data: LocalEntryInput) -> FaqEntry:
    """Write a commune's own entry (new or changed) and bring the index up to date; one unit of
    work. Raises FormErrors with every problem; nothing is written then."""
    values, errors = _checked(data)
    with ctx.transaction() as db:
        if not may_write(db, actor):
            raise ServiceError("forbidden", "Bạn chưa được giao soạn nội dung của xã.", 403)
        if entry_id is not None:
            entry = db.get(FaqEntry, entry_id)
            if entry is None or entry.origin != "editor" or (
                    actor.role != "admin" and entry.commune_id != actor.commune_id):
                raise NotFound()
            commune_id = entry.commune_id
        else:
            entry = None
            commune_id = actor.commune_id if actor.role != "admin" else (
                int(data.commune_id) if data.commune_id.isdigit() else None)
            place = db.get(Place, commune_id) if commune_id else None
            if place is None or place.kind != "commune":
                errors["commune_id"] = ENTRY_ERRORS["commune"]
        if errors:
            raise FormErrors(errors)
        place = db.get(Place, commune_id)
        if entry is None:
            entry = _local_entry(place, **values)
        else:
            for key, value in values.items():
                setattr(entry, key, value)
            entry.reviewed, entry.updated_at = datetime.now(VIETNAM).date(), utcnow()
        db.add(entry)
        db.flush()
        index.rebuild(db, semantic=_semantic(ctx))
        return entry


def retire_local_entry(ctx: Context, *, actor: User, entry_id: int) -> None:
    with ctx.transaction() as db:
        entry = db.get(FaqEntry, entry_id)
        if entry is None or entry.origin != "editor" or not may_write(db, actor) or (
                actor.role != "admin" and entry.commune_id != actor.commune_id):
            raise NotFound()
        entry.retired, entry.updated_at = True, utcnow()
        db.add(entry)
        index.rebuild(db, semantic=_semantic(ctx))
