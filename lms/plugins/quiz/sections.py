"""What the quiz plugin shows on other plugins' pages (a team's resident page)."""

from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlmodel import Session

from lms.core.models import User
from lms.templating import page_context


def resident_section(request: Any, db: Session, person: User) -> Markup:
    """The person's attempts (and who helped), and a way to take each enrolled course's quiz with them."""
    from lms.plugins.courses import services as courses
    from lms.plugins.quiz import services

    cat = courses.catalog(request, db)
    titles = {c.id: c.title for c in cat.courses}
    attempts = services.attempts_of_learner(db, user_id=person.id)
    helper_ids = {a.helper_id for a in attempts if a.helper_id is not None}
    names = dict(db.exec(select(User.id, User.full_name).where(User.id.in_(helper_ids))).all()) \
        if helper_ids else {}
    enrolled = {e.course_id for e in courses.enrolments(db, user_id=person.id)}
    template = request.app.state.templates.get_template("quiz/resident_section.html")
    # An autoescaping template's output is already safe HTML.
    return Markup(template.render(page_context(request, {  # noqa: S704
        "person": person,
        "attempts": [(a, titles.get(a.course_id, ""), names.get(a.helper_id)) for a in attempts],
        "quiz_courses": [c for c in cat.courses if c.id in enrolled and c.has_quiz],
    })))
