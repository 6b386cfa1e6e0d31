"""Loading packs into the database, the cached catalog, enrolment, progress and completion."""

import hashlib
import io
import mimetypes
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image as PILImage
from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from lms.context import Context
from lms.db import insert_ignore, utcnow
from lms.errors import NotFound
from lms.events import record
from lms.plugins.courses.events import ContentChanged, CourseCompleted, LessonsCompleted
from lms.plugins.courses.markdown import Image, excerpt, reading_minutes, render_markdown
from lms.plugins.courses.models import (
    CatalogState,
    Course,
    CourseAsset,
    Enrolment,
    Lesson,
    LessonProgress,
)
from lms.plugins.courses.packs import DOMAINS, CoursePack

ASSET_PREFIX = "/course-assets"


# --- Sync ----------------------------------------------------------------


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # slugs taken by a course from the editor

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)


def asset_url(course_slug: str, digest: str, name: str) -> str:
    return f"{ASSET_PREFIX}/{course_slug}/{digest}/{name}"


def sync_packs(db: Session, packs: list[CoursePack]) -> SyncReport:
    """Make the database match the packs. Idempotent; retires what a pack dropped.

    Only courses loaded from packs take part: a course published from the browser is never
    retired or overwritten by a pack (a pack with its slug is reported as a conflict)."""
    report = SyncReport()
    existing = {c.slug: c for c in db.exec(select(Course)).scalars().all()}
    for position, pack in enumerate(packs):
        course = existing.get(pack.slug)
        if course is not None and course.source != "pack":
            report.conflicts.append(pack.slug)
            continue
        if course and course.content_hash == pack.content_hash and not course.retired \
                and course.position == position:
            report.unchanged.append(pack.slug)
            continue
        (report.created if course is None else report.updated).append(pack.slug)
        apply_pack(db, pack, course=course, position=position)
    wanted = {pack.slug for pack in packs}
    for slug, course in existing.items():
        if slug not in wanted and not course.retired and course.source == "pack":
            course.retired = True
            db.add(course)
            report.retired.append(slug)
    if report.changed:
        catalog_changed(db, content=True)
    db.flush()
    return report


def apply_pack(db: Session, pack: CoursePack, *, course: Course | None, position: int,
               commune_id: int | None = None, source: str = "pack",
               srcsets: dict[str, str] | None = None) -> Course:
    """Write one checked pack into its course (new or existing): fields, images, lessons.
    Lessons keep their ids by slug, so learners' progress and attempts stay; a lesson the
    pack no longer has is retired. Used by the packs' sync and by publishing from the editor."""
    if course is None:
        course = Course(slug=pack.slug, title=pack.title, summary=pack.summary)
    course.title, course.summary = pack.title, pack.summary
    course.audiences, course.domains = list(pack.audiences), list(pack.domains)
    course.prerequisites = list(pack.prerequisites)
    course.estimated_minutes, course.version = pack.estimated_minutes, pack.version
    course.position, course.retired = position, False
    course.commune_id, course.source, course.cover = commune_id, source, pack.cover
    course.quiz = _quiz_json(pack)
    course.content_hash, course.synced_at = pack.content_hash, utcnow()
    db.add(course)
    db.flush()
    images = _sync_assets(db, course, pack)
    for name, widths in (srcsets or {}).items():
        if f"assets/{name}" in images:
            images[f"assets/{name}"] = replace(images[f"assets/{name}"], srcset=widths)
    _sync_lessons(db, course, pack, images)
    return course


def catalog_changed(db: Session, *, content: bool = False) -> None:
    """Every worker reloads its cached catalog on its next request. `content`: lessons or
    courses themselves changed (not only what a page shows beside them), and plugins that keep
    something made from them hear `courses.content_changed`."""
    if content:
        record(db, ContentChanged())
    state = db.get(CatalogState, 1)
    if state is None:
        state = CatalogState(id=1, version=0)
    state.version += 1
    db.add(state)


