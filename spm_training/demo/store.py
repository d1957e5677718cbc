"""A demo store without grading: the demo organisation and the real course, with SIMULATED scores.

:func:`build_demo_store` writes a complete store (``spm.db``) in well under a second, for the manager
dashboard notebook, the book and the tests, where running nbgrader over hundreds of submissions
(``spm demo``) would take minutes.

What is real and what is not:

- the roster and the KPI values are the demo generator's (:mod:`spm_training.demo.data`), read from
  the same files ``spm demo`` imports and validated the same way (:func:`~spm_training.ingest.roster.parse_roster`,
  :func:`~spm_training.ingest.kpis.parse_kpi_file`), so KPIs follow each rep's latent skills as documented there;
- the skills catalog and the items are the course's own (``assessments/skills.yml`` and the graded
  cells of ``assessments/source``, read as ``spm sync`` reads them and written by the sync's own
  :func:`~spm_training.ingest.sync.write_catalog`);
- each rep's assignments and their due dates are the course's onboarding plan's
  (``assessments/plan.yml``): the assignments of the rep's role, due on the plan's days after the
  hire date, up to ``today``;
- **the item scores are simulated.** No notebook is submitted and no autograder runs. Each score is
  drawn straight from the rep's latent skill level, the way ``spm demo``'s submissions and its
  simulated trainer would earn it: an answer is right with a probability equal to the mean latent
  level of the skills its tests measure, and every test of a right answer scores full points, of a
  wrong one zero; a manually graded answer or task gets the latent level plus noise (sd 0.08) as
  its share of the points, to half a point, with the simulated trainer's comment. Answers submitted
  in the last :data:`PENDING_DAYS` days still await a manual grade. Never read these scores as
  anyone's results.

Everything is written by :func:`write_store`, through the public writers of ``ingest/`` (roster, KPI
values, catalog and items, scores), in one transaction per step, and the same seed, size and ``today``
give the same store. :func:`write_store` is the one store builder of the demo, the tests and the
benchmarks (datasette's ``fixtures.py`` is the model): each gives it its own organisation and course,
and none writes the store by hand.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..catalog import Kpi, Skill, load_kpis, load_skills
from ..course import read_items
from ..errors import StoreError
from ..fileio import write_text_atomic
from ..ingest.kpis import parse_kpi_file, write_kpi_values
from ..ingest.roster import parse_roster, write_roster
from ..ingest.sync import ItemLike, ScoreRow, write_catalog, write_scores
from ..ingest.trainings import write_trainings
from ..plan import Plan, due_for, load_plan
from ..store import Store, checkpoint, open_store, table_counts
from .course import COMMENTS, MISSED_SHARE, trainer_comment
from .data import DemoData, PlantedEffect, generate

#: The day the shipped dashboard and its tests are computed for, so that they never change with the calendar.
DEMO_TODAY = date(2026, 11, 28)
#: Manual answers submitted this many days before ``today`` or later are still waiting for a trainer.
PENDING_DAYS = 7
MANUAL_NOISE_SD = 0.08
# Offsets from the seed for the simulated course work, so that its random numbers never overlap
# the generator's (which draws the roster, skills and KPIs from ``seed`` itself).
SCORE_SEED_OFFSET = 3000


@dataclass(frozen=True)
class DemoStore:
    """What :func:`build_demo_store` wrote, with the generated data behind it."""

    path: Path
    data: DemoData
    skills: dict[str, Skill]
    kpis: dict[str, Kpi]
    today: date
    reps: int
    teams: int
    kpi_values: int
    items: int
    submissions: int
    scores: int
    pending: int


def default_course_dir() -> Path:
    """The course beside the installed package (``assessments/`` of the checkout)."""
    from .loop import project_template

    return project_template() / "assessments"


@dataclass(frozen=True)
class _Cell:
    """A graded cell of a source notebook with the answer (solution cell) its tests check."""

    cell: str
    kind: str                    # autograded, manual or task
    max_score: float
    skills: tuple[str, ...]
    answer: str | None           # grade_id of the answer an autograded test checks


def _graded_cells(notebook: Path) -> list[_Cell]:
    """The notebook's graded cells in order; an autograded test belongs to the answer cell before it."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    out: list[_Cell] = []
    answer: str | None = None
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        tags = cell.get("metadata", {}).get("tags", [])
        skills = tuple(t.split(":", 1)[1] for t in tags if t.startswith("skill:"))
        if meta.get("solution") and not meta.get("grade"):
            answer = str(meta.get("grade_id", ""))
            continue
        if not (meta.get("grade") or meta.get("task")):
            continue
        kind = "task" if meta.get("task") else "manual" if meta.get("solution") else "autograded"
        out.append(_Cell(cell=str(meta.get("grade_id", "")), kind=kind, max_score=float(meta.get("points") or 0),
                         skills=skills, answer=answer if kind == "autograded" else None))
    return out


