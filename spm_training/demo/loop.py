"""``spm demo``: the whole loop on generated data, through the same code paths as a user's files.

1. a workspace with a copy of the course, a generated roster and four quarters of KPIs;
2. nbgrader generates and releases the assignments; each rep's submission is written from answer
   variants chosen by their latent skill;
3. ``spm grade`` autogrades them (sandboxed, in parallel); a simulated trainer grades by hand;
4. ``spm sync``, then every report and the CSV/JSON exports;
5. the book, built into the workspace;
6. a summary: where everything is, the largest linked gaps, and whether the analysis recovered the
   relations the generator planted.

A rerun reuses the workspace: what is up to date (releases, autograded submissions, the book's
executed notebooks) is not done again.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from .. import formatting
from ..analysis.attainment import attainment_summary
from ..analysis.export import COLUMNS, EXPORTS, export_rows
from ..catalog import Kpi
from ..errors import SpmError
from ..fileio import write_text_atomic
from ..ingest.kpis import import_kpis
from ..ingest.roster import import_roster
from ..ingest.trainings import import_trainings
from ..nbgrader_io import ensure_env_bin_on_path
from ..output import TABLE_WIDTH, render, to_table
from ..plan import load_plan
from ..progressbar import on_terminal
from ..project import Project
from ..store import Store
from .course import copy_course, generate_assignments, release_assignments, simulate_trainer, write_submissions
from .data import PLANTED, DemoData, generate

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
Echo = Callable[[str], None]


def project_template() -> Path:
    """The checkout the package was installed from: the course and the book live beside it."""
    root = PACKAGE_ROOT.parent
    if not (root / "assessments" / "skills.yml").is_file() or not (root / "_toc.yml").is_file():
        raise SpmError(f"{root}: the course and the book are not here; spm demo runs from an installed "
                       "checkout of spm-training (pip install -e .)")
    return root


def run_demo(directory: Path, *, seed: int = 7, n_reps: int = 30, build_book: bool = True,
             echo: Echo = print, workers: int | None = None, today: date | None = None) -> dict:
    """Run the whole loop in ``directory``; returns what the summary reports."""
    if n_reps < 3:
        raise SpmError(f"--reps {n_reps}: the demo needs at least 3 reps (one per team)")
    started = time.monotonic()
    root = project_template()
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    course = directory / "course"
    today = today or date.today()

    _step(echo, 1, "workspace, roster and KPIs")
    copy_course(root / "assessments", course)
    # The checkout's book (page titles, the built book's links) with the workspace's course and store.
    project = Project.at(root, course_dir=course, db_path=directory / "spm.db")
    kpis, skills = project.kpis, project.skills
    plan = load_plan(project.course_dir, project.plan_path)     # the demo needs one: a missing plan is an error
    data = generate(skills, kpis, seed=seed, n_reps=n_reps, today=today, planted=PLANTED)
    url = project.gradebook_url()
    store = project.open_store()
    try:
        _import_people(store, directory, data, kpis, url, echo)

        _step(echo, 2, "assignments and submissions")
        names = generate_assignments(course, echo)
        release_assignments(course, directory / "exchange", names)
        submissions = write_submissions(course, data.roster, data.latent, plan, today, seed)
        echo(f"  released {len(names)} assignments; {len(submissions)} submissions from {len(data.roster)} reps "
             "(answers chosen by each rep's latent skill)")

        _step(echo, 3, "grading")
        _grade_all(course, names, store, workers, echo)
        manual = simulate_trainer(url, course, data.latent, submissions, seed)
        echo(f"  the trainer graded {manual} answers by hand (rubric, comments)")

        _step(echo, 4, "sync, reports and exports")
        from ..ingest.sync import summary_lines, sync_gradebook

        for line in summary_lines(sync_gradebook(store, url, course, skills, kpis)):
            echo(f"  {line}")
        reports = _reports(store, directory, project)
        exports = _exports(store, directory, project)
        echo(f"  {len(reports) - 1} reports in {directory / 'reports'}; exports in {directory / 'exports'}")

        book = None
        if build_book:
            _step(echo, 5, "the book")
            book = _build_book(root, directory, echo)

        summary = _summary(store, data, project, directory, reports, book, echo)
    finally:
        store.close()
    echo(f"Done in {time.monotonic() - started:.0f} s.")
    return {"data": data, "reports": reports, "exports": exports, "book": book, **summary}


def _step(echo: Echo, n: int, what: str) -> None:
    echo(f"[{n}/6] {what}")


def _import_people(store: Store, directory: Path, data: DemoData, kpis: dict[str, Kpi], url: str, echo: Echo) -> None:
    roster_file, kpi_file = directory / "roster.csv", directory / "kpis.csv"
    write_text_atomic(roster_file, data.roster_csv())
    write_text_atomic(kpi_file, data.kpis_csv())
    roster = import_roster(store, roster_file, url)
    result = import_kpis(store, kpi_file, kpis)
    echo(f"  {len(data.roster)} reps in {len({r['team'] for r in data.roster})} teams ({roster.reps_added} new); "
         f"{len(data.kpi_rows)} KPI values for {', '.join(data.periods)} ({result.inserted} new, "
         f"{result.updated} updated)")
    if data.trainings:
        trainings_file = directory / "trainings.csv"
        write_text_atomic(trainings_file, data.trainings_csv())
        done = import_trainings(store, trainings_file)
        echo(f"  {done.rows} reps completed {', '.join(done.programs)} (staggered over the quarters; spm trainings "
             "import)")


def _grade_all(course: Path, names: list[str], store: Store, workers: int | None, echo: Echo) -> None:
    from ..grading.autograde import grade
    from ..grading.sandbox import SandboxUnavailable, find_sandbox

    try:
        sandbox = find_sandbox()
        how = "sandboxed"
    except SandboxUnavailable as exc:
        # The demo grades submissions it wrote itself, so it may go on without a sandbox; spm grade
        # on real submissions refuses to unless --no-sandbox is given.
        sandbox, how = None, f"NOT sandboxed ({exc})"
    graded = failed = 0
    started = time.monotonic()
    for name in names:
        report = grade(course, name, sandbox=sandbox, workers=workers, store=store)
        graded += len(report.results)
        failed += len(report.failed)
        if on_terminal():
            echo(f"  {name}: {len(report.results)} graded")
    echo(f"  spm grade: {graded} submissions autograded {how}, {failed} failed, "
         f"in {time.monotonic() - started:.0f} s")


def _reports(store: Store, directory: Path, project: Project) -> list[Path]:
    from ..reports.build import write_reports

    return write_reports(store, directory / "reports", project, book_url="../book/_build/html/")


def _exports(store: Store, directory: Path, project: Project) -> list[Path]:
    written = []
    for what in EXPORTS:
        rows = export_rows(store, what, project)
        for fmt in ("csv", "json"):
            path = directory / "exports" / f"{what}.{fmt}"
            write_text_atomic(path, render(rows, fmt, COLUMNS[what]) + "\n")
            written.append(path)
    return written


def _build_book(root: Path, directory: Path, echo: Echo) -> Path:
    """Jupyter Book into the workspace; the manager dashboard reads the demo's store."""
    ensure_env_bin_on_path()
    out = directory / "book"
    env = {**os.environ, "SPM_DB": str(directory / "spm.db")}
    started = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "--path-output",
                           str(out)], cwd=root, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SpmError(f"{root}: the book did not build ({tail[0]}); run jupyter-book build . to see why")
    echo(f"  built in {time.monotonic() - started:.0f} s")
    return out / "_build" / "html" / "index.html"


