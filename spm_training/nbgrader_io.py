"""Where the nbgrader course and its gradebook are, gradebook URLs (SQLite ones built and read, any one
printed without its password), and the few writes we make through nbgrader's API."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import SpmError
from .text import first_line

DEFAULT_GRADEBOOK = "gradebook.db"
# sqlite:// or sqlite+driver://, the database part, then any ?query
_SQLITE_URL = re.compile(r"^sqlite(?:\+\w+)?://(?P<rest>[^?]*)(?:\?.*)?$")


def sqlite_url(path: Path | str) -> str:
    """The SQLAlchemy URL of the SQLite file at ``path`` (``sqlite:///`` and the path as given)."""
    return f"sqlite:///{path}"


def sqlite_database(url: str) -> str | None:
    """The database of a SQLite URL as SQLAlchemy reads it: ``relative.db`` from ``sqlite:///relative.db``,
    ``/absolute.db`` from ``sqlite:////absolute.db``, ``""`` or ``:memory:`` for an in-memory database;
    None for any other backend (and for text that is not a URL).

    Parsed here rather than by SQLAlchemy, so that the common case does not pay SQLAlchemy's import."""
    match = _SQLITE_URL.match(url)
    if match is None:
        return None
    rest = match.group("rest")
    return rest[1:] if rest.startswith("/") else rest


def display_url(url: str) -> str:
    """The URL as it may be printed: with any password masked (a SQLite URL has none, and is left as it is)."""
    if _SQLITE_URL.match(url):
        return url
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot parse has no password to hide either
        return url


def ensure_env_bin_on_path() -> None:
    """nbgrader runs the ``alembic`` executable from PATH when it creates a gradebook; an
    environment that was not activated would otherwise fail there."""
    bin_dir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bin_dir not in parts:
        os.environ["PATH"] = os.pathsep.join([bin_dir, *parts])


def course_config(course_dir: Path) -> object:
    """The traitlets config from the course's ``nbgrader_config.py`` (empty when absent)."""
    from traitlets.config.loader import Config, PyFileConfigLoader

    config_file = course_dir / "nbgrader_config.py"
    if not config_file.is_file():
        return Config()
    try:
        return PyFileConfigLoader(config_file.name, path=str(course_dir)).load_config()
    except Exception as exc:  # noqa: BLE001 - a user's config can raise anything; report it in one line
        raise SpmError(f"{config_file}: cannot load the nbgrader config ({exc.__class__.__name__}: {exc}); "
                       "fix the file") from None


def gradebook_url(course_dir: Path, override: str | None = None) -> str:
    """``--gradebook URL``, else the course config's ``CourseDirectory.db_url``, else the course's
    ``gradebook.db``. Relative SQLite paths are taken from the course folder, as nbgrader does."""
    if override:
        return override
    config = course_config(course_dir)
    url = config.get("CourseDirectory", {}).get("db_url") if hasattr(config, "get") else None
    if url:
        return str(url)
    return sqlite_url((course_dir / DEFAULT_GRADEBOOK).resolve())


def split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last


def register_students(url: str, reps: Iterable[Mapping[str, Any]]) -> int:
    """Create or update the reps as nbgrader students, in one gradebook transaction."""
    ensure_env_bin_on_path()
    from nbgrader.api import Gradebook, Student

    count = 0
    try:
        with Gradebook(url) as gradebook:
            session = gradebook.db
            for rep in reps:
                first, last = split_name(rep["name"])
                student = session.get(Student, rep["id"]) or Student(id=rep["id"])
                student.first_name, student.last_name, student.email = first, last, rep["email"]
                session.add(student)
                count += 1
            session.commit()
    except SpmError:
        raise
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and alembic errors differ by backend
        raise SpmError(f"{url}: cannot write the students to the nbgrader gradebook "
                       f"({exc.__class__.__name__}: {first_line(exc)}); check --course and the db_url "
                       "in nbgrader_config.py") from None
    return count
