"""Courses written in the browser by a commune's content editors.

A draft holds the files of a course pack (course.yaml, one Markdown file per lesson,
quiz.yaml, images), so everything packs have works for drafts with the same code: the
checker (`load_packs`, its path:line messages), publishing (`services.apply_pack`, which
keeps lesson ids and therefore learners' progress and attempts), export as a pack zip and
import of one. Each publication is kept whole as a revision and can be restored; every
change is logged with who and when."""

import base64
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from PIL import Image as PILImage
from sqlalchemy import func, select
from sqlmodel import Session

from lms.context import Context
from lms.core.models import Place, User
from lms.core.services import AUDIENCES
from lms.db import utcnow
from lms.errors import FormErrors, NotFound, ServiceError
from lms.plugin_host import flatten
from lms.plugins.courses import services
from lms.plugins.courses.markdown import Image, render_markdown
from lms.plugins.courses.models import ContentEditor, Course, CourseChange, CourseDraft, CourseRevision
from lms.plugins.courses.packs import DOMAINS, MAX_IMAGE_BYTES, Problem, load_packs
from lms.text import InvalidInput, clean_text, fold, nfc

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
IMAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}\.(png|jpe?g|webp|gif)$")
MAX_LESSONS = 60
MAX_BODY = 60_000
ZIP_MAX_FILES = 200
ZIP_MAX_BYTES = 20 * 1024 * 1024
NOT_EDITOR = ("Bạn chưa được giao soạn khóa học. Quản trị viên giao quyền này cho cán bộ của xã "
              "tại trang “Người soạn khóa học”.")


# --- Who may edit what ---------------------------------------------------------------


def is_editor(db: Session, user: User | None) -> bool:
    if user is None:
        return False
    if user.role == "admin":
        return True
    return (user.role == "staff" and user.commune_id is not None
            and db.get(ContentEditor, user.id) is not None)


def may_edit(user: User, commune_id: int | None) -> bool:
    """Admins edit every course; a commune's editor only that commune's own courses."""
    return user.role == "admin" or (commune_id is not None and commune_id == user.commune_id)


def require_editor(db: Session, user: User) -> None:
    if not is_editor(db, user):
        raise ServiceError("not_editor", NOT_EDITOR, 403)


def draft_for(db: Session, user: User, draft_id: int) -> CourseDraft:
    require_editor(db, user)
    draft = db.get(CourseDraft, draft_id)
    # Another commune's draft does not exist for this editor: the same 404 as a wrong id.
    if draft is None or not may_edit(user, draft.commune_id):
        raise NotFound()
    return draft


def drafts_of(db: Session, user: User) -> list[CourseDraft]:
    statement = select(CourseDraft).order_by(CourseDraft.updated_at.desc())
    if user.role != "admin":
        statement = statement.where(CourseDraft.commune_id == user.commune_id)
    return list(db.exec(statement).scalars().all())


def set_editor(ctx: Context, *, actor: User, user_id: int, allowed: bool) -> User:
    if actor.role != "admin":
        raise ServiceError("forbidden", "Chỉ quản trị viên giao quyền soạn khóa học.", 403)
    with ctx.transaction() as db:
        person = db.get(User, user_id)
        if person is None or person.role != "staff":
            raise ServiceError("not_staff", "Chỉ giao quyền soạn khóa học cho cán bộ xã.", 422)
        row = db.get(ContentEditor, user_id)
        if allowed and row is None:
            db.add(ContentEditor(user_id=user_id, granted_by_id=actor.id))
        elif not allowed and row is not None:
            db.delete(row)
        return person


# --- The draft's files ---------------------------------------------------------------


@dataclass
class LessonEntry:
    slug: str
    title: str
    body: str


@dataclass
class DraftView:
    """What the editor pages show of a draft, read from its files."""

    draft: CourseDraft
    fields: dict[str, Any]
    lessons: list[LessonEntry]
    quiz: str | None
    commune_name: str