def _summary(store: Store, data: DemoData, project: Project, directory: Path,
             reports: list[Path], book: Path | None, echo: Echo) -> dict:
    from ..analysis.evidence import spearman
    from ..analysis.facade import analyse
    from ..analysis.views import largest_linked_gaps

    analysis = analyse(store, project)
    skills, kpis = analysis.skills, analysis.kpis
    top = largest_linked_gaps(analysis, 3)
    mastery = analysis.mastery[analysis.mastery["graded"] > 0]
    latent = mastery.apply(lambda m: data.latent[m["rep_id"]][m["skill_id"]], axis=1)
    rho = spearman(latent.to_numpy(float), mastery["mastery"].to_numpy(float)) if len(mastery) > 2 else None
    rho = float("nan") if rho is None else rho
    echo("")
    echo("Summary")
    echo(f"  reports: {reports[0]}")
    if book is not None:
        echo(f"  book:    {book}")
    echo(f"  exports: {directory / 'exports'}")
    echo("  largest linked gaps (skill below threshold and a KPI it drives below target):")
    for g in top:
        # an n_times skill not yet reached n times has no mastery figure, only a gap
        mastery_text = ("not yet credited" if g["mastery"] is None
                        else formatting.mastery(g["mastery"], g["threshold"]))
        echo(f"    {g['name']}: {skills[g['skill']].name} mastery {mastery_text} < "
             f"{formatting.percent(g['threshold'])}, "
             f"{kpis[g['kpi']].name} at {formatting.attainment(g['attainment'])} of target ({g['period']})")
    if not top:
        echo("    none")
    echo(f"  check: measured mastery ranks rep-skill pairs like the latent skill the generator planted "
         f"(Spearman rho {rho:.2f} over {len(mastery)} pairs; 1 would be perfect, 0 no relation)")
    impact = _planted_impact(store, data, kpis, echo)
    echo("")
    echo(summary_table(attainment_summary(store, kpis), kpis))
    return {"linked_gaps": top, "latent_rho": rho, "impact": impact}