def _quiz_json(pack: CoursePack) -> dict | None:
    if pack.quiz is None:
        return None
    return {"pass_mark": pack.quiz.pass_mark, "cooldown_minutes": pack.quiz.cooldown_minutes,
            "questions": pack.quiz.questions}


def _sync_assets(db: Session, course: Course, pack: CoursePack) -> dict[str, Image]:
    current = {a.name: a for a in db.exec(
        select(CourseAsset).where(CourseAsset.course_id == course.id)).scalars().all()}
    images: dict[str, Image] = {}
    for name, path in pack.assets.items():
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:12]
        asset = current.pop(name, None)
        if asset is None or asset.digest != digest:
            with PILImage.open(io.BytesIO(data)) as picture:
                width, height = picture.size
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            asset = asset or CourseAsset(course_id=course.id, name=name, digest=digest,
                                         media_type=media_type, data=data)
            asset.digest, asset.media_type, asset.data = digest, media_type, data
            asset.width, asset.height = width, height
            db.add(asset)
        images[f"assets/{name}"] = Image(asset_url(course.slug, digest, name), asset.width,
                                         asset.height)
    for stale in current.values():
        db.delete(stale)
    return images


def _sync_lessons(db: Session, course: Course, pack: CoursePack, images: dict[str, Image]) -> None:
    current = {lesson.slug: lesson for lesson in db.exec(
        select(Lesson).where(Lesson.course_id == course.id)).scalars().all()}
    for spec in pack.lessons:
        lesson = current.pop(spec.slug, None)
        digest = hashlib.sha256(f"{spec.title}\n{' '.join(spec.competences)}\n{spec.body_md}".encode()).hexdigest()
        html = render_markdown(spec.body_md, images)
        if lesson is None:
            lesson = Lesson(course_id=course.id, slug=spec.slug, title=spec.title,
                            body_md=spec.body_md, body_html=html)
        elif (lesson.content_hash == digest and lesson.position == spec.position
              and not lesson.retired and lesson.body_html == html):
            continue
        lesson.title, lesson.position, lesson.body_md, lesson.body_html = (
            spec.title, spec.position, spec.body_md, html)
        lesson.excerpt = excerpt(spec.body_md)
        lesson.word_count, lesson.content_hash = spec.word_count, digest
        lesson.competences = list(spec.competences)
        lesson.retired, lesson.updated_at = False, utcnow()
        db.add(lesson)
    for dropped in current.values():
        if not dropped.retired:
            dropped.retired = True
            db.add(dropped)


@dataclass(frozen=True)
class LessonSection:
    """A section of a published lesson, for other plugins that point into lessons (search)."""

    course_id: int
    course_slug: str
    course_title: str
    commune_id: int | None  # the commune whose own course it is; None: the installation's
    lesson_id: int
    lesson_slug: str
    lesson_title: str
    anchor: str  # the heading's id in the lesson page; "" for the text before the first heading
    heading: str
    text: str


def lesson_sections(db: Session, *, course_ids: list[int] | None = None) -> list[LessonSection]:
    """Every section of every lesson of the published courses (or of `course_ids`), in order."""
    from lms.plugins.courses.markdown import sections

    query = (select(Course.id, Course.slug, Course.title, Course.commune_id, Lesson.id, Lesson.slug, Lesson.title,
                    Lesson.body_md)
             .join(Lesson, Lesson.course_id == Course.id)
             .where(Course.retired.is_(False), Lesson.retired.is_(False))
             .order_by(Course.position, Course.id, Lesson.position))
    if course_ids is not None:
        query = query.where(Course.id.in_(course_ids))
    out = []
    for course_id, course_slug, course_title, commune_id, lesson_id, lesson_slug, lesson_title, body in db.exec(query):
        for section in sections(body):
            out.append(LessonSection(course_id, course_slug, course_title, commune_id, lesson_id, lesson_slug,
                                     lesson_title, section.anchor, section.heading, section.text))
    return out