KPI_VALUE_COLUMNS = ("rep_id", "period", "kpi_id", "value", "target")


def write_store(store: Store, *, reps: Sequence[Mapping[str, Any]], skills: dict[str, Skill], kpis: dict[str, Kpi],
                items: Iterable[ItemLike], scores: Iterable[ScoreRow | tuple] = (),
                kpi_values: pd.DataFrame | Iterable[tuple] | None = None, kpi_source: str = "kpis.csv") -> None:
    """Write an organisation and its course work into ``store`` through the public writers, in the
    order a real store fills up: the roster, the KPI values, the skills catalog with the items, the
    scores. The one store builder of the demo, the tests and the benchmarks.

    ``reps`` are rows as :func:`~spm_training.ingest.roster.parse_roster` gives them; ``kpi_values``
    a frame as :func:`~spm_training.ingest.kpis.parse_kpi_file` gives it, or (rep_id, period, kpi_id,
    value, target) rows, written with ``kpi_source`` as their source; ``items`` are
    :class:`~spm_training.ingest.sync.ItemRow` or ``read_items``' items, which get ids in the order
    given; ``scores`` are :class:`~spm_training.ingest.sync.ScoreRow`, naming items by their key."""
    write_roster(store, reps)
    if kpi_values is not None:
        frame = kpi_values if isinstance(kpi_values, pd.DataFrame) else pd.DataFrame(
            list(kpi_values), columns=list(KPI_VALUE_COLUMNS))
        write_kpi_values(store, frame, kpis, source=kpi_source)
    write_catalog(store, skills, kpis, items)
    write_scores(store, scores)


def _level(latent: dict[str, float], skills: tuple[str, ...] | list[str]) -> float:
    known = [latent[s] for s in skills if s in latent]
    # A cell without a known skill measures nothing in particular: an average rep's chance.
    return float(np.mean(known)) if known else 0.6


def simulate_scores(data: DemoData, course_dir: Path, today: date, seed: int, plan: Plan | None = None, *,
                    items: Iterable[ItemLike] | None = None) -> tuple[list[ScoreRow], int, int]:
    """SIMULATED item scores for every rep's due assignments (the course's plan for the rep's role).

    Returns (the scores, submissions, scores awaiting a manual grade). See the module's docstring for
    how each score is drawn. Only the course's ``items`` get scores (by default every graded cell of
    ``source/``, as :func:`~spm_training.course.read_items` lists them); ``plan`` defaults to the
    course's ``plan.yml``."""
    rng = np.random.default_rng(seed + SCORE_SEED_OFFSET)
    known = {(i.assignment, i.notebook, i.cell) for i in (read_items(course_dir) if items is None else items)}
    notebooks: dict[str, list[tuple[str, list[_Cell]]]] = {}
    for path in sorted((course_dir / "source").glob("*/*.ipynb")):
        notebooks.setdefault(path.parent.name, []).append((path.stem, _graded_cells(path)))
    plan = plan or load_plan(course_dir)
    rows: list[ScoreRow] = []
    submissions = pending = 0
    for rep in data.roster:
        latent = data.latent[rep["id"]]
        for assignment, due in due_for(plan, rep["role"], date.fromisoformat(rep["hire_date"]), today):
            if rng.random() < MISSED_SHARE:
                continue
            submissions += 1
            at = datetime.combine(due, datetime.min.time()) + timedelta(hours=int(rng.integers(8, 18)))
            stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f")
            awaiting = (today - due).days < PENDING_DAYS
            for notebook, cells in notebooks[assignment]:
                # Which skills each answer's tests measure, so that the answer is right or wrong once
                # for all of its tests, as a real submission is.
                answer_skills: dict[str, list[str]] = {}
                for c in cells:
                    if c.answer is not None:
                        answer_skills.setdefault(c.answer, []).extend(c.skills)
                right = {a: bool(rng.random() < _level(latent, s)) for a, s in answer_skills.items()}
                for c in cells:
                    key = (assignment, notebook, c.cell)
                    if key not in known:
                        continue
                    if c.kind == "autograded":
                        correct = right[c.answer] if c.answer is not None else bool(
                            rng.random() < _level(latent, c.skills))
                        rows.append(ScoreRow(rep["id"], *key, c.max_score if correct else 0.0, None, None, 0, None,
                                             stamp))
                        continue
                    share = float(np.clip(_level(latent, c.skills) + rng.normal(0, MANUAL_NOISE_SD), 0, 1))
                    if awaiting:
                        pending += 1
                        rows.append(ScoreRow(rep["id"], *key, None, None, None, 1, None, stamp))
                        continue
                    given = round(share * c.max_score * 2) / 2
                    rows.append(ScoreRow(rep["id"], *key, None, given, None, 0,
                                         trainer_comment(given, c.max_score), stamp))
    return rows, submissions, pending


