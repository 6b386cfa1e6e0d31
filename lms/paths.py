"""Where the site folders (templates, static, migrations, courses) live."""

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def site_root() -> Path:
    # An installed wheel carries the folders inside the package; a checkout has
    # them beside `lms/`.
    bundled = _PACKAGE / "_site"
    if (bundled / "templates").is_dir():
        return bundled
    return _PACKAGE.parent


def templates_dir() -> Path:
    return site_root() / "templates"


def static_dir() -> Path:
    return site_root() / "static"


def migrations_dir() -> Path:
    return site_root() / "migrations"


def courses_dir() -> Path:
    return site_root() / "courses"
