"""What the courses plugin shows on the core's home and account pages."""

from typing import Any

from markupsafe import Markup

from lms.core.services import AUDIENCES
from lms.db import read_session


def home_section(request: Any, user: Any) -> Markup:
    from lms.plugins.courses import services

    resume = None
    with read_session(request.app.state.engine) as db:
        if user is not None:
            cat = services.catalog(request, db)
            for enrolment in services.enrolments(db, user_id=user.id):
                course = next((c for c in cat.courses if c.id == enrolment.course_id), None)
                if course is not None and enrolment.completed_at is None:
                    done = services.done_lessons(db, user_id=user.id, course_id=course.id)
                    done_ids = done.get(course.id, set())
                    resume = (course, services.resume_lesson(course, done_ids),
                              services.progress_of(course, done_ids))
                    break
    template = request.app.state.templates.get_template("courses/home_section.html")
    # An autoescaping template's output is already safe HTML.
    return Markup(template.render(audiences=AUDIENCES, resume=resume, user=user))  # noqa: S704


def account_section(request: Any, user: Any) -> Markup:
    template = request.app.state.templates.get_template("courses/account_section.html")
    return Markup(template.render(user=user))  # noqa: S704