# --- The cached catalog ------------------------------------------------------


@dataclass(frozen=True)
class LessonOutline:
    id: int
    slug: str
    title: str
    position: int
    word_count: int
    excerpt: str
    competences: tuple[str, ...] = ()

    @property
    def minutes(self) -> int:
        return reading_minutes(self.word_count)


@dataclass(frozen=True)
class CourseOutline:
    id: int
    slug: str
    title: str
    summary: str
    audiences: tuple[str, ...]
    domains: tuple[str, ...]
    prerequisites: tuple[str, ...]
    estimated_minutes: int
    lessons: tuple[LessonOutline, ...]
    has_quiz: bool
    commune_id: int | None = None  # a commune's own course; None: the whole installation
    cover: Image | None = None

    def visible_to(self, user: Any) -> bool:
        """A commune's course is for that commune's people; anonymous visitors see the others."""
        if self.commune_id is None or (user is not None and user.role == "admin"):
            return True
        return user is not None and user.commune_id == self.commune_id

    @property
    def lesson_ids(self) -> frozenset[int]:
        return frozenset(lesson.id for lesson in self.lessons)

    def lesson(self, slug: str) -> LessonOutline | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    @property
    def competences(self) -> tuple[str, ...]:
        """Every 757 code its lessons teach, in order of first appearance."""
        return tuple(dict.fromkeys(code for lesson in self.lessons for code in lesson.competences))

    def teaches(self, code: str) -> bool:
        """A group code (757:nguoi-dan) matches its skills too (757:nguoi-dan:0.2)."""
        return any(c == code or c.startswith(code + ":") for c in self.competences)

    @property
    def domain_labels(self) -> list[str]:
        return [DOMAINS[d] for d in self.domains if d in DOMAINS]


# The statements every page runs, built once (composing one costs more than SQLite runs it).
_CATALOG_VERSION = select(CatalogState.version).where(CatalogState.id == 1)
_DONE_LESSONS = select(LessonProgress.course_id, LessonProgress.lesson_id).where(
    LessonProgress.user_id == bindparam("user_id"))
_DONE_LESSONS_OF_COURSE = _DONE_LESSONS.where(LessonProgress.course_id == bindparam("course_id"))


def catalog_version(db: Session) -> int:
    """Bumped by every change a course page shows (catalog_changed)."""
    return db.exec(_CATALOG_VERSION).scalar() or 0


