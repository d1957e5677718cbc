"""A populated store for the analysis and report tests, written by the package's one store builder
(:func:`spm_training.demo.store.write_store`, through the public writers; no nbgrader).

The organisation and its KPI values come from the demo generator (skills drive KPIs); scores on a
synthetic course come from the same latent skill levels, so that reports have real gaps, linked
gaps, pending grades, comments and new hires to show.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from spm_training.catalog import Kpi, Skill, load_kpis, load_skills
from spm_training.demo.data import generate
from spm_training.demo.store import write_store
from spm_training.ingest.kpis import parse_kpi_file
from spm_training.ingest.roster import parse_roster
from spm_training.ingest.sync import ItemRow, ScoreRow
from spm_training.project import Project
from spm_training.store import Store, checkpoint, open_store

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 15)
ASSIGNMENTS = 4
CELLS = 6


def catalogs() -> tuple[dict[str, Skill], dict[str, Kpi]]:
    kpis = load_kpis(None)
    return load_skills(ROOT / "assessments", kpis), kpis


def course_items(skills: dict[str, Skill]) -> list[tuple[str, str, str, float, str, tuple[str, ...]]]:
    """(assignment, notebook, cell, points, kind, skills): every skill on at least two items."""
    ids = list(skills)
    items = []
    k = 0
    for a in range(1, ASSIGNMENTS + 1):
        for c in range(1, CELLS + 1):
            kind = "manual" if c == CELLS else "autograded"
            tagged = (ids[k % len(ids)],) if c % 3 else (ids[k % len(ids)], ids[(k + 1) % len(ids)])
            items.append((f"a{a}", f"a{a}", f"c{c}", 4.0 if kind == "manual" else float(1 + c % 3), kind, tagged))
            k += 1
    return items


def populate(store: Store, tmp: Path, *, n_reps: int = 30, seed: int = 7) -> dict:
    """Roster, KPI values, items and scores; returns the generated data for assertions."""
    skills, kpis = catalogs()
    data = generate(skills, kpis, seed=seed, n_reps=n_reps, today=TODAY)
    roster, values = tmp / "roster.csv", tmp / "kpis.csv"
    roster.write_text(data.roster_csv())
    values.write_text(data.kpis_csv())
    rep_roles = {r["id"]: r["role"] for r in data.roster}
    rng = np.random.default_rng(seed + 1)
    items = course_items(skills)
    rows = []
    for rep in data.roster:
        hired = date.fromisoformat(rep["hire_date"])
        done = ASSIGNMENTS if (TODAY - hired).days > 60 else 2
        for n in range(1, done + 1):
            at = datetime.combine(hired, datetime.min.time()) + timedelta(days=7 * n, hours=n)
            for a, nb, cell, points, kind, tagged in items:
                if a != f"a{n}":
                    continue
                level = float(np.mean([data.latent[rep["id"]][s] for s in tagged]))
                x = float(np.clip(level + 0.1 * n - 0.15 + rng.normal(0, 0.12), 0, 1))
                score = round(x * points * 2) / 2
                pending = kind == "manual" and rng.random() < 0.15
                comment = ("Lead with the business impact, then the feature." if kind == "manual" and not pending
                           else None)
                auto = None if kind == "manual" else score
                manual = score if kind == "manual" and not pending else None
                rows.append(ScoreRow(rep["id"], a, nb, cell, auto, manual, None, int(pending), comment,
                                     at.strftime("%Y-%m-%d %H:%M:%S.%f")))
    write_store(store, reps=parse_roster(roster), kpi_values=parse_kpi_file(values, kpis, rep_roles),
                kpi_source="kpis.csv", skills=skills, kpis=kpis, items=[ItemRow(*item) for item in items], scores=rows)
    return {"data": data, "skills": skills, "kpis": kpis, "items": items}


def project_for(folder: Path) -> Project:
    """The checkout's book and catalogs with a course of its own in ``folder/course`` (the course's
    skills.yml and no onboarding plan: the synthetic assignments a1..a4 are given to everyone)."""
    course = folder / "course"
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "assessments" / "skills.yml", course / "skills.yml")
    return Project.at(ROOT, course_dir=course, db_path=folder / "spm.db")


def populated(folder: Path, **options: object) -> tuple[Path, dict]:
    """A populated store in ``folder``; ``info["project"]`` is the project to analyse it with."""
    folder.mkdir(parents=True, exist_ok=True)
    with open_store(folder / "spm.db") as store:
        info = populate(store, folder, **options)  # type: ignore[arg-type]
        checkpoint(store)
    info["project"] = project_for(folder)
    return folder / "spm.db", info