def build_demo_store(path: str | Path, *, seed: int = 7, n_reps: int = 30, today: date = DEMO_TODAY,
                     course_dir: Path | None = None, planted: PlantedEffect | None = None) -> DemoStore:
    """Write a new demo store at ``path``: roster, four quarters of KPIs, the course's skills and
    items, and SIMULATED item scores (no grading ran; see the module's docstring). With ``planted``
    (such as :data:`~spm_training.demo.data.PLANTED`, which ``spm demo`` plants), a programme's
    completions and its effect on a KPI; without, the store the dashboard notebook's outputs show.

    The same ``seed``, ``n_reps``, ``today`` and course give the same store, row for row. ``path``
    must not exist yet: a demo must never be mixed into a real store."""
    path = Path(path)
    if path.exists():
        raise StoreError(f"{path}: a file is already here; the demo store is only written to a new path")
    course_dir = course_dir or default_course_dir()
    # The package's KPI catalog, as spm demo uses: the demo's targets do not depend on a project's kpis.yml.
    kpis = load_kpis(None)
    skills = load_skills(course_dir, kpis)
    # Read before the store is created, so that a broken plan.yml leaves no half-written store behind.
    plan = load_plan(course_dir)
    data = generate(skills, kpis, seed=seed, n_reps=n_reps, today=today, planted=planted)
    with tempfile.TemporaryDirectory(prefix="spm-demo-store-") as tmp:
        # The files spm demo imports, read and validated as spm roster import and spm kpis import read them.
        roster_file, kpi_file = Path(tmp) / "roster.csv", Path(tmp) / "kpis.csv"
        write_text_atomic(roster_file, data.roster_csv())
        write_text_atomic(kpi_file, data.kpis_csv())
        reps = parse_roster(roster_file)
        values = parse_kpi_file(kpi_file, kpis, {r["id"]: r["role"] for r in reps})
    # read_items lists the cells in course order (assignment, notebook, place in the notebook): the
    # order in which spm sync numbers new items when the assignments have no due dates.
    items = read_items(course_dir)
    scores, submissions, pending = simulate_scores(data, course_dir, today, seed, plan, items=items)
    store = open_store(path)
    try:
        write_store(store, reps=reps, kpi_values=values, kpi_source=kpi_file.name, skills=skills, kpis=kpis,
                    items=items, scores=scores)
        if data.trainings:      # the planted programme's completions, as spm trainings import writes them
            write_trainings(store, [{**t, "hours": float(t["hours"])} for t in data.trainings],
                            source="trainings.csv")
        counts = table_counts(store, ("reps", "teams", "kpi_values", "items"))
        checkpoint(store)
    finally:
        store.close()
    return DemoStore(path=path, data=data, skills=skills, kpis=kpis, today=today, reps=counts["reps"],
                     teams=counts["teams"], kpi_values=counts["kpi_values"], items=counts["items"],
                     submissions=submissions, scores=len(scores), pending=pending)


__all__ = ["COMMENTS", "DEMO_TODAY", "PENDING_DAYS", "DemoStore", "build_demo_store", "default_course_dir",
           "simulate_scores", "write_store"]
