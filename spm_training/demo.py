"""``spm demo``: the whole loop on generated data, through the same code paths as a user's files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from .catalog import load_kpis, load_skills
from .demo_data import generate
from .errors import SpmError
from .fileio import write_text_atomic
from .kpis import attainment_summary, import_kpis
from .nbgrader_io import gradebook_url
from .output import to_table
from .roster import import_roster
from .store import open_store

PACKAGE_ROOT = Path(__file__).resolve().parent


def course_template() -> Path:
    """The course shipped with the project: the checkout's ``assessments/`` beside the package."""
    course = PACKAGE_ROOT.parent / "assessments"
    if not (course / "skills.yml").is_file():
        raise SpmError(f"{course}: the course is not here; run spm demo from an installed checkout of spm-training")
    return course


def prepare_workspace(directory: Path) -> Path:
    """Create the workspace, or reuse it; the course copy is refreshed from the template."""
    directory.mkdir(parents=True, exist_ok=True)
    course = directory / "course"
    template = course_template()
    for name in ("skills.yml", "nbgrader_config.py"):
        if (template / name).is_file():
            course.mkdir(exist_ok=True)
            shutil.copy2(template / name, course / name)
    if (template / "source").is_dir():
        shutil.copytree(template / "source", course / "source", dirs_exist_ok=True)
    return course


def run_demo(directory: Path, *, seed: int = 7, n_reps: int = 30, build_book: bool = True,
             echo: Callable[[str], None] = print) -> dict:
    """Generate the organisation, import it, and print a KPI attainment summary."""
    if n_reps < 3:
        raise SpmError(f"--reps {n_reps}: the demo needs at least 3 reps (one per team)")
    course = prepare_workspace(directory)
    kpis = load_kpis(None)
    skills = load_skills(course, kpis)
    data = generate(skills, kpis, seed=seed, n_reps=n_reps)
    roster_file, kpi_file = directory / "roster.csv", directory / "kpis.csv"
    write_text_atomic(roster_file, data.roster_csv())
    write_text_atomic(kpi_file, data.kpis_csv())
    echo(f"Generated {len(data.roster)} reps in {len({r['team'] for r in data.roster})} teams and "
         f"{len(data.kpi_rows)} KPI values for {', '.join(data.periods)} (seed {seed}).")
    with open_store(directory / "spm.db") as store:
        roster = import_roster(store, roster_file, gradebook_url(course))
        echo(f"Roster: {roster.reps_added} reps added, {roster.reps_updated} updated, "
             f"{roster.reps_unchanged} unchanged (store and nbgrader gradebook).")
        result = import_kpis(store, kpi_file, kpis)
        echo(f"KPIs: {result.inserted} new, {result.updated} updated, {result.unchanged} unchanged.")
        summary = attainment_summary(store)
    echo("")
    echo(f"KPI attainment by team, {summary[0]['period'] if summary else 'no data'}:")
    echo(to_table(summary, ("team", "reps", "kpi_values", "on_target", "median_attainment", "weakest_kpi")))
    echo("")
    echo(f"Workspace: {directory.resolve()}  (store: spm.db, course: course/, inputs: roster.csv, kpis.csv)")
    return {"summary": summary, "data": data}
