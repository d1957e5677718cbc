"""A project: every path and configuration file the platform uses, found in one place and loaded once.

In the spirit of nbgrader's ``CourseDirectory``: a command opens the project once and asks it where
things are, instead of each module deciding for itself.

=====================  ==================================================================================
what                   where
=====================  ==================================================================================
project root           the nearest folder at or above the working directory with the book's ``_config.yml``
course                 ``--course DIR``, else ``assessments/`` in the root (in the working directory outside one)
store                  ``--db PATH``, else ``$SPM_DB``, else ``spm.db`` in the root (in the working directory)
KPI catalog            ``kpis.yml`` in the root, else the catalog shipped in the package
skills catalog         ``skills.yml`` in the course
onboarding plan        ``plan.yml`` in the course (optional: without it every assignment is for every role)
settings               ``spm.yml`` in the root (optional: readiness weights, the date window)
gradebook              ``--gradebook URL``, else the course config's ``CourseDirectory.db_url``, else
                       ``gradebook.db`` in the course
book pages             ``<root>/<page>.md``; the built book in ``<root>/_build/html``
reports                ``<root>/reports`` (the working directory's ``reports/`` outside a project)
=====================  ==================================================================================

**Which catalog wins.** An analysis uses one catalog, the project's YAML files (the ones ``spm kpis
check`` and ``spm skills check`` validate), for everything: names, thresholds, mastery methods,
skill–KPI links and each KPI's direction. The store keeps a copy, written by every KPI import and
every sync, for one purpose: a store read without its course (an ``spm.db`` copied away from the
checkout, ``spm export`` with no ``skills.yml`` in reach) is analysed with the copy instead, whole.
A KPI that has values in the store but is no longer in ``kpis.yml`` keeps the direction the store
recorded for it, since the YAML has none to give. :meth:`Project.catalogs` is that rule.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .catalog import Kpi, Skill
    from .periods import DateWindow
    from .plan import Plan
    from .store import Store

BOOK_CONFIG = "_config.yml"
COURSE_DIR = "assessments"
DB_ENV = "SPM_DB"
DB_NAME = "spm.db"
KPI_CATALOG = "kpis.yml"
SKILLS_CATALOG = "skills.yml"
PLAN_FILE = "plan.yml"
SETTINGS_FILE = "spm.yml"
GRADEBOOK_FILE = "gradebook.db"
BUILT_BOOK = Path("_build") / "html"
REPORTS_DIR = "reports"


def find_project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` that holds the book's ``_config.yml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / BOOK_CONFIG).is_file():
            return folder
    return None


def resolve_db_path(explicit: str | os.PathLike | None = None, start: Path | None = None) -> Path:
    """``--db PATH``, else ``$SPM_DB``, else ``spm.db`` beside the nearest ``_config.yml``, else here."""
    if explicit:
        return Path(explicit)
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV])
    root = find_project_root(start)
    return (root or (start or Path.cwd())) / DB_NAME


def packaged_kpi_catalog() -> Path:
    return Path(str(resources.files("spm_training") / "data" / KPI_CATALOG))


def kpi_catalog_path(root: Path | None) -> Path:
    """The project's ``kpis.yml`` when it has one, else the catalog shipped in the package."""
    if root is not None and (root / KPI_CATALOG).is_file():
        return root / KPI_CATALOG
    return packaged_kpi_catalog()


def skills_path(course_dir: Path) -> Path:
    return course_dir / SKILLS_CATALOG


def plan_path(course_dir: Path) -> Path:
    return course_dir / PLAN_FILE


def settings_path(root: Path | None) -> Path | None:
    return root / SETTINGS_FILE if root is not None else None