class Catalog:
    """Course outlines and lesson bodies cached per worker; one query per request checks
    whether a sync has changed them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = -1
        self.courses: list[CourseOutline] = []
        self.by_slug: dict[str, CourseOutline] = {}
        self._bodies: dict[int, str] = {}
        self._memos: dict[Any, Any] = {}

    def refresh(self, db: Session) -> "Catalog":
        version = catalog_version(db)
        if version == self.version:
            return self
        with self._lock:
            courses = db.exec(select(Course).where(Course.retired.is_(False))
                              .order_by(Course.position, Course.title)).scalars().all()
            lessons = db.exec(
                select(Lesson.id, Lesson.course_id, Lesson.slug, Lesson.title, Lesson.position,
                       Lesson.word_count, Lesson.excerpt, Lesson.competences)
                .where(Lesson.retired.is_(False)).order_by(Lesson.position)).all()
            by_course: dict[int, list[LessonOutline]] = {}
            for row in lessons:
                by_course.setdefault(row.course_id, []).append(LessonOutline(
                    row.id, row.slug, row.title, row.position, row.word_count, row.excerpt,
                    tuple(row.competences or ())))
            covers = {(a.course_id, a.name): a for a in db.exec(
                select(CourseAsset).where(CourseAsset.course_id.in_([c.id for c in courses if c.cover])))
                .scalars().all()} if any(c.cover for c in courses) else {}

            def cover_of(course: Course) -> Image | None:
                asset = covers.get((course.id, course.cover))
                return Image(asset_url(course.slug, asset.digest, asset.name), asset.width, asset.height) \
                    if asset else None

            outlines = [CourseOutline(
                c.id, c.slug, c.title, c.summary, tuple(c.audiences), tuple(c.domains),
                tuple(c.prerequisites), c.estimated_minutes, tuple(by_course.get(c.id, [])),
                bool(c.quiz), c.commune_id, cover_of(c)) for c in courses]
            self.courses = outlines
            self.by_slug = {c.slug: c for c in outlines}
            self._bodies = {}
            self._memos = {}
            self.version = version
        return self

    def body(self, db: Session, lesson_id: int) -> str:
        html = self._bodies.get(lesson_id)
        if html is None:
            html = db.exec(select(Lesson.body_html).where(Lesson.id == lesson_id)).scalar() or ""
            self._bodies[lesson_id] = html
        return html

    def memo(self, key: Any, make: Any) -> Any:
        """What `make()` returns, kept until the catalog version changes: for facts about a
        lesson whose every change calls catalog_changed (its recording, its machine voice)."""
        try:
            return self._memos[key]
        except KeyError:
            value = self._memos[key] = make()
            return value

    def by_slug_id(self, course_id: int) -> CourseOutline | None:
        return next((c for c in self.courses if c.id == course_id), None)

    def for_audience(self, audience: str | None, domain: str | None = None, *,
                     user: Any = None, skill: str | None = None) -> list[CourseOutline]:
        return [c for c in self.courses
                if (not audience or audience in c.audiences) and (not domain or domain in c.domains)
                and (not skill or c.teaches(skill)) and c.visible_to(user)]

    def skills(self, user: Any = None) -> list[str]:
        """The 757 codes taught by the courses `user` sees, groups before their skills."""
        codes = {code for c in self.courses if c.visible_to(user) for code in c.competences}
        codes |= {":".join(code.split(":")[:2]) for code in codes}
        return sorted(codes, key=lambda code: (code.split(":")[1], code.count(":"), code))

    def for_commune(self, commune_id: int | None) -> list[CourseOutline]:
        """The installation's courses and this commune's own (what its staff and teams offer)."""
        return [c for c in self.courses if c.commune_id is None or c.commune_id == commune_id]

    def visible(self, slug: str, user: Any) -> CourseOutline | None:
        """The course with this slug if `user` (None: a visitor) may see it."""
        course = self.by_slug.get(slug)
        return course if course is not None and course.visible_to(user) else None


def catalog(request: Any, db: Session) -> Catalog:
    """The worker's cached catalog, checked against the database once per request."""
    if getattr(request.state, "courses_catalog_checked", False):
        return request.app.state.courses_catalog
    state = request.app.state
    if not hasattr(state, "courses_catalog"):
        state.courses_catalog = Catalog()
    state.courses_catalog.refresh(db)
    request.state.courses_catalog_checked = True
    return state.courses_catalog


# --- Progress -------------------------------------------------------------------


def done_lessons(db: Session, *, user_id: int, course_id: int | None = None) -> dict[int, set[int]]:
    """course id → ids of lessons this learner finished (one query)."""
    if course_id is None:
        rows = db.exec(_DONE_LESSONS, params={"user_id": user_id})
    else:
        rows = db.exec(_DONE_LESSONS_OF_COURSE, params={"user_id": user_id, "course_id": course_id})
    done: dict[int, set[int]] = {}
    for row in rows.all():
        done.setdefault(row.course_id, set()).add(row.lesson_id)
    return done


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress_of(course: CourseOutline, done_ids: set[int]) -> Progress:
    return Progress(len(done_ids & course.lesson_ids), len(course.lessons))


def resume_lesson(course: CourseOutline, done_ids: set[int]) -> LessonOutline | None:
    """Where a returning learner picks up: the first lesson not yet finished."""
    for lesson in course.lessons:
        if lesson.id not in done_ids:
            return lesson
    return course.lessons[-1] if course.lessons else None


