"""A demo store without grading: the demo organisation and the real course, with SIMULATED scores.

:func:`build_demo_store` writes a complete store (``spm.db``) in well under a second, for the manager
dashboard notebook, the book and the tests, where running nbgrader over hundreds of submissions
(``spm demo``) would take minutes.

What is real and what is not:

- the roster and the KPI values are the demo generator's (:mod:`spm_training.demo.data`), imported
  through the same API as ``spm demo`` (:func:`~spm_training.ingest.roster.import_roster`,
  :func:`~spm_training.ingest.kpis.import_kpis`), so KPIs follow each rep's latent skills as documented there;
- the skills catalog and the items are the course's own (``assessments/skills.yml`` and the graded
  cells of ``assessments/source``, read as ``spm sync`` reads them);
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

Everything is written through the package's public API or plain SQL on the store's schema, in one
transaction per step, and the same seed, size and ``today`` give the same store.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from ..catalog import Kpi, Skill, load_kpis, load_skills
from ..course import read_items
from .course import COMMENTS, MISSED_SHARE
from .data import DemoData, generate
from ..errors import StoreError
from ..fileio import write_text_atomic
from ..ingest.kpis import import_kpis
from ..plan import Plan, due_for, load_plan
from ..ingest.roster import import_roster
from ..store import Store, open_store, sync_kpi_definitions

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


def _write_catalogs(store: Store, skills: dict[str, Skill], kpis: dict[str, Kpi], course_dir: Path) -> None:
    """Skills (with their KPI links and pages), the course's items and their skills, as ``spm sync`` would."""
    with store.transaction() as conn:
        sync_kpi_definitions(conn, kpis)
        conn.executemany("INSERT INTO skills (id, name, threshold, method) VALUES (?, ?, ?, ?)",
                         [(s.id, s.name, s.threshold, s.method) for s in skills.values()])
        conn.executemany("INSERT INTO skill_kpis (skill_id, kpi_id, direction) VALUES (?, ?, ?)",
                         sorted({(s.id, k, d) for s in skills.values() for k, d in s.kpis if k in kpis}))
        conn.executemany("INSERT INTO skill_pages (skill_id, page) VALUES (?, ?)",
                         sorted({(s.id, p) for s in skills.values() for p in s.pages}))
        # read_items lists the cells in course order (assignment, notebook, place in the notebook): the
        # order in which spm sync numbers new items when the assignments have no due dates.
        for item in read_items(course_dir):
            item_id = conn.execute("INSERT INTO items (assignment, notebook, cell, max_score, kind) "
                                   "VALUES (?, ?, ?, ?, ?)",
                                   (item.assignment, item.notebook, item.cell, item.max_score, item.kind)).lastrowid
            conn.executemany("INSERT INTO item_skills (item_id, skill_id) VALUES (?, ?)",
                             [(item_id, s) for s in dict.fromkeys(item.skills) if s in skills])


def _level(latent: dict[str, float], skills: tuple[str, ...] | list[str]) -> float:
    known = [latent[s] for s in skills if s in latent]
    # A cell without a known skill measures nothing in particular: an average rep's chance.
    return float(np.mean(known)) if known else 0.6


def simulate_scores(store: Store, data: DemoData, course_dir: Path, today: date, seed: int,
                    plan: Plan | None = None) -> tuple[int, int, int]:
    """SIMULATED item scores for every rep's due assignments (the course's plan for the rep's role),
    written into the store's ``scores``.

    Returns (submissions, scores, scores awaiting a manual grade). See the module's docstring for
    how each score is drawn; the items must already be in the store (:func:`_write_catalogs`). ``plan``
    defaults to the course's ``plan.yml``."""
    rng = np.random.default_rng(seed + SCORE_SEED_OFFSET)
    ids = {(a, n, c): i for i, a, n, c in store.conn.execute("SELECT id, assignment, notebook, cell FROM items")}
    notebooks: dict[str, list[tuple[str, list[_Cell]]]] = {}
    for path in sorted((course_dir / "source").glob("*/*.ipynb")):
        notebooks.setdefault(path.parent.name, []).append((path.stem, _graded_cells(path)))
    plan = plan or load_plan(course_dir)
    rows: list[tuple] = []
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
                    item_id = ids.get((assignment, notebook, c.cell))
                    if item_id is None:
                        continue
                    if c.kind == "autograded":
                        correct = right[c.answer] if c.answer is not None else bool(
                            rng.random() < _level(latent, c.skills))
                        rows.append((rep["id"], item_id, c.max_score if correct else 0.0, None, None, 0, None, stamp))
                        continue
                    share = float(np.clip(_level(latent, c.skills) + rng.normal(0, MANUAL_NOISE_SD), 0, 1))
                    if awaiting:
                        pending += 1
                        rows.append((rep["id"], item_id, None, None, None, 1, None, stamp))
                        continue
                    tier = "high" if share >= 0.8 else "mid" if share >= 0.55 else "low"
                    rows.append((rep["id"], item_id, None, round(share * c.max_score * 2) / 2, None, 0,
                                 COMMENTS[tier], stamp))
    with store.transaction() as conn:
        conn.executemany("INSERT INTO scores (rep_id, item_id, auto_score, manual_score, extra_credit, "
                         "needs_manual_grade, comment, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return submissions, len(rows), pending


def build_demo_store(path: str | Path, *, seed: int = 7, n_reps: int = 30, today: date = DEMO_TODAY,
                     course_dir: Path | None = None) -> DemoStore:
    """Write a new demo store at ``path``: roster, four quarters of KPIs, the course's skills and
    items, and SIMULATED item scores (no grading ran; see the module's docstring).

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
    data = generate(skills, kpis, seed=seed, n_reps=n_reps, today=today)
    store = open_store(path)
    try:
        with tempfile.TemporaryDirectory(prefix="spm-demo-store-") as tmp:
            roster_file, kpi_file = Path(tmp) / "roster.csv", Path(tmp) / "kpis.csv"
            write_text_atomic(roster_file, data.roster_csv())
            write_text_atomic(kpi_file, data.kpis_csv())
            import_roster(store, roster_file)
            import_kpis(store, kpi_file, kpis)
        _write_catalogs(store, skills, kpis, course_dir)
        submissions, scores, pending = simulate_scores(store, data, course_dir, today, seed, plan)
        counts = store.conn.execute(
            "SELECT (SELECT count(*) FROM reps), (SELECT count(*) FROM teams), (SELECT count(*) FROM kpi_values), "
            "(SELECT count(*) FROM items)").fetchone()
        # Fold the write-ahead log into the file, so that the store is one self-contained file.
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return DemoStore(path=path, data=data, skills=skills, kpis=kpis, today=today, reps=counts[0], teams=counts[1],
                     kpi_values=counts[2], items=counts[3], submissions=submissions, scores=scores, pending=pending)


__all__ = ["DEMO_TODAY", "PENDING_DAYS", "DemoStore", "build_demo_store", "default_course_dir", "simulate_scores"]