def _planted_impact(store: Store, data: DemoData, kpis: dict[str, Kpi], echo: Echo) -> dict | None:
    """What spm impact finds for the planted programme, beside what the generator planted."""
    from ..analysis.impact import training_impact
    from ..reports.impact_view import summary

    planted = data.meta.get("planted")
    if planted is None or not data.trainings or planted.kpi not in kpis:
        return None
    result = training_impact(store, kpis, planted.program, planted.kpi)
    view = summary(result, kpis[planted.kpi])
    found = (f"{view['effect']} per trained rep and quarter (95% interval {view['interval']}), {result.verdict}"
             if result.effect is not None else result.verdict)
    echo(f"  check: the generator planted an effect of {planted.program} on {kpis[planted.kpi].name} (its "
         f"attainment x{math.exp(planted.lift):.2f} from the quarter of completion); spm impact finds {found}, "
         f"{view['n_treated']} trained reps against {view['n_control']}")
    return result.to_dict()


def summary_table(rows: list[dict], kpis: dict[str, Kpi]) -> str:
    """The demo's KPI attainment per team (:func:`~spm_training.analysis.attainment.attainment_summary`)
    for people: shares and attainments as percentages, the weakest KPI by name."""
    if not rows:
        return "No KPI values yet."
    people = [{"team": r["team"], "reps": r["reps"], "on_target": formatting.percent(r["on_target"]),
               "median": formatting.attainment(r["median_attainment"]),
               "weakest": f"{kpis[r['weakest']].name if r['weakest'] in kpis else r['weakest']}: "
                          f"{formatting.attainment(r['weakest_attainment'])}"} for r in rows]
    title = textwrap.wrap(f"KPI attainment by team in {rows[0]['period']}: the share of KPI values on target, the "
                          "median attainment and the KPI with the lowest median.", TABLE_WIDTH)
    table = to_table(people, ("team", "reps", "on_target", "median", "weakest"), width=TABLE_WIDTH,
                     wrap=("weakest",), right=("on_target", "median"),
                     headers={"team": "Team", "reps": "Reps", "on_target": "On target", "median": "Median",
                              "weakest": "Weakest KPI"})
    return "\n".join([*title, table])


__all__ = ["project_template", "run_demo", "summary_table"]