def enrolments(db: Session, *, user_id: int) -> list[Enrolment]:
    return list(db.exec(select(Enrolment).where(Enrolment.user_id == user_id)
                        .order_by(Enrolment.last_activity_at.desc())).scalars().all())


def enrol(db: Session, *, user_id: int, course_id: int, by_user_id: int | None = None) -> bool:
    """Enrol a learner (idempotent). True when newly enrolled."""
    return insert_ignore(db, Enrolment, {
        "user_id": user_id, "course_id": course_id, "enrolled_by_id": by_user_id,
        "enrolled_at": utcnow(), "last_activity_at": utcnow(),
    }, ["user_id", "course_id"])


@dataclass(frozen=True)
class Requirement:
    """Something besides the lessons that completing a course needs."""

    label: str
    met: bool
    url: str = ""


def complete_lesson(db: Session, *, pm: Any, user_id: int, course: CourseOutline,
                    lesson_id: int, confirmed_by_id: int | None = None) -> None:
    """Record a finished lesson (idempotent) in the caller's transaction, and the events
    it leads to (lessons done, course completed), each once."""
    if lesson_id not in course.lesson_ids:
        raise NotFound()
    enrol(db, user_id=user_id, course_id=course.id, by_user_id=confirmed_by_id)
    insert_ignore(db, LessonProgress, {
        "user_id": user_id, "lesson_id": lesson_id, "course_id": course.id,
        "completed_at": utcnow(), "confirmed_by_id": confirmed_by_id,
    }, ["user_id", "lesson_id"])
    db.execute(update(Enrolment).where(Enrolment.user_id == user_id,
                                       Enrolment.course_id == course.id)
               .values(last_activity_at=utcnow()))
    check_completion(db, pm=pm, user_id=user_id, course=course)


def mark_lesson_done(ctx: Context, *, user_id: int, course: CourseOutline, lesson_id: int) -> None:
    """A learner finished a lesson on their own: one unit of work."""
    with ctx.transaction() as db:
        complete_lesson(db, pm=ctx.pm, user_id=user_id, course=course, lesson_id=lesson_id)


def check_completion(db: Session, *, pm: Any, user_id: int, course: CourseOutline) -> None:
    """Record lessons-done and course-completed, each exactly once, with their events.

    The conditional UPDATE … WHERE … IS NULL is what makes "once" hold under retries
    and concurrent requests: only one of them changes the row (and records the event)."""
    done = db.exec(select(func.count()).select_from(LessonProgress).where(
        LessonProgress.user_id == user_id,
        LessonProgress.lesson_id.in_(course.lesson_ids))).scalar()
    if not course.lessons or done < len(course.lessons):
        return
    now = utcnow()
    marked = db.execute(update(Enrolment).where(
        Enrolment.user_id == user_id, Enrolment.course_id == course.id,
        Enrolment.lessons_completed_at.is_(None)).values(lessons_completed_at=now))
    if marked.rowcount:
        record(db, LessonsCompleted(user_id=user_id, course_id=course.id))
    if unmet_requirements(db, pm=pm, course=course, user_id=user_id):
        return
    completed = db.execute(update(Enrolment).where(
        Enrolment.user_id == user_id, Enrolment.course_id == course.id,
        Enrolment.completed_at.is_(None)).values(completed_at=now))
    if completed.rowcount:
        record(db, CourseCompleted(user_id=user_id, course_id=course.id))


def requirements_of(db: Session, *, pm: Any, course: CourseOutline, user_id: int) -> list[Requirement]:
    from lms.plugins import flatten

    if not hasattr(pm.hook, "course_requirements"):
        return []
    return flatten(pm.hook.course_requirements(db=db, course=course, user_id=user_id))


def unmet_requirements(db: Session, *, pm: Any, course: CourseOutline,
                       user_id: int) -> list[Requirement]:
    return [r for r in requirements_of(db, pm=pm, course=course, user_id=user_id) if not r.met]