@dataclass(frozen=True)
class Project:
    """Where everything is; the catalogs, plan and settings are read on first use and kept."""

    root: Path | None
    course_dir: Path
    db_path: Path
    #: where the reports' working folder is when there is no project root
    cwd: Path

    @classmethod
    def find(cls, *, db: str | os.PathLike | None = None, course: str | os.PathLike | None = None,
             start: Path | None = None) -> Project:
        """The project around ``start`` (the working directory), with ``--db`` and ``--course`` applied."""
        here = Path(start or Path.cwd())
        root = find_project_root(here)
        course_dir = Path(course) if course else (root or here) / COURSE_DIR
        return cls(root=root, course_dir=course_dir, db_path=resolve_db_path(db, here), cwd=here)

    @classmethod
    def at(cls, root: Path | None, *, course_dir: Path | None = None, db_path: Path | None = None) -> Project:
        """A project laid out explicitly (the demo's workspace, tests): the course defaults to
        ``root/assessments`` and the store to ``root/spm.db``."""
        base = Path(root) if root is not None else Path.cwd()
        return cls(root=Path(root) if root is not None else None,
                   course_dir=Path(course_dir) if course_dir is not None else base / COURSE_DIR,
                   db_path=Path(db_path) if db_path is not None else base / DB_NAME, cwd=base)

    # --- paths -------------------------------------------------------------------------------------

    @property
    def kpis_path(self) -> Path:
        return kpi_catalog_path(self.root)

    @property
    def skills_path(self) -> Path:
        return skills_path(self.course_dir)

    @property
    def plan_path(self) -> Path:
        return plan_path(self.course_dir)

    @property
    def settings_path(self) -> Path | None:
        return settings_path(self.root)

    @property
    def built_book(self) -> Path | None:
        return self.root / BUILT_BOOK if self.root is not None else None

    @property
    def reports_dir(self) -> Path:
        return (self.root or self.cwd) / REPORTS_DIR

    def page_source(self, page: str) -> Path | None:
        """The markdown file of a book page (``book/sdr/prospecting``), when the project has a root."""
        return self.root / f"{page}.md" if self.root is not None else None

    def gradebook_url(self, override: str | None = None) -> str:
        """``--gradebook URL``, else the course config's ``CourseDirectory.db_url``, else the course's
        ``gradebook.db``."""
        from .nbgrader_io import gradebook_url

        return gradebook_url(self.course_dir, override)

    # --- what the files hold, loaded once ------------------------------------------------------------

    @functools.cached_property
    def kpis(self) -> dict[str, Kpi]:
        from .catalog import load_kpis

        return load_kpis(path=self.kpis_path)

    @functools.cached_property
    def skills(self) -> dict[str, Skill]:
        """``skills.yml``, its KPI links checked against :attr:`kpis`; CatalogError when missing."""
        from .catalog import load_skills

        return load_skills(self.course_dir, self.kpis, path=self.skills_path)

    @property
    def has_skills(self) -> bool:
        return self.skills_path.is_file()

    @functools.cached_property
    def plan(self) -> Plan | None:
        """The onboarding plan, or None when the course has no ``plan.yml`` (a broken one is an error)."""
        from .plan import load_plan

        return load_plan(self.course_dir, self.plan_path) if self.plan_path.is_file() else None

    @functools.cached_property
    def weights(self) -> dict[str, float]:
        """The readiness weights from ``spm.yml``, else the defaults."""
        from .settings import load_weights

        return load_weights(self.settings_path)

    @functools.cached_property
    def date_window(self) -> DateWindow:
        """The plausible dates and periods (``dates`` in ``spm.yml``), else 2000-01-01 to 31 December five
        years ahead."""
        from .settings import load_date_window

        return load_date_window(self.settings_path)

    def role_assignments(self) -> dict[str, tuple[str, ...]]:
        """role -> the assignment ids the onboarding plan gives it; empty without a plan."""
        from .catalog import ROLES

        if self.plan is None:
            return {}
        return {role: tuple(a.id for a in self.plan.for_role(role)) for role in ROLES}

    def catalogs(self, store: Store | None = None) -> tuple[dict[str, Skill], dict[str, Kpi]]:
        """The one catalog an analysis uses (see the module's docstring): the project's YAML when the
        course has ``skills.yml`` (or there is no store to fall back on), else the store's copy."""
        if self.has_skills or store is None:
            return self.skills, self.kpis
        from .store import stored_catalogs

        return stored_catalogs(store)

    @functools.cached_property
    def busy_timeout(self) -> float:
        """Seconds a write waits for another writer: ``$SPM_BUSY_TIMEOUT``, else ``store.busy_timeout`` in
        ``spm.yml``, else 30."""
        from .settings import load_busy_timeout

        return load_busy_timeout(self.settings_path)

    def open_store(self, *, create: bool = True, write: bool = True) -> Store:
        """The project's store, for a command that writes (the default) or, with ``write=False``, only
        reads (opened read-only: it works on a read-only file or mount, and never creates a store)."""
        from .settings import load_allow_network_filesystem
        from .store import open_store

        return open_store(self.db_path, create=create and write, write=write, busy_timeout=self.busy_timeout,
                          network_fs=load_allow_network_filesystem(self.settings_path))