def _course_yaml(draft: CourseDraft) -> dict[str, Any]:
    try:
        data = yaml.safe_load(draft.files.get("course.yaml", "")) or {}
    except yaml.YAMLError:
        data = {}
    return data if isinstance(data, dict) else {}


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def view(db: Session, draft: CourseDraft) -> DraftView:
    data = _course_yaml(draft)
    lessons = [LessonEntry(str(e.get("slug", "")), str(e.get("title", "")),
                           draft.files.get(f"{e.get('slug')}.md", ""))
               for e in data.get("lessons") or [] if isinstance(e, dict)]
    commune = db.get(Place, draft.commune_id) if draft.commune_id else None
    return DraftView(draft, data, lessons, draft.files.get("quiz.yaml"),
                     commune.name if commune else "Toàn hệ thống")


def slug_from(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", fold(text)))[:60].strip("-") or "bai"


def _slug_free(db: Session, slug: str, draft_id: int | None = None) -> bool:
    draft = db.exec(select(CourseDraft.id).where(CourseDraft.slug == slug)).scalar()
    course = db.exec(select(Course.id).where(Course.slug == slug)).scalar()
    own_course = (db.get(CourseDraft, draft_id).course_id if draft_id else None)
    return (draft is None or draft == draft_id) and (course is None or course == own_course)


def _text(raw: str, limit: int, name: str, errors: dict[str, str]) -> str:
    try:
        return clean_text(raw, max_length=limit)
    except InvalidInput as exc:
        errors[name] = str(exc)
        return ""


@dataclass
class CourseInput:
    title: str = ""
    slug: str = ""
    summary: str = ""
    audiences: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    estimated_minutes: str = ""
    commune_id: str = ""
    cover: str | None = None  # None: leave as it is (new courses have no picture yet)
    prerequisites: tuple[str, ...] | None = None


def _checked_fields(db: Session, data: CourseInput, *, draft_id: int | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = _text(data.title, 200, "title", errors)
    if not title and "title" not in errors:
        errors["title"] = "Hãy nhập tên khóa học."
    summary = " ".join(nfc(data.summary or "").split())
    if not summary:
        errors["summary"] = "Hãy viết một hai câu giới thiệu khóa học."
    elif len(summary) > 500:
        errors["summary"] = "Giới thiệu tối đa 500 ký tự."
    audiences = [a for a in data.audiences if a in AUDIENCES]
    if not audiences:
        errors["audiences"] = "Hãy chọn ít nhất một đối tượng."
    domains = [d for d in data.domains if d in DOMAINS]
    try:
        minutes = int(data.estimated_minutes)
        if not 1 <= minutes <= 600:
            raise ValueError
    except ValueError:
        errors["estimated_minutes"] = "Thời gian học là số phút, từ 1 đến 600."
        minutes = 0
    fields = {"title": title, "summary": summary, "audiences": audiences, "domains": domains,
              "estimated_minutes": minutes}
    if draft_id is None:
        slug = data.slug.strip().lower() or slug_from(title)
        if not SLUG.match(slug) or len(slug) > 80:
            errors["slug"] = "Mã khóa học chỉ gồm chữ thường không dấu, số và “-”, ví dụ mo-hinh-xa-em."
        elif not _slug_free(db, slug):
            errors["slug"] = f"Mã “{slug}” đã có khóa học khác dùng; hãy chọn mã khác."
        fields["slug"] = slug
    if errors:
        raise FormErrors(errors)
    return fields


def _log(db: Session, draft: CourseDraft, actor: User, summary: str) -> None:
    draft.updated_at = utcnow()
    draft.changed = True
    db.add(draft)
    db.add(CourseChange(draft_id=draft.id, actor_id=actor.id, summary=summary[:300]))


def _scope_for(db: Session, actor: User, raw: str) -> int | None:
    """The commune a new course belongs to: a commune editor's own; an admin picks (or none)."""
    if actor.role != "admin":
        return actor.commune_id
    if not raw:
        return None
    try:
        place = db.get(Place, int(raw))
    except ValueError:
        place = None
    if place is None or place.kind != "commune":
        raise FormErrors({"commune_id": "Hãy chọn một xã/phường trong danh sách."})
    return place.id


def create_draft(ctx: Context, *, actor: User, data: CourseInput) -> CourseDraft:
    with ctx.transaction() as db:
        require_editor(db, actor)
        commune_id = _scope_for(db, actor, data.commune_id)
        fields = _checked_fields(db, data, draft_id=None)
        course = {"slug": fields["slug"], "title": fields["title"], "audiences": fields["audiences"],
                  "summary": fields["summary"], "estimated_minutes": fields["estimated_minutes"],
                  "version": 1, "domains": fields["domains"], "prerequisites": [], "lessons": []}
        draft = CourseDraft(slug=fields["slug"], commune_id=commune_id, files={"course.yaml": _dump(course)},
                            created_by_id=actor.id)
        db.add(draft)
        db.flush()
        _log(db, draft, actor, "Tạo khóa học")
        return draft


def save_fields(ctx: Context, *, actor: User, draft_id: int, data: CourseInput) -> CourseDraft:
    with ctx.transaction() as db:
        draft = draft_for(db, actor, draft_id)
        fields = _checked_fields(db, data, draft_id=draft.id)
        course = _course_yaml(draft)
        course.update(fields)
        if data.cover is not None:
            if data.cover and data.cover in draft.assets:
                course["cover"] = f"assets/{data.cover}"
            else:
                course.pop("cover", None)
        if data.prerequisites is not None:
            offered = {c.slug for c in prerequisite_choices(db, draft)}
            course["prerequisites"] = [slug for slug in data.prerequisites if slug in offered]
        draft.files = {**draft.files, "course.yaml": _dump(course)}
        _log(db, draft, actor, "Sửa thông tin khóa học")
        return draft


def prerequisite_choices(db: Session, draft: CourseDraft) -> list[Course]:
    """Published courses the draft's learners can see, other than itself."""
    statement = select(Course).where(Course.retired.is_(False), Course.slug != draft.slug)
    if draft.commune_id is not None:
        statement = statement.where((Course.commune_id.is_(None)) | (Course.commune_id == draft.commune_id))
    else:
        statement = statement.where(Course.commune_id.is_(None))
    return list(db.exec(statement.order_by(Course.position, Course.title)).scalars().all())


def _lessons(course: dict[str, Any]) -> list[dict[str, Any]]:
    lessons = course.get("lessons")
    return [e for e in lessons if isinstance(e, dict)] if isinstance(lessons, list) else []


def save_lesson(ctx: Context, *, actor: User, draft_id: int, slug: str | None, title: str,
                body: str) -> str:
    """A new lesson (slug None) at the end, or an edited one; returns its slug."""
    errors: dict[str, str] = {}
    title = _text(title, 200, "title", errors)
    body = nfc(body or "").replace("\r\n", "\n")
    if not title and "title" not in errors:
        errors["title"] = "Hãy nhập tên bài học."
    if len(body) > MAX_BODY:
        errors["body"] = f"Bài học quá dài: tối đa {MAX_BODY:,} ký tự.".replace(",", ".")
    if errors:
        raise FormErrors(errors)
    with ctx.transaction() as db:
        draft = draft_for(db, actor, draft_id)
        course = _course_yaml(draft)
        lessons = _lessons(course)
        if slug is None:
            if len(lessons) >= MAX_LESSONS:
                raise FormErrors({"title": f"Một khóa học có tối đa {MAX_LESSONS} bài."})
            taken = {e.get("slug") for e in lessons} | {name[:-3] for name in draft.files if name.endswith(".md")}
            slug, n = slug_from(title), 2
            base = slug
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
            lessons.append({"slug": slug, "title": title})
            summary = f"Thêm bài “{title}”"
        else:
            entry = next((e for e in lessons if e.get("slug") == slug), None)
            if entry is None:
                raise NotFound()
            entry["title"] = title
            summary = f"Sửa bài “{title}”"
        course["lessons"] = lessons
        draft.files = {**draft.files, "course.yaml": _dump(course), f"{slug}.md": body}
        _log(db, draft, actor, summary)
        return slug


def move_lesson(ctx: Context, *, actor: User, draft_id: int, slug: str, step: int) -> None:
    with ctx.transaction() as db:
        draft = draft_for(db, actor, draft_id)
        course = _course_yaml(draft)
        lessons = _lessons(course)
        index = next((i for i, e in enumerate(lessons) if e.get("slug") == slug), None)
        if index is None:
            raise NotFound()
        target = index + step
        if 0 <= target < len(lessons):
            lessons[index], lessons[target] = lessons[target], lessons[index]
            course["lessons"] = lessons
            draft.files = {**draft.files, "course.yaml": _dump(course)}
            _log(db, draft, actor, f"Đổi thứ tự bài “{lessons[target].get('title', slug)}”")


def retire_lesson(ctx: Context, *, actor: User, draft_id: int, slug: str) -> None:
    """Out of the course; learners who finished it keep that in their records."""
    with ctx.transaction() as db:
        draft = draft_for(db, actor, draft_id)
        course = _course_yaml(draft)
        lessons = _lessons(course)
        entry = next((e for e in lessons if e.get("slug") == slug), None)
        if entry is None:
            raise NotFound()
        if len(lessons) == 1:
            raise ServiceError("last_lesson", "Khóa học cần ít nhất một bài: hãy thêm bài khác trước.", 422)
        course["lessons"] = [e for e in lessons if e is not entry]
        files = {name: text for name, text in draft.files.items() if name != f"{slug}.md"}
        draft.files = {**files, "course.yaml": _dump(course)}
        _log(db, draft, actor, f"Ngừng bài “{entry.get('title', slug)}”")


def save_quiz(ctx: Context, *, actor: User, draft_id: int, quiz_yaml: str | None, summary: str) -> None:
    """The draft's quiz.yaml (None: no quiz); the quiz plugin's editor writes it."""
    with ctx.transaction() as db:
        draft = draft_for(db, actor, draft_id)
        files = {name: text for name, text in draft.files.items() if name != "quiz.yaml"}
        if quiz_yaml is not None:
            files["quiz.yaml"] = quiz_yaml
        draft.files = files
        _log(db, draft, actor, summary)


def add_image(ctx: Context, *, actor: User, draft_id: int, data: bytes, alt: str, filename: str) -> str:
    """An uploaded picture for the draft's lessons: checked by its content and re-encoded at
    several widths (lms.media), all kept in the media store for `srcset`; the pack keeps the
    800 px one as its assets/ file. Returns the Markdown that shows it."""
    from lms.media import media_store, prepare_image, save_image

    prepared = prepare_image(data, alt=alt, max_bytes=ctx.settings.media_max_upload_bytes)
    with ctx.transaction() as db:
        draft = draft_for(db, actor, draft_id)
        stored = save_image(db, media_store(ctx.settings), prepared)
        default = stored.default
        content = next(v[3] for v in prepared.variants if v[0] == default.width)
        if len(content) > MAX_IMAGE_BYTES:
            raise ServiceError("image_size", "Ảnh này nén xong vẫn quá lớn (quá 150 KB ở khổ 800 px): "
                               "hãy chọn ảnh ít chi tiết hơn hoặc cắt bớt.", 422)
        stem = slug_from(Path(filename or "anh").stem)[:60] or "anh"
        extension = default.url.rsplit(".", 1)[1]
        name, n = f"{stem}.{extension}", 2
        while name in draft.assets:
            name, n = f"{stem}-{n}.{extension}", n + 1
        draft.assets = {**draft.assets, name: {"data": base64.b64encode(content).decode(),
                                               "media": stored.to_dict()}}
        _log(db, draft, actor, f"Thêm ảnh “{name}”")
        return f"![{stored.alt}](assets/{name})"


def _asset_data(value: Any) -> str:
    return value["data"] if isinstance(value, dict) else value


def image_bytes(draft: CourseDraft, name: str) -> bytes | None:
    value = draft.assets.get(name)
    return base64.b64decode(_asset_data(value)) if value else None


def srcsets(draft: CourseDraft) -> dict[str, str]:
    """name → `url 400w, …` for the pictures uploaded in the editor."""
    from lms.media import StoredImage

    return {name: StoredImage.from_dict(value["media"]).srcset for name, value in draft.assets.items()
            if isinstance(value, dict) and value.get("media")}


# --- Checking and publishing -----------------------------------------------------------


def question_types(pm: Any) -> dict[str, Any] | None:
    if not hasattr(pm.hook, "question_types"):
        return None
    return {t.identifier: t for t in flatten(pm.hook.question_types())}


@dataclass(frozen=True)
class DraftProblem:
    """A checker message with the file named as in the pack (course.yaml, mot.md, quiz.yaml)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def _write_pack(root: Path, slug: str, files: dict[str, str], assets: dict[str, str]) -> Path:
    folder = root / slug
    (folder / "assets").mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
    for name, value in assets.items():
        (folder / "assets" / name).write_bytes(base64.b64decode(_asset_data(value)))
    return folder


def _relative(problem: Problem, folder: Path) -> DraftProblem:
    try:
        name = str(PurePosixPath(problem.path.relative_to(folder)))
    except ValueError:
        name = problem.path.name
    return DraftProblem(name, problem.line, problem.message)


def _prerequisite_problems(db: Session, course: dict[str, Any], commune_id: int | None) -> list[DraftProblem]:
    wanted = course.get("prerequisites") or []
    if not isinstance(wanted, list):
        return [DraftProblem("course.yaml", 1, "“prerequisites” phải là danh sách mã khóa học.")]
    problems = []
    for slug in wanted:
        found = db.exec(select(Course).where(Course.slug == str(slug), Course.retired.is_(False))).scalars().first()
        if found is None or (found.commune_id is not None and found.commune_id != commune_id):
            problems.append(DraftProblem("course.yaml", 1, f"Khóa học tiên quyết “{slug}” không có trong danh mục."))
    return problems


def check(db: Session, pm: Any, draft: CourseDraft, root: Path, *,
          version: int | None = None) -> tuple[Any, list[DraftProblem]]:
    """The draft through the packs' checker, as it would be published (the pack, or None).
    Its files are written under `root`, where the pack's images stay readable for publishing."""
    course = _course_yaml(draft)
    problems = _prerequisite_problems(db, course, draft.commune_id)
    prerequisites = [str(s) for s in course.get("prerequisites") or []] if not problems else []
    files = draft.files
    # The checker resolves prerequisites among the packs it loads; they are checked above.
    # Rewritten only when needed, so its messages name the lines of the file as written.
    if prerequisites or (version is not None and course.get("version") != version):
        course["prerequisites"] = []
        if version is not None:
            course["version"] = version
        files = {**draft.files, "course.yaml": _dump(course)}
    folder = _write_pack(root, draft.slug, files, draft.assets)
    packs, found = load_packs([root], question_types(pm))
    problems += [_relative(p, folder) for p in found]
    pack = replace(packs[0], prerequisites=prerequisites) if packs and not problems else None
    return pack, problems


def problems_of(db: Session, pm: Any, draft: CourseDraft) -> list[DraftProblem]:
    with tempfile.TemporaryDirectory(prefix="lms-check-") as tmp:
        return check(db, pm, draft, Path(tmp))[1]


def publish(ctx: Context, *, actor: User, draft_id: int) -> tuple[int, list[DraftProblem]]:
    """Check and publish as the next version; (version, []) or (0, problems) and nothing changed."""
    with tempfile.TemporaryDirectory(prefix="lms-publish-") as tmp, ctx.transaction() as db:
        draft = draft_for(db, actor, draft_id)
        version = draft.published_version + 1
        pack, problems = check(db, ctx.pm, draft, Path(tmp), version=version)
        if problems:
            return 0, problems
        course = db.get(Course, draft.course_id) if draft.course_id else None
        if course is None and db.exec(select(Course.id).where(Course.slug == draft.slug)).scalar():
            return 0, [DraftProblem("course.yaml", 1, f"Mã “{draft.slug}” đã có khóa học khác dùng.")]
        # A new course from the editor comes after the installation's packs in the catalog.
        position = course.position if course else 1000 + (
            db.exec(select(func.count()).select_from(Course)).scalar() or 0)
        course = services.apply_pack(db, pack, course=course, position=position, commune_id=draft.commune_id,
                                     source="editor", srcsets=srcsets(draft))
        services.catalog_changed(db, content=True)
        files = {**draft.files, "course.yaml": _dump({**_course_yaml(draft), "version": version})}
        db.add(CourseRevision(draft_id=draft.id, version=version, files=files, assets=dict(draft.assets),
                              published_by_id=actor.id))
        draft.files, draft.course_id, draft.published_version = files, course.id, version
        _log(db, draft, actor, f"Xuất bản phiên bản {version}")
        draft.changed = False
        return version, []


def revisions_of(db: Session, draft_id: int) -> list[tuple[CourseRevision, str]]:
    rows = db.exec(select(CourseRevision, User.full_name).join(User, User.id == CourseRevision.published_by_id,
                                                              isouter=True)
                   .where(CourseRevision.draft_id == draft_id).order_by(CourseRevision.version.desc())).all()
    return [(revision, name or "") for revision, name in rows]


def changes_of(db: Session, draft_id: int, limit: int = 50) -> list[tuple[CourseChange, str]]:
    rows = db.exec(select(CourseChange, User.full_name).join(User, User.id == CourseChange.actor_id, isouter=True)
                   .where(CourseChange.draft_id == draft_id)
                   .order_by(CourseChange.at.desc(), CourseChange.id.desc()).limit(limit)).all()
    return [(change, name or "") for change, name in rows]


def restore(ctx: Context, *, actor: User, draft_id: int, version: int) -> None:
    """The draft becomes that version's content again; learners see it once published."""
    with ctx.transaction() as db:
        draft = draft_for(db, actor, draft_id)
        revision = db.exec(select(CourseRevision).where(CourseRevision.draft_id == draft.id,
                                                        CourseRevision.version == version)).scalars().first()
        if revision is None:
            raise NotFound()
        draft.files, draft.assets = dict(revision.files), dict(revision.assets)
        _log(db, draft, actor, f"Khôi phục nội dung phiên bản {version} (chưa xuất bản)")


# --- Preview -----------------------------------------------------------------------------


def preview_html(draft: CourseDraft, body: str) -> str:
    """A lesson as learners will see it: the same Markdown pipeline, images from the draft."""
    images = {}
    widths = srcsets(draft)
    for name, value in draft.assets.items():
        try:
            with PILImage.open(io.BytesIO(base64.b64decode(_asset_data(value)))) as picture:
                width, height = picture.size
        except (OSError, ValueError):
            continue  # a broken image shows as its alt text, as for learners
        images[f"assets/{name}"] = Image(f"/studio/{draft.id}/assets/{name}", width, height,
                                         widths.get(name, ""))
    return render_markdown(body, images)


# --- Export, import, copy ------------------------------------------------------------------


def export_zip(draft: CourseDraft) -> bytes:
    """The draft as a pack: <slug>/course.yaml, lessons, quiz.yaml, assets/ — `lms courses check` reads it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(draft.files.items()):
            archive.writestr(f"{draft.slug}/{name}", text)
        for name, value in sorted(draft.assets.items()):
            archive.writestr(f"{draft.slug}/assets/{name}", base64.b64decode(_asset_data(value)))
    return buffer.getvalue()


BAD_ZIP = "Tệp tải lên không phải gói khóa học dạng .zip (một thư mục chứa course.yaml)."


def _read_zip(data: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """Files of a pack zip, refusing anything that is not one (paths, sizes, kinds of file)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ServiceError("bad_zip", BAD_ZIP, 422) from None
    if len(members) > ZIP_MAX_FILES or sum(m.file_size for m in members) > ZIP_MAX_BYTES:
        raise ServiceError("zip_too_big", "Gói quá lớn: tối đa 200 tệp và 20 MB khi giải nén.", 422)
    names = [PurePosixPath(m.filename) for m in members]
    if any(p.is_absolute() or ".." in p.parts or "\\" in str(p) for p in names):
        raise ServiceError("bad_zip", BAD_ZIP, 422)
    tops = {p.parts[0] for p in names if len(p.parts) > 1}
    prefix = len(next(iter(tops)).split("/")) if len(tops) == 1 and all(len(p.parts) > 1 for p in names) else 0
    files: dict[str, str] = {}
    assets: dict[str, str] = {}
    for member, path in zip(members, names, strict=True):
        inner = PurePosixPath(*path.parts[prefix:])
        if inner.name.startswith(".") or "__MACOSX" in path.parts:
            continue
        content = archive.read(member)
        if len(inner.parts) == 1 and (inner.suffix in (".md", ".yaml") and SLUG.match(inner.stem)
                                      or inner.name in ("course.yaml", "quiz.yaml")):
            try:
                files[inner.name] = content.decode("utf-8")
            except UnicodeDecodeError:
                raise ServiceError("bad_text", f"Tệp “{inner}” không phải văn bản UTF-8.", 422) from None
        elif len(inner.parts) == 2 and inner.parts[0] == "assets" and IMAGE_NAME.match(inner.name):
            assets[inner.name] = base64.b64encode(content).decode()
        else:
            raise ServiceError("bad_member", f"Gói có tệp không dùng được: “{inner}”.", 422)
    if "course.yaml" not in files:
        raise ServiceError("bad_zip", BAD_ZIP, 422)
    return files, assets


def import_zip(ctx: Context, *, actor: User, data: bytes, commune_raw: str,
               new_slug: str = "") -> tuple[CourseDraft | None, list[DraftProblem]]:
    """A pack zip becomes a new draft once it passes the checker; else its problems, nothing saved."""
    files, assets = _read_zip(data)
    try:
        course = yaml.safe_load(files["course.yaml"])
    except yaml.YAMLError:
        course = None
    with ctx.transaction() as db:
        require_editor(db, actor)
        commune_id = _scope_for(db, actor, commune_raw)
        slug = new_slug.strip().lower() or (str(course.get("slug", "")) if isinstance(course, dict) else "")
        if isinstance(course, dict) and SLUG.match(slug) and course.get("slug") != slug:
            course["slug"] = slug
            files["course.yaml"] = _dump(course)
        probe = CourseDraft(slug=slug if SLUG.match(slug) else "goi", commune_id=commune_id, files=files,
                            assets=assets)
        with tempfile.TemporaryDirectory(prefix="lms-import-") as tmp:
            _pack, problems = check(db, ctx.pm, probe, Path(tmp))
        if problems:
            return None, problems
        if not _slug_free(db, slug):
            raise FormErrors({"new_slug": f"Mã “{slug}” đã có khóa học khác dùng; hãy nhập mã mới cho bản nhập."})
        draft = CourseDraft(slug=slug, commune_id=commune_id, files=files, assets=assets, created_by_id=actor.id)
        db.add(draft)
        db.flush()
        _log(db, draft, actor, "Nhập từ gói khóa học (.zip)")
        return draft, []


def copy_pack_course(ctx: Context, *, actor: User, pack_dirs: list[Path], course_slug: str,
                     new_slug: str) -> CourseDraft:
    """A course of the installation's packs copied into a course of the editor's commune."""
    folder = next((d / course_slug for d in pack_dirs if (d / course_slug / "course.yaml").is_file()), None)
    if folder is None or not SLUG.match(course_slug):
        raise NotFound()
    files = {p.name: p.read_text("utf-8") for p in folder.iterdir() if p.is_file() and p.suffix in (".md", ".yaml")}
    assets = {p.name: base64.b64encode(p.read_bytes()).decode()
              for p in sorted((folder / "assets").glob("*")) if p.is_file() and IMAGE_NAME.match(p.name)}
    slug = new_slug.strip().lower()
    with ctx.transaction() as db:
        require_editor(db, actor)
        if actor.role != "admin" and actor.commune_id is None:
            raise ServiceError("no_commune", NOT_EDITOR, 403)
        if not SLUG.match(slug) or len(slug) > 80:
            raise FormErrors({"new_slug": "Mã khóa học chỉ gồm chữ thường không dấu, số và “-”."})
        if not _slug_free(db, slug):
            raise FormErrors({"new_slug": f"Mã “{slug}” đã có khóa học khác dùng; hãy chọn mã khác."})
        course = yaml.safe_load(files["course.yaml"])
        course["slug"], course["version"] = slug, 1
        files["course.yaml"] = _dump(course)
        draft = CourseDraft(slug=slug, commune_id=actor.commune_id, files=files, assets=assets,
                            created_by_id=actor.id)
        db.add(draft)
        db.flush()
        _log(db, draft, actor, f"Sao chép từ khóa học “{course.get('title', course_slug)}”")
        return draft