def quiz_of(db: Session, *, course_id: int) -> dict | None:
    """The course's quiz as written in its pack (for the quiz plugin)."""
    return db.exec(select(Course.quiz).where(Course.id == course_id)).scalar()


def course_by_id(db: Session, course_id: int) -> Course | None:
    return db.get(Course, course_id)


@dataclass(frozen=True)
class LearnerProgress:
    """One learner across their enrolled courses (for other plugins' lists)."""

    lessons_done: int = 0
    lessons_total: int = 0
    courses_completed: int = 0


def progress_of_learners(db: Session, *, user_ids: list[int]) -> dict[int, LearnerProgress]:
    """Lessons done, lessons in enrolled courses and courses completed, per learner: three queries."""
    done = dict(db.exec(select(LessonProgress.user_id, func.count()).where(
        LessonProgress.user_id.in_(user_ids)).group_by(LessonProgress.user_id)).all())
    totals = dict(db.exec(select(Lesson.course_id, func.count()).where(Lesson.retired.is_(False))
                          .group_by(Lesson.course_id)).all())
    total: dict[int, int] = {}
    completed: dict[int, int] = {}
    for row in db.exec(select(Enrolment.user_id, Enrolment.course_id, Enrolment.completed_at).where(
            Enrolment.user_id.in_(user_ids))).all():
        total[row.user_id] = total.get(row.user_id, 0) + totals.get(row.course_id, 0)
        completed[row.user_id] = completed.get(row.user_id, 0) + (row.completed_at is not None)
    return {uid: LearnerProgress(done.get(uid, 0), total.get(uid, 0), completed.get(uid, 0))
            for uid in user_ids}


def has_completed(db: Session, *, user_id: int, course_id: int) -> bool:
    return db.exec(select(Enrolment.completed_at).where(
        Enrolment.user_id == user_id, Enrolment.course_id == course_id)).scalar() is not None


def completed_course_ids(db: Session, *, user_id: int) -> set[int]:
    return set(db.exec(select(Enrolment.course_id).where(
        Enrolment.user_id == user_id, Enrolment.completed_at.is_not(None))).scalars().all())


def learners_who_completed_all(db: Session, *, course_ids: list[int], audience: str) -> list[tuple[int, Any]]:
    """(user id, when the last of these courses was completed) for the learners of `audience`
    who completed every one of them."""
    from lms.core.models import User

    if not course_ids:
        return []
    rows = db.exec(select(Enrolment.user_id, func.max(Enrolment.completed_at))
                   .join(User, User.id == Enrolment.user_id)
                   .where(Enrolment.course_id.in_(course_ids), Enrolment.completed_at.is_not(None),
                          User.audience == audience, User.merged_into_id.is_(None))
                   .group_by(Enrolment.user_id)
                   .having(func.count(func.distinct(Enrolment.course_id)) == len(set(course_ids)))).all()
    return [(row[0], row[1]) for row in rows]


# --- For other plugins' parts of the course editor (the quiz plugin's quiz editor) -------------


def editable_draft(db: Session, *, user: Any, draft_id: int) -> Any:
    """The draft `user` may edit, read as the editor shows it (fields, lessons, quiz.yaml text);
    raises ServiceError 403 / NotFound otherwise."""
    from lms.plugins.courses import authoring

    return authoring.view(db, authoring.draft_for(db, user, draft_id))


def save_draft_quiz(ctx: Context, *, actor: Any, draft_id: int, quiz_yaml: str | None, summary: str) -> None:
    """Replace the draft's quiz.yaml (None: the course has no quiz), logged in its change log."""
    from lms.plugins.courses import authoring

    authoring.save_quiz(ctx, actor=actor, draft_id=draft_id, quiz_yaml=quiz_yaml, summary=summary)


def may_write_content(db: Session, user: Any) -> bool:
    """Whether the person writes their commune's content (an editor, see /studio-editors), for
    other plugins that let the same people write theirs."""
    from lms.plugins.courses.authoring import is_editor

    return is_editor(db, user)
