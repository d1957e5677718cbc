"""Consistency of the skills catalog and the onboarding plan with the course and the book
(``spm skills check``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from .catalog import Skill
from .course import Item
from .errors import CatalogError
from .plan import plan_problems, read_plan
from .project import plan_path


def toc_files(project_root: Path) -> set[str]:
    """Every ``file:`` entry (and the root) of the book's ``_toc.yml``."""
    toc_path = project_root / "_toc.yml"
    if not toc_path.is_file():
        return set()
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    found.add(node[key].removesuffix(".md").removesuffix(".ipynb"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(toc_path.read_text(encoding="utf-8")))
    return found


def check_plan(course_dir: Path) -> list[str]:
    """Problems with the course's onboarding plan (``plan.yml``), one line each: a file that does not
    load (the first error in it), assignments it names that the course does not have, and
    assignments of the course it gives to no role. A course without a plan has none: the plan is
    optional (every assignment is then for every role)."""
    if not plan_path(course_dir).exists():
        return []
    try:
        plan = read_plan(plan_path(course_dir))
    except CatalogError as exc:
        return [str(exc)]
    return plan_problems(plan, course_dir)


def check_skills(skills: dict[str, Skill], items: list[Item], project_root: Path | None,
                 course_dir: Path | None = None) -> list[str]:
    """Problems, one line each: graded cells without points or skills, unknown skills, skills no
    item measures, pages and interactive modules that are missing from the book or its TOC, and,
    with ``course_dir``, the onboarding plan's disagreements with the course (:func:`check_plan`)."""
    problems: list[str] = []
    per_skill: Counter[str] = Counter()
    for item in items:
        where = f"{item.source}: cell '{item.cell}'"
        if item.max_score <= 0:
            problems.append(f"{where} has no points; give it points in the nbgrader toolbar")
        if not item.skills:
            problems.append(f"{where} names no skill; add a tag skill:<id> (ids from skills.yml)")
        for skill_id in item.skills:
            if skill_id not in skills:
                problems.append(f"{where} names unknown skill '{skill_id}'; use an id from skills.yml")
            per_skill[skill_id] += 1
    for skill in skills.values():
        if per_skill[skill.id] == 0:
            problems.append(f"skill '{skill.id}' is measured by no graded cell; tag a cell skill:{skill.id}")
    if project_root is not None:
        in_toc = toc_files(project_root)
        for skill in skills.values():
            for page in skill.pages:
                if not any((project_root / f"{page}{ext}").is_file() for ext in (".md", ".ipynb")):
                    problems.append(f"skill '{skill.id}' points to book page '{page}', which does not exist")
                elif in_toc and page not in in_toc:
                    problems.append(f"skill '{skill.id}' points to book page '{page}', which is not in _toc.yml")
            for module in skill.modules:
                if not (project_root / f"{module}.ipynb").is_file():
                    problems.append(f"skill '{skill.id}' names interactive module '{module}', which does not exist "
                                    "(modules are notebooks, named without .ipynb)")
                elif in_toc and module not in in_toc:
                    problems.append(f"skill '{skill.id}' names interactive module '{module}', which is not in _toc.yml")
    if course_dir is not None:
        problems += check_plan(course_dir)
    return problems
