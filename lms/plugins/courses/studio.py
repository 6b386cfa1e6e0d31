"""The course editor ("Soạn khóa học") for a commune's content editors and administrators.

Every page needs a staff account (the route policy); the editor permission and the commune of
each draft are checked by the authoring services (403 / 404). Saving works without
JavaScript; htmx only refreshes the lesson preview in place."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from lms import security as access
from lms.bulletin import BulletinChoice
from lms.context import context_of
from lms.core.models import Place, User
from lms.core.services import AUDIENCES, communes
from lms.db import get_session
from lms.errors import FormErrors, ServiceError
from lms.forms import FormFields, FormLists, FormValues, ObjectId, takes_uploads
from lms.plugin_host import flatten
from lms.plugins.courses import audio, authoring, services
from lms.plugins.courses.models import BulletinMade, ContentEditor, Course, CourseDraft
from lms.plugins.courses.packs import DOMAINS
from lms.templating import render

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _pack_dirs(request: Request) -> list[Path]:
    return [Path(p) for p in flatten(request.app.state.pm.hook.course_pack_dirs())]


def _not_editor(request: Request) -> Any:
    # Staff without the permission are told who gives it (the pages' policy is "staff").
    return render(request, "courses/studio/not_editor.html", {"message": authoring.NOT_EDITOR})


@router.get("/studio")
def studio_home(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    if not authoring.is_editor(db, user):
        return _not_editor(request)
    drafts = authoring.drafts_of(db, user)
    packs = db.exec(select(Course).where(Course.source == "pack", Course.retired.is_(False))
                    .order_by(Course.position)).scalars().all()
    names = {p.id: p.name for p in communes(db)}
    return render(request, "courses/studio/home.html", {
        "drafts": drafts, "packs": packs, "names": names, "communes": communes(db) if user.role == "admin" else [],
        "errors": {}, "values": {}, "problems": [],
    })


def _course_input(values: dict[str, str], lists: dict[str, list[str]]) -> authoring.CourseInput:
    # The draft's page sends the picture and prerequisites (marked by "fields=all"); "new" does not.
    full = values.get("fields") == "all"
    return authoring.CourseInput(
        title=values.get("title", ""), slug=values.get("slug", ""), summary=values.get("summary", ""),
        audiences=tuple(lists.get("audiences", [])), domains=tuple(lists.get("domains", [])),
        estimated_minutes=values.get("estimated_minutes", ""), commune_id=values.get("commune_id", ""),
        cover=values.get("cover", "") if full else None,
        prerequisites=tuple(lists.get("prerequisites", [])) if full else None)


def _new_page(request: Request, db: Session, user: User, values: dict, lists: dict, errors: dict,
              status: int = 200) -> Any:
    return render(request, "courses/studio/new.html", {
        "values": values, "chosen": lists, "errors": errors, "audiences": AUDIENCES, "domains": DOMAINS,
        "communes": communes(db) if user.role == "admin" else []}, status_code=status)


@router.get("/studio/new")
def studio_new(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    if not authoring.is_editor(db, user):
        return _not_editor(request)
    return _new_page(request, db, user, {"estimated_minutes": "15"}, {"audiences": ["nguoi-dan"]}, {})


@router.post("/studio/new")
def studio_create(request: Request, values: FormValues, lists: FormLists, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    try:
        draft = authoring.create_draft(context_of(request), actor=user, data=_course_input(values, lists))
    except FormErrors as exc:
        return _new_page(request, db, user, values, lists, exc.errors, status=422)
    return _see(f"/studio/{draft.id}?saved=created")


def _draft_page(request: Request, db: Session, user: User, draft: CourseDraft, *, errors: dict | None = None,
                values: dict | None = None, lists: dict | None = None, problems: list | None = None,
                message: str = "", status: int = 200) -> Any:
    shown = authoring.view(db, draft)
    fields = shown.fields
    sections = flatten(request.app.state.pm.hook.studio_sections(request=request, db=db, draft=draft)) \
        if hasattr(request.app.state.pm.hook, "studio_sections") else []
    return render(request, "courses/studio/draft.html", {
        "shown": shown, "draft": draft, "errors": errors or {}, "problems": problems or [], "message": message,
        "values": values or {"title": fields.get("title", ""), "summary": fields.get("summary", ""),
                             "estimated_minutes": str(fields.get("estimated_minutes", ""))},
        "chosen": lists or {"audiences": fields.get("audiences") or [], "domains": fields.get("domains") or [],
                            "prerequisites": fields.get("prerequisites") or []},
        "cover": str(fields.get("cover") or "").removeprefix("assets/"),
        "prerequisite_choices": authoring.prerequisite_choices(db, draft),
        "audiences": AUDIENCES, "domains": DOMAINS, "sections": sections,
        "revisions": authoring.revisions_of(db, draft.id), "changes": authoring.changes_of(db, draft.id),
        "saved": request.query_params.get("saved"),
    }, status_code=status, headers=NO_STORE)


@router.get("/studio/{draft_id}")
def studio_draft(request: Request, draft_id: ObjectId, user: User = Depends(access.staff),
                 db: Session = Depends(get_session)) -> Any:
    return _draft_page(request, db, user, authoring.draft_for(db, user, draft_id))


@router.post("/studio/{draft_id}")
def studio_save(request: Request, draft_id: ObjectId, values: FormValues, lists: FormLists,
                user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    try:
        authoring.save_fields(context_of(request), actor=user, draft_id=draft.id, data=_course_input(values, lists))
    except FormErrors as exc:
        return _draft_page(request, db, user, draft, errors=exc.errors, values=values, lists=lists, status=422)
    return _see(f"/studio/{draft_id}?saved=fields")


@router.post("/studio/{draft_id}/publish")
def studio_publish(request: Request, draft_id: ObjectId, user: User = Depends(access.staff),
                   db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    version, problems = authoring.publish(context_of(request), actor=user, draft_id=draft.id)
    if problems:
        db.expire_all()
        return _draft_page(request, db, user, draft, problems=problems, status=422)
    return _see(f"/studio/{draft_id}?saved=published")


@router.post("/studio/{draft_id}/restore/{version}")
def studio_restore(request: Request, draft_id: ObjectId, version: ObjectId, user: User = Depends(access.staff)) -> Any:
    authoring.restore(context_of(request), actor=user, draft_id=draft_id, version=version)
    return _see(f"/studio/{draft_id}?saved=restored")


@router.get("/studio/{draft_id}/export.zip")
def studio_export(request: Request, draft_id: ObjectId, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    return Response(authoring.export_zip(draft), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{draft.slug}.zip"', **NO_STORE})


@router.get("/studio/{draft_id}/assets/{name}")
def studio_asset(request: Request, draft_id: ObjectId, name: str, user: User = Depends(access.staff),
                 db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    data = authoring.image_bytes(draft, name) if authoring.IMAGE_NAME.match(name) else None
    if data is None:
        raise HTTPException(404)
    kind = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
            "gif": "image/gif"}[name.rsplit(".", 1)[1]]
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=300",
                                                    "X-Content-Type-Options": "nosniff"})


@router.post("/studio/{draft_id}/images")
@takes_uploads
def studio_image(request: Request, draft_id: ObjectId, form: FormFields, user: User = Depends(access.staff),
                 db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    upload, alt = form.get("image"), form.get("alt")
    back = form.get("back") if form.get("back") in ("lesson",) else ""
    lesson = form.get("lesson") if isinstance(form.get("lesson"), str) else ""
    alt = alt if isinstance(alt, str) else ""
    errors: dict[str, str] = {}
    snippet = ""
    if upload is None or isinstance(upload, str) or not upload.filename:
        errors["image"] = "Hãy chọn một tệp ảnh (JPEG, PNG, WebP)."
    else:
        data = upload.file.read(request.app.state.settings.media_max_upload_bytes + 1)
        try:
            snippet = authoring.add_image(context_of(request), actor=user, draft_id=draft.id, data=data, alt=alt,
                                          filename=upload.filename)
        except ServiceError as exc:
            if exc.status in (403, 404):
                raise
            errors["alt" if exc.code == "media_alt_missing" else "image"] = exc.message
    db.expire_all()
    draft = authoring.draft_for(db, user, draft_id)
    shown = authoring.view(db, draft)
    entry = next((e for e in shown.lessons if e.slug == lesson), None) if back else None
    return render(request, "courses/studio/image_added.html", {
        "draft": draft, "shown": shown, "snippet": snippet, "errors": errors, "alt": alt, "lesson": entry,
    }, status_code=422 if errors else 200, headers=NO_STORE)


# --- Lessons -------------------------------------------------------------------------------


def _lesson_page(request: Request, db: Session, draft: CourseDraft, *, slug: str | None, title: str, body: str,
                 errors: dict | None = None, preview: bool = False, status: int = 200) -> Any:
    return render(request, "courses/studio/lesson.html", {
        "draft": draft, "shown": authoring.view(db, draft), "slug": slug, "title": title, "body": body,
        "errors": errors or {}, "preview": authoring.preview_html(draft, body) if preview else None,
        "images": sorted(draft.assets),
    }, status_code=status, headers=NO_STORE, block="preview" if request.headers.get("hx-target") == "preview" else None)


@router.get("/studio/{draft_id}/lessons/new")
def lesson_new(request: Request, draft_id: ObjectId, user: User = Depends(access.staff),
               db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    return _lesson_page(request, db, draft, slug=None, title="", body="")


@router.get("/studio/{draft_id}/lessons/{slug}")
def lesson_edit(request: Request, draft_id: ObjectId, slug: str, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    entry = next((e for e in authoring.view(db, draft).lessons if e.slug == slug), None)
    if entry is None:
        raise HTTPException(404)
    return _lesson_page(request, db, draft, slug=slug, title=entry.title, body=entry.body, preview=True)


def _lesson_form(form: Any) -> tuple[str, str, str]:
    # Read untruncated: a lesson is longer than ordinary fields (the service caps it).
    title, body, action = form.get("title"), form.get("body"), form.get("action")
    return (title if isinstance(title, str) else "", body if isinstance(body, str) else "",
            action if isinstance(action, str) else "")


def _lesson_save(request: Request, db: Session, user: User, draft_id: int, slug: str | None, form: Any) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    title, body, action = _lesson_form(form)
    if action == "preview":
        return _lesson_page(request, db, draft, slug=slug, title=title, body=body, preview=True)
    try:
        saved = authoring.save_lesson(context_of(request), actor=user, draft_id=draft.id, slug=slug, title=title,
                                      body=body)
    except FormErrors as exc:
        return _lesson_page(request, db, draft, slug=slug, title=title, body=body, errors=exc.errors, status=422)
    return _see(f"/studio/{draft_id}/lessons/{saved}?saved=1")


@router.post("/studio/{draft_id}/lessons/new")
def lesson_create(request: Request, draft_id: ObjectId, form: FormFields, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    return _lesson_save(request, db, user, draft_id, None, form)


@router.post("/studio/{draft_id}/lessons/{slug}")
def lesson_update(request: Request, draft_id: ObjectId, slug: str, form: FormFields,
                  user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    return _lesson_save(request, db, user, draft_id, slug, form)


@router.post("/studio/{draft_id}/preview")
def lesson_preview(request: Request, draft_id: ObjectId, form: FormFields, user: User = Depends(access.staff),
                   db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    _title, body, _action = _lesson_form(form)
    return render(request, "courses/studio/preview_fragment.html",
                  {"preview": authoring.preview_html(draft, body)}, headers=NO_STORE)


@router.post("/studio/{draft_id}/lessons/{slug}/move")
def lesson_move(request: Request, draft_id: ObjectId, slug: str, values: FormValues,
                user: User = Depends(access.staff)) -> Any:
    step = -1 if values.get("step") == "up" else 1
    authoring.move_lesson(context_of(request), actor=user, draft_id=draft_id, slug=slug, step=step)
    return _see(f"/studio/{draft_id}#bai-hoc")


@router.post("/studio/{draft_id}/lessons/{slug}/retire")
def lesson_retire(request: Request, draft_id: ObjectId, slug: str, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    try:
        authoring.retire_lesson(context_of(request), actor=user, draft_id=draft_id, slug=slug)
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return _draft_page(request, db, user, authoring.draft_for(db, user, draft_id), message=exc.message,
                           status=exc.status)
    return _see(f"/studio/{draft_id}?saved=retired#bai-hoc")


# --- Preview as a learner -------------------------------------------------------------------


@router.get("/studio/{draft_id}/preview")
def draft_preview(request: Request, draft_id: ObjectId, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    return render(request, "courses/studio/as_learner.html", {
        "draft": draft, "shown": authoring.view(db, draft), "lesson": None, "body": None,
        "audiences": AUDIENCES}, headers=NO_STORE)


@router.get("/studio/{draft_id}/preview/{slug}")
def draft_preview_lesson(request: Request, draft_id: ObjectId, slug: str, user: User = Depends(access.staff),
                         db: Session = Depends(get_session)) -> Any:
    draft = authoring.draft_for(db, user, draft_id)
    shown = authoring.view(db, draft)
    lesson = next((e for e in shown.lessons if e.slug == slug), None)
    if lesson is None:
        raise HTTPException(404)
    index = shown.lessons.index(lesson)
    return render(request, "courses/studio/as_learner.html", {
        "draft": draft, "shown": shown, "lesson": lesson, "body": authoring.preview_html(draft, lesson.body),
        "next": shown.lessons[index + 1] if index + 1 < len(shown.lessons) else None,
        "audiences": AUDIENCES}, headers=NO_STORE)


# --- Import, copy, editors ----------------------------------------------------------------
# Not under /studio/…: /studio/{draft_id} would take "import" for an id.


def _home_with(request: Request, db: Session, user: User, *, errors: dict, values: dict, problems: list,
               status: int) -> Any:
    drafts = authoring.drafts_of(db, user)
    packs = db.exec(select(Course).where(Course.source == "pack", Course.retired.is_(False))
                    .order_by(Course.position)).scalars().all()
    return render(request, "courses/studio/home.html", {
        "drafts": drafts, "packs": packs, "names": {p.id: p.name for p in communes(db)},
        "communes": communes(db) if user.role == "admin" else [], "errors": errors, "values": values,
        "problems": problems}, status_code=status)


@router.post("/studio-import")
def studio_import(request: Request, form: FormFields, user: User = Depends(access.staff),
                  db: Session = Depends(get_session)) -> Any:
    authoring.require_editor(db, user)
    upload = form.get("pack")
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _home_with(request, db, user, errors={"pack": "Hãy chọn tệp .zip của gói khóa học."},
                          values=values, problems=[], status=422)
    data = upload.file.read(authoring.ZIP_MAX_BYTES + 1)
    try:
        draft, problems = authoring.import_zip(context_of(request), actor=user, data=data,
                                               commune_raw=values.get("commune_id", ""),
                                               new_slug=values.get("new_slug", ""))
    except FormErrors as exc:
        return _home_with(request, db, user, errors=exc.errors, values=values, problems=[], status=422)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        return _home_with(request, db, user, errors={"pack": exc.message}, values=values, problems=[], status=422)
    if draft is None:
        return _home_with(request, db, user, errors={"pack": "Gói chưa đạt: hãy sửa các lỗi dưới đây rồi tải lại."},
                          values=values, problems=problems, status=422)
    return _see(f"/studio/{draft.id}?saved=imported")


@router.post("/studio-copy/{course_slug}")
def studio_copy(request: Request, course_slug: str, values: FormValues, user: User = Depends(access.staff),
                db: Session = Depends(get_session)) -> Any:
    try:
        draft = authoring.copy_pack_course(context_of(request), actor=user, pack_dirs=_pack_dirs(request),
                                           course_slug=course_slug, new_slug=values.get("new_slug", ""))
    except FormErrors as exc:
        return _home_with(request, db, user, errors={f"copy-{course_slug}": exc.errors["new_slug"]},
                          values={f"copy-{course_slug}": values.get("new_slug", "")}, problems=[], status=422)
    return _see(f"/studio/{draft.id}?saved=copied")


@router.get("/studio-editors")
def editors_page(request: Request, user: User = Depends(access.admin), db: Session = Depends(get_session)) -> Any:
    staff = db.exec(select(User).where(User.role == "staff", User.active.is_(True))
                    .order_by(User.commune_id, User.full_name)).scalars().all()
    editors = set(db.exec(select(ContentEditor.user_id)).scalars().all())
    return render(request, "courses/studio/editors.html", {
        "staff": staff, "editors": editors, "names": {p.id: p.name for p in communes(db)},
        "saved": request.query_params.get("saved")})


@router.post("/studio-editors/{user_id}")
def editors_set(request: Request, user_id: ObjectId, values: FormValues, user: User = Depends(access.admin)) -> Any:
    authoring.set_editor(context_of(request), actor=user, user_id=user_id, allowed=values.get("allowed") == "1")
    return _see("/studio-editors?saved=1")



# --- Recordings and the loudspeaker bulletin ----------------------------------------------
# Not under /studio/…: a course of the installation's packs has no draft, and admins record those.


def _audio_page(request: Request, db: Session, user: User, course_slug: str, *, errors: dict | None = None,
                speakers: dict | None = None, status: int = 200) -> Any:
    course, lessons, recordings = audio.course_for_editor(db, user, course_slug)
    return render(request, "courses/studio/audio.html", {
        "course": course, "lessons": lessons, "recordings": recordings, "errors": errors or {},
        "speakers": speakers or {}, "saved": request.query_params.get("saved"),
        "max_upload": audio.size_text(request.app.state.settings.media_max_upload_bytes),
        "can_convert": audio.tool("ffmpeg") is not None,
    }, status_code=status, headers=NO_STORE)


@router.get("/studio-audio/{course_slug}")
def audio_course(request: Request, course_slug: str, user: User = Depends(access.staff),
                 db: Session = Depends(get_session)) -> Any:
    if not authoring.is_editor(db, user):
        return _not_editor(request)
    return _audio_page(request, db, user, course_slug)


@router.post("/studio-audio/{course_slug}/{lesson_slug}")
@takes_uploads
def audio_upload(request: Request, course_slug: str, lesson_slug: str, form: FormFields,
                 user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    lesson, _course = audio.editable_lesson(db, user, course_slug=course_slug, lesson_slug=lesson_slug)
    upload, speaker = form.get("audio"), form.get("speaker")
    speaker = speaker if isinstance(speaker, str) else ""
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _audio_page(request, db, user, course_slug, status=422, speakers={lesson.id: speaker},
                           errors={lesson.id: "Hãy chọn một tệp ghi âm (MP3, M4A hoặc OGG)."})
    data = upload.file.read(request.app.state.settings.media_max_upload_bytes + 1)
    try:
        audio.save_recording(context_of(request), actor=user, lesson_id=lesson.id, data=data, speaker=speaker)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        db.expire_all()
        return _audio_page(request, db, user, course_slug, errors={lesson.id: exc.message},
                           speakers={lesson.id: speaker}, status=exc.status)
    return _see(f"/studio-audio/{course_slug}?saved={lesson.slug}#bai-{lesson.slug}")


@router.post("/studio-audio/{course_slug}/{lesson_slug}/remove")
def audio_remove(request: Request, course_slug: str, lesson_slug: str, user: User = Depends(access.staff),
                 db: Session = Depends(get_session)) -> Any:
    lesson, _course = audio.editable_lesson(db, user, course_slug=course_slug, lesson_slug=lesson_slug)
    audio.remove_recording(context_of(request), actor=user, lesson_id=lesson.id)
    return _see(f"/studio-audio/{course_slug}?saved=removed#bai-{lesson.slug}")


def _bulletin_courses(request: Request, db: Session, user: User) -> list[Any]:
    catalog = services.catalog(request, db)
    return list(catalog.courses) if user.role == "admin" else catalog.for_commune(user.commune_id)


def _bulletin_choices(request: Request, db: Session, user: User) -> list[BulletinChoice]:
    offered = flatten(request.app.state.pm.hook.bulletin_choices(db=db, user=user))
    return [choice for choice in offered if isinstance(choice, BulletinChoice)]


def _bulletin_page(request: Request, db: Session, user: User, *, chosen: list[str], picked: list[str] | None = None,
                   commune_id: str = "", error: str = "", status: int = 200) -> Any:
    groups: dict[str, list[BulletinChoice]] = {}
    for choice in _bulletin_choices(request, db, user):
        groups.setdefault(choice.group, []).append(choice)
    return render(request, "courses/bulletin.html", {
        "courses": _bulletin_courses(request, db, user), "chosen": set(chosen), "error": error,
        "groups": groups, "picked": set(picked or []),
        "communes": communes(db) if user.role == "admin" else [], "commune_id": commune_id,
        "max_items": audio.BULLETIN_MAX_ITEMS, "available": audio.speech_available(),
    }, status_code=status, headers=NO_STORE)


@router.get("/studio-bulletin")
def bulletin_form(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    return _bulletin_page(request, db, user, chosen=[])


@router.get("/studio-bulletin/da-lam")
def bulletins_made(request: Request, user: User = Depends(access.staff), db: Session = Depends(get_session)) -> Any:
    statement = select(BulletinMade).order_by(BulletinMade.made_at.desc()).limit(200)
    if user.role != "admin":
        statement = statement.where(BulletinMade.commune_id == user.commune_id)
    names = dict(db.execute(select(Place.id, Place.name).where(Place.kind == "commune")).all())
    return render(request, "courses/bulletins_made.html", {
        "bulletins": db.execute(statement).scalars().all(), "names": names}, headers=NO_STORE)


@router.post("/studio-bulletin")
def bulletin_download(request: Request, values: FormValues, lists: FormLists, user: User = Depends(access.staff),
                      db: Session = Depends(get_session)) -> Any:
    chosen, picked = lists.get("lesson", []), lists.get("item", [])
    offered = [lesson.id for course in _bulletin_courses(request, db, user) for lesson in course.lessons]
    wanted = {value for value in chosen if value.isdigit()}
    lesson_ids = [lesson_id for lesson_id in offered if str(lesson_id) in wanted]
    # Only what is offered to this person now: a key typed into the form reaches nothing else.
    choices = [choice for choice in _bulletin_choices(request, db, user) if choice.key in set(picked)]
    commune_raw = values.get("commune_id", "")
    commune_id = user.commune_id if user.role != "admin" else (int(commune_raw) if commune_raw.isdigit() else None)
    commune = db.get(Place, commune_id) if commune_id else None
    if commune is not None and commune.kind != "commune":
        commune = None
    try:
        items = audio.bulletin_items(context_of(request), lesson_ids=lesson_ids, choices=choices)
        day = audio.today()
        made = audio.make_bulletin(context_of(request), commune_name=commune.name if commune else "",
                                   items=items, day=day)
        audio.record_bulletin(context_of(request), actor=user, commune_id=commune.id if commune else None,
                              items=items, bulletin=made)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        return _bulletin_page(request, db, user, chosen=chosen, picked=picked, commune_id=commune_raw,
                              error=exc.message, status=exc.status)
    return Response(made.data, media_type="audio/mpeg", headers={
        "Content-Disposition": f'attachment; filename="{audio.bulletin_filename(day)}"', **NO_STORE})
