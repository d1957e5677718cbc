"""The analysis layer's reads of the store: every SQL statement of ``analysis/`` is written here.

Each function takes a :class:`~spm_training.store.Store` and returns rows (dicts or tuples) or a
frame of them; what is computed from them (mastery, attainment's rank and trend, gaps, ...) is in
the modules beside this one. The definitions that SQL has to repeat (nbgrader's score of a cell,
attainment) sit next to the Python they mirror, named in each docstring.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..catalog import Kpi
from ..errors import NotFoundError
from ..periods import DateWindow, sort_key
from ..store import CELL_SCORE_SQL, Store

# numpy and pandas are imported by the functions that build frames, so that the commands that only
# export rows (spm export reps, kpis, scores) start without them.
if TYPE_CHECKING:
    import pandas as pd

# --- helpers -----------------------------------------------------------------------------------------


def tuples(store: Store, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows as plain tuples (the store's connection hands out sqlite3.Row objects, which numpy
    cannot take as records)."""
    cursor = store.conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params).fetchall()


def records_frame(rows: list[tuple], columns: dict[str, type]) -> pd.DataFrame:
    """A frame from database rows, through a numpy structured array: three times quicker than
    ``DataFrame.from_records`` on a million rows, and text stays plain object columns (pandas'
    inference of its string type is a second pass over every value)."""
    import numpy as np
    import pandas as pd

    array = np.array(rows, dtype=[(name, kind) for name, kind in columns.items()]) if rows else \
        np.empty(0, dtype=[(name, kind) for name, kind in columns.items()])
    return pd.DataFrame({name: pd.Series(array[name], dtype=object if kind is object else None, copy=False)
                         for name, kind in columns.items()})


# --- reps, items and what spm grade found ----------------------------------------------------------

REP_COLUMNS = ["rep_id", "name", "email", "team", "manager", "role", "hire_date"]
ITEM_COLUMNS = ["id", "assignment", "notebook", "cell", "kind", "max_score"]


def load_reps(store: Store, *, team: str | None = None, rep: str | None = None) -> pd.DataFrame:
    """The scope's reps; NotFoundError names what exists when the team or rep does not."""
    import pandas as pd

    sql = ("SELECT r.id, r.name, r.email, r.team_id, t.manager, r.role, r.hire_date FROM reps r "
           "JOIN teams t ON t.id = r.team_id")
    if rep is not None:
        rows = store.conn.execute(sql + " WHERE r.id = ?", (rep,)).fetchall()
        if not rows:
            raise NotFoundError(f"no rep '{rep}' in the store; spm export reps lists them")
    elif team is not None:
        rows = store.conn.execute(sql + " WHERE r.team_id = ? ORDER BY r.id", (team,)).fetchall()
        if not rows:
            known = [r[0] for r in store.conn.execute("SELECT id FROM teams ORDER BY id")]
            raise NotFoundError(f"no team '{team}' in the store; teams: {', '.join(known) or 'none yet'}")
    else:
        rows = store.conn.execute(sql + " ORDER BY r.team_id, r.id").fetchall()
    return pd.DataFrame.from_records(rows, columns=REP_COLUMNS)


def rep_rows(store: Store) -> list[dict]:
    """Every rep with their team's manager: the shape of ``spm export reps``. ``login`` is the rep's hub
    username (the roster's, else the rep id), ``manager_login`` the team manager's (None: none given),
    ``left_on`` the day the rep left (None: still here)."""
    return store.query(
        "SELECT r.id AS rep_id, r.name, r.email, r.team_id AS team, t.manager, r.role, r.hire_date, r.crm_owner, "
        "COALESCE(r.login, r.id) AS login, t.manager_login, r.left_on "
        "FROM reps r JOIN teams t ON t.id = r.team_id ORDER BY r.team_id, r.id")


def load_items(store: Store) -> pd.DataFrame:
    """Every item of the course (:data:`ITEM_COLUMNS`), in the store's (course) order."""
    import pandas as pd

    return pd.DataFrame.from_records(
        store.conn.execute("SELECT id, assignment, notebook, cell, kind, max_score FROM items ORDER BY id").fetchall(),
        columns=ITEM_COLUMNS)


def item_skills(store: Store) -> pd.DataFrame:
    """item_id, skill_id for every tagged item."""
    import pandas as pd

    return pd.DataFrame.from_records(store.conn.execute("SELECT item_id, skill_id FROM item_skills").fetchall(),
                                     columns=["item_id", "skill_id"])


def tampering_rows(store: Store, rep_ids: Sequence[str]) -> list[dict]:
    """The locked or test cells that the reps' submissions changed, as ``spm grade`` recorded them."""
    return store.query(
        "SELECT t.rep_id, t.assignment, t.notebook, t.cell, t.kind, t.detail, t.detected_at FROM tampering t "
        "WHERE t.rep_id IN (SELECT value FROM json_each(?)) ORDER BY t.assignment, t.rep_id, t.notebook, t.cell",
        (json.dumps(list(rep_ids)),))


# --- scores ------------------------------------------------------------------------------------------

# nbgrader's own definition of a cell's score (Grade.score in nbgrader.api): the store's one copy.
SCORE_SQL = CELL_SCORE_SQL

SCORE_COLUMNS = ["rep_id", "item_id", "assignment", "notebook", "cell", "kind", "max_score", "score", "x", "pending",
                 "comment", "submitted_at"]


def load_scores(store: Store, rep_ids: Sequence[str] | None = None, *, detail: bool = True) -> pd.DataFrame:
    """Every synced score of the given reps (all reps when None), one row per rep and item.

    Columns: :data:`SCORE_COLUMNS`; ``x`` is the normalised score, NaN while pending. Without
    ``detail`` (enough for mastery, gaps and progress) the notebook, cell, kind and comment columns
    are left empty, which saves a query and a pass over a large store. Rows come in
    the store's order (rep, item). Only five columns are read per score; what belongs to the item
    is added from the items table, and comments, which few scores have, are read on their own,
    because turning SQLite values into Python objects is what dominates on a large store.
    """
    import numpy as np
    import pandas as pd

    where = ""
    params: tuple[str, ...] = ()
    if rep_ids is not None:
        where, params = "WHERE s.rep_id IN (SELECT value FROM json_each(?))", (json.dumps(list(rep_ids)),)
    rows = tuples(store, f"SELECT s.rep_id, s.item_id, {SCORE_SQL}, s.needs_manual_grade, s.submitted_at "
                         f"FROM scores s {where}", params)
    frame = records_frame(rows, {"rep_id": object, "item_id": np.int64, "score": np.float64, "pending": np.int8,
                                 "submitted_at": object})
    items = load_items(store).set_index("id")
    at = items.index.get_indexer(frame["item_id"].to_numpy())
    for column in ("assignment", "notebook", "cell", "kind", "max_score"):
        if detail or column in ("assignment", "max_score"):
            frame[column] = items[column].to_numpy()[at] if len(frame) else items[column].iloc[:0].to_numpy()
        else:
            frame[column] = None
    frame["pending"] = frame["pending"].astype(bool)
    frame["score"] = frame["score"].astype(float)
    frame["max_score"] = frame["max_score"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.clip(frame["score"].to_numpy() / frame["max_score"].to_numpy(), 0.0, 1.0)
    # Items worth no points cannot be normalised; they measure nothing.
    x[(frame["max_score"] <= 0).to_numpy() | frame["pending"].to_numpy()] = np.nan
    frame["x"] = x
    frame["submitted_at"] = frame["submitted_at"].fillna("")
    # object dtype keeps None as None; pandas' string type would turn it into NaN, which is truthy
    frame["comment"] = pd.Series(np.full(len(frame), None, dtype=object), dtype=object)
    comments = store.conn.execute(f"SELECT s.rep_id, s.item_id, s.comment FROM scores s {where} "
                                  f"{'AND' if where else 'WHERE'} s.comment IS NOT NULL AND s.comment != ''",
                                  params).fetchall() if detail else []
    if comments:
        _add_comments(frame, comments)
    return frame[SCORE_COLUMNS]


def _add_comments(frame: pd.DataFrame, comments: list) -> None:
    """Puts each (rep, item, comment) into its score's row of ``frame``.

    Rows are found by one integer key (rep code × item span + item id): hashing a million integers
    is quick, a million (rep, item) tuples is not."""
    import numpy as np
    import pandas as pd

    rep_code, reps = pd.factorize(frame["rep_id"])
    span = int(frame["item_id"].max()) + 1
    rows_key = pd.Index(rep_code.astype(np.int64) * span + frame["item_id"].to_numpy(np.int64))
    wanted = reps.get_indexer([r for r, _, _ in comments]).astype(np.int64) * span + \
        np.array([i for _, i, _ in comments], dtype=np.int64)
    column = np.full(len(frame), None, dtype=object)
    column[rows_key.get_indexer(wanted)] = [c for _, _, c in comments]
    frame["comment"] = pd.Series(column, dtype=object)


def score_rows(store: Store) -> list[dict]:
    """One row per rep and item: the item, its score as nbgrader counts it, and its skills (the shape
    of ``spm export scores``)."""
    rows = store.query(
        f"SELECT s.rep_id, i.assignment, i.notebook, i.cell, i.max_score, {SCORE_SQL} AS score, "
        "s.needs_manual_grade, (SELECT group_concat(skill_id, ' ') FROM (SELECT skill_id FROM item_skills t "
        "WHERE t.item_id = i.id ORDER BY skill_id)) AS skills, s.auto_score, s.manual_score, s.extra_credit, "
        "s.submitted_at, s.comment FROM scores s JOIN items i ON i.id = s.item_id ORDER BY s.rep_id, i.id")
    for row in rows:
        row["needs_manual_grade"] = bool(row["needs_manual_grade"])
        row["skills"] = row["skills"] or ""
    return rows


# --- KPI values --------------------------------------------------------------------------------------

def attainment_sql(value: str = "v.value", target: str = "v.target", direction: str = "d.direction") -> str:
    """The same definition as :func:`spm_training.analysis.attainment.attainment`, as an SQL expression."""
    return (f"CASE WHEN {target} IS NULL THEN NULL "
            f"WHEN {direction} = 'higher' THEN CASE WHEN {target} = 0 THEN NULL ELSE {value} / {target} END "
            f"ELSE CASE WHEN {value} = 0 THEN NULL ELSE {target} / {value} END END")


#: KPI values joined to the direction of their KPI: the catalog's (the JSON object of the first
#: parameter, id -> direction), else, for a KPI the catalog no longer has, the one the store recorded.
KPI_DIRECTIONS = ("SELECT k.id, COALESCE(c.value, k.direction) AS direction FROM kpis k "
                  "LEFT JOIN json_each(?) c ON c.key = k.id")
# The directions are a materialised table (one row per KPI) that each value looks up, and the values
# stay the outer loop (CROSS JOIN): as a plain subquery SQLite flattens it and scans the JSON once per
# KPI value (on 183,000 values 0.64 s instead of 0.39 s), and another join order changes the row order.
WITH_DIRECTIONS = f"WITH d AS MATERIALIZED ({KPI_DIRECTIONS}) "
KPI_VALUES = "FROM kpi_values v CROSS JOIN d ON d.id = v.kpi_id"

HISTORY_COLUMNS = ["rep_id", "team", "kpi", "period", "value", "target", "direction", "attainment"]


def directions(kpis: dict[str, Kpi]) -> str:
    """The catalog's directions as the JSON parameter :data:`WITH_DIRECTIONS` takes."""
    return json.dumps({k.id: k.direction for k in kpis.values()})


def plausible_periods(periods: Sequence[object], window: DateWindow | None = None) -> set[str]:
    """The periods among ``periods`` that the analysis reads: well-formed and inside ``window`` (default:
    :meth:`DateWindow.default`). A store written before the window existed can hold 9999-Q4 (a CRM's
    placeholder close date) or 0000-01; such values are left out rather than crash a report."""
    window = window or DateWindow.default()
    return {p for p in set(periods) if isinstance(p, str) and window.holds_period(p)}


def load_history(store: Store, kpis: dict[str, Kpi], teams: Sequence[str] | None = None, *,
                 window: DateWindow | None = None) -> pd.DataFrame:
    """Every KPI value of the reps in ``teams`` (all teams when None), with its attainment; values of a
    period outside ``window`` are left out (:func:`plausible_periods`)."""
    import numpy as np

    where = ""
    params: tuple[str, ...] = (directions(kpis),)
    if teams is not None:
        where = "WHERE v.rep_id IN (SELECT id FROM reps WHERE team_id IN (SELECT value FROM json_each(?)))"
        params += (json.dumps(list(teams)),)
    # Per value only what varies; the rep's team and the KPI's direction come from their own small
    # tables, since every column read per row costs a Python object per row.
    rows = tuples(store, f"{WITH_DIRECTIONS}SELECT v.rep_id, v.kpi_id, v.period, v.value, v.target, {attainment_sql()} "
                         f"{KPI_VALUES} {where}", params)
    frame = records_frame(rows, {"rep_id": object, "kpi": object, "period": object, "value": np.float64,
                                 "target": np.float64, "attainment": np.float64})
    distinct = frame["period"].unique()
    if len(kept := plausible_periods(distinct.tolist(), window)) < len(distinct):
        frame = frame[frame["period"].isin(kept)].reset_index(drop=True)
    team_of = dict(store.conn.execute("SELECT id, team_id FROM reps").fetchall())
    direction_of = dict(store.conn.execute(KPI_DIRECTIONS, (directions(kpis),)).fetchall())
    frame["team"] = frame["rep_id"].map(team_of)
    frame["direction"] = frame["kpi"].map(direction_of)
    for column in ("value", "target", "attainment"):
        frame[column] = frame[column].astype(float)
    return frame[HISTORY_COLUMNS]


def current_periods(store: Store, window: DateWindow | None = None) -> dict[str, str]:
    """KPI id -> the latest period with any value for it, across the whole store (periods outside
    ``window`` left out: :func:`plausible_periods`)."""
    pairs = store.conn.execute("SELECT DISTINCT kpi_id, period FROM kpi_values").fetchall()
    kept = plausible_periods([period for _, period in pairs], window)
    latest: dict[str, str] = {}
    for kpi_id, period in pairs:
        if period in kept and (kpi_id not in latest or sort_key(period) > sort_key(latest[kpi_id])):
            latest[kpi_id] = period
    return latest


def kpi_periods(store: Store, window: DateWindow | None = None) -> list[str]:
    """Every period that has any KPI value (outside ``window`` left out), in no particular order."""
    return sorted(plausible_periods([r["period"] for r in store.query("SELECT DISTINCT period FROM kpi_values")],
                                    window))


def kpi_rows(store: Store, kpis: dict[str, Kpi]) -> list[dict]:
    """Every KPI value with its target and attainment: the shape of ``spm export kpis``."""
    return store.query(
        f"{WITH_DIRECTIONS}SELECT v.rep_id, v.period, v.kpi_id AS kpi, v.value, v.target, "
        f"{attainment_sql()} AS attainment "
        f"{KPI_VALUES} ORDER BY v.rep_id, v.period, v.kpi_id", (directions(kpis),))


def team_attainments(store: Store, kpis: dict[str, Kpi], period: str) -> list[dict]:
    """team, rep_id, kpi and attainment of every KPI value of ``period``."""
    return store.query(
        f"{WITH_DIRECTIONS}SELECT r.team_id AS team, v.rep_id, v.kpi_id AS kpi, {attainment_sql()} AS attainment "
        f"{KPI_VALUES} JOIN reps r ON r.id = v.rep_id WHERE v.period = ?",
        (directions(kpis), period))


_REPORT_KEYS = {"team": "SELECT DISTINCT team_id FROM reps ORDER BY 1", "rep": "SELECT id FROM reps ORDER BY 1",
                "items": "SELECT DISTINCT assignment FROM items ORDER BY 1"}


def report_keys(store: Store, kind: str) -> list[str]:
    """Every key a report of ``kind`` (team, rep, items) can be written for: the teams that have reps,
    the rep ids, the assignments. Reports' file names are unique among them."""
    return [r[0] for r in tuples(store, _REPORT_KEYS[kind])]


# --- the served platform: logins, and what reps do in the served book --------------------------------

def logins(store: Store) -> list[dict]:
    """One row per rep: ``rep_id``, ``login`` (their hub username: the roster's, else the rep id),
    ``name``, ``team``, the team's ``manager_login`` (None: the manager has no login) and ``left_on``
    (None: still here); ordered by team, then name."""
    return store.query(
        "SELECT r.id AS rep_id, COALESCE(r.login, r.id) AS login, r.name, r.team_id AS team, t.manager_login, "
        "r.left_on FROM reps r JOIN teams t ON t.id = r.team_id ORDER BY r.team_id, r.name, r.id")


def progress_reps(store: Store, *, team: str | None = None, rep: str | None = None) -> list[dict]:
    """id, name, role, hire_date and left_on of one rep or of a team's reps (by name); NotFoundError
    naming what exists when the rep or team does not."""
    sql = "SELECT id AS rep_id, name, role, hire_date, left_on FROM reps"
    if rep is not None:
        rows = store.query(sql + " WHERE id = ?", (rep,))
        if not rows:
            raise NotFoundError(f"no rep '{rep}' in the store; spm export reps lists them")
        return rows
    rows = store.query(sql + " WHERE team_id = ? ORDER BY name, id", (team,))
    if not rows:
        known = [r[0] for r in store.conn.execute("SELECT id FROM teams ORDER BY id")]
        raise NotFoundError(f"no team '{team}' in the store; teams: {', '.join(known) or 'none yet'}")
    return rows


def assignment_skills(store: Store) -> list[tuple[str, str]]:
    """(assignment, skill) for every skill an item of an assignment measures, as the last sync wrote them."""
    return tuples(store, "SELECT DISTINCT i.assignment, s.skill_id FROM items i "
                         "JOIN item_skills s ON s.item_id = i.id ORDER BY 1, 2")


def _rep_filter(rep_ids: Sequence[str]) -> tuple[str, tuple]:
    # the reps as a JSON array: one parameter however many there are
    return "rep_id IN (SELECT value FROM json_each(?))", (json.dumps(list(rep_ids)),)


def pages_read(store: Store, rep_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(rep_id, page) for every book page each of the reps has opened in the served book."""
    where, params = _rep_filter(rep_ids)
    return tuples(store, f"SELECT rep_id, page FROM page_reads WHERE {where} ORDER BY 1, 2", params)


def self_check_counts(store: Store, rep_ids: Sequence[str]) -> list[tuple[str, str, int, int]]:
    """(rep_id, page, questions answered, of them right on the first try) for each page on which
    each of the reps answered a knowledge check."""
    where, params = _rep_filter(rep_ids)
    return tuples(store, f"SELECT rep_id, page, count(*), sum(first_correct) FROM self_checks WHERE {where} "
                         "GROUP BY rep_id, page ORDER BY 1, 2", params)


# --- capacity and hiring (spm capacity, spm hiring-plan) -----------------------------------------------

def roster_dates(store: Store) -> list[dict]:
    """rep_id, team, role, hire_date and left_on (None: still here) of every rep, ordered by id. A store
    from before the roster had ``left_on`` reads None for everyone."""
    has_left = any(r[1] == "left_on" for r in tuples(store, "PRAGMA table_info(reps)"))
    left = "left_on" if has_left else "NULL AS left_on"
    return store.query(f"SELECT id AS rep_id, team_id AS team, role, hire_date, {left} FROM reps ORDER BY id")


# --- trainings: imported programmes and the course's assignments ------------------------------------

def training_rows(store: Store, program: str | None = None, *, course: bool = True) -> list[dict]:
    """Every completed training: the imported ones (``spm trainings import``) and the course's
    assignments. rep_id, program, completed_on (ISO date), hours (None when not given), source, kind
    (``external`` or ``course``); ordered by programme, date and rep.

    An assignment counts as completed by a rep once none of its items awaits a manual grade, on the
    date of the rep's submission: the store keeps nbgrader's submission timestamp (``submitted_at``)
    and no time of grading, and a graded submission's scores are those of that submission. Without
    ``course`` only the imported ones (the course's take a pass over every score)."""
    external, assignment = "", ""
    params: tuple[str, ...] = ()
    if program is not None:
        external, assignment, params = "WHERE program = ?", "WHERE i.assignment = ?", (program, program)
    course_rows = (
        "UNION ALL "
        "SELECT s.rep_id, i.assignment, substr(max(s.submitted_at), 1, 10), NULL, 'course', 'course' "
        f"FROM scores s JOIN items i ON i.id = s.item_id {assignment} GROUP BY s.rep_id, i.assignment "
        "HAVING max(s.needs_manual_grade) = 0 AND max(s.submitted_at) IS NOT NULL") if course else ""
    if not course and program is not None:
        params = params[:1]
    return store.query(
        "SELECT rep_id, program, completed_on, hours, source, kind FROM ("
        f"SELECT rep_id, program, completed_on, hours, source, 'external' AS kind FROM trainings {external} "
        f"{course_rows}) ORDER BY program, completed_on, rep_id", params)


def kpi_series(store: Store, kpi: str) -> list[tuple[str, str, str, float]]:
    """(rep_id, team, period, value) of every value of one KPI."""
    return tuples(store, "SELECT v.rep_id, r.team_id, v.period, v.value FROM kpi_values v "
                         "JOIN reps r ON r.id = v.rep_id WHERE v.kpi_id = ?", (kpi,))


def kpis_with_values(store: Store) -> list[str]:
    """The KPI ids that have at least one value in the store."""
    return [r[0] for r in tuples(store, "SELECT DISTINCT kpi_id FROM kpi_values ORDER BY 1")]
