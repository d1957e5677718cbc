"""``spm trainings import|list`` (issue 18): a trainings CSV validated whole and written all or nothing,
and the course's assignments listed as trainings, dated by the submission, once fully graded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from spm_training.cli.main import cli
from spm_training.demo.store import write_store
from spm_training.ingest.sync import ItemRow, ScoreRow
from spm_training.store import checkpoint, open_store
from tests.analysis_data import catalogs
from tests.store_files import store_digests

TEAMS = ("North", "South", "West")
MONTHS = [f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(7, 19)]    # 2025-07 .. 2026-06
PROGRAM = "Challenger workshop"
EFFECT = 0.08           # the workshop's planted effect on win rate


def rep_ids(n: int = 30) -> list[str]:
    return [f"rep{i:02d}" for i in range(n)]


def trained_month(i: int) -> int | None:
    """Index into MONTHS of rep i's workshop; every fifth rep never goes."""
    return None if i % 5 == 4 else 3 + (i % 5) * 2


def build(folder: Path, *, n: int = 30, seed: int = 3) -> Path:
    """A store of n reps in three teams, monthly win rate (with the workshop's effect) and revenue, and one
    assignment: fully graded for reps 0-5 (submitted 2026-02-0x), awaiting a manual grade for rep 6."""
    skills, kpis = catalogs()
    rng = np.random.default_rng(seed)
    reps = [{"id": r, "name": f"Rep {r[3:]} Test", "email": f"{r}@example.com", "team_id": TEAMS[i % 3],
             "manager": f"Boss {TEAMS[i % 3]}", "role": "AE", "hire_date": "2025-01-06", "crm_owner": None}
            for i, r in enumerate(rep_ids(n))]
    values = []
    for i, rep in enumerate(rep_ids(n)):
        base = 0.2 + rng.normal(0, 0.03)
        g = trained_month(i)
        for t, month in enumerate(MONTHS):
            lift = EFFECT if g is not None and t >= g else 0.0
            values.append((rep, month, "win_rate", float(np.clip(base + 0.002 * t + lift + rng.normal(0, 0.02), 0, 1)),
                           0.3))
            values.append((rep, month, "revenue", float(40000 + 500 * t + rng.normal(0, 4000)), 50000.0))
    skill = next(iter(skills))
    items = [ItemRow("a1", "a1", "c1", 2.0, "autograded", (skill,)), ItemRow("a1", "a1", "c2", 4.0, "manual", (skill,))]
    scores = []
    for i, rep in enumerate(rep_ids(n)[:7]):
        at = f"2026-02-0{i + 1} 10:00:00.000000"
        scores.append(ScoreRow(rep, "a1", "a1", "c1", 2.0, None, None, 0, None, at))
        scores.append(ScoreRow(rep, "a1", "a1", "c2", None, None if i == 6 else 3.0, None, int(i == 6), None, at))
    folder.mkdir(parents=True, exist_ok=True)
    with open_store(folder / "spm.db") as store:
        write_store(store, reps=reps, skills=skills, kpis=kpis, items=items, scores=scores, kpi_values=values)
        checkpoint(store)
    return folder / "spm.db"


def trainings_csv(path: Path, n: int = 30) -> Path:
    lines = ["rep_id,program,completed_on,hours"]
    for i, rep in enumerate(rep_ids(n)):
        g = trained_month(i)
        if g is not None:
            lines.append(f"{rep},{PROGRAM},{MONTHS[g]}-1{i % 10},{'' if i % 2 else '16'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("trainings") / "base")


@pytest.fixture
def db(base: Path, tmp_path: Path) -> Path:
    target = tmp_path / "spm.db"
    target.write_bytes(base.read_bytes())
    return target


def spm(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def test_import_then_list(db: Path, tmp_path: Path) -> None:
    file = trainings_csv(tmp_path / "trainings.csv")
    result = spm(db, "trainings", "import", str(file))
    assert result.exit_code == 0, result.output
    assert result.output == f"{file}: 24 completions of 1 programme: 24 new, 0 updated, 0 unchanged\n"
    again = spm(db, "trainings", "import", str(file))
    assert again.output == f"{file}: 24 completions of 1 programme: 0 new, 0 updated, 24 unchanged\n"
    listed = json.loads(spm(db, "trainings", "list", "--program", PROGRAM, "--format", "json").output)
    assert len(listed) == 24
    assert listed[0] == {"rep_id": "rep00", "program": PROGRAM, "completed_on": "2025-10-10", "hours": 16.0,
                         "source": "trainings.csv", "kind": "external"}
    assert {r["hours"] for r in listed if r["rep_id"] == "rep01"} == {None}


def test_hours_changed_are_updated(db: Path, tmp_path: Path) -> None:
    file = tmp_path / "t.csv"
    file.write_text(f"rep_id,program,completed_on,hours\nrep00,{PROGRAM},2025-10-10,16\n")
    spm(db, "trainings", "import", str(file))
    file.write_text(f"rep_id,program,completed_on,hours\nrep00,{PROGRAM},2025-10-10,12\nrep01,Udemy SPIN,2025-11-02,\n")
    result = spm(db, "trainings", "import", str(file))
    assert result.output == f"{file}: 2 completions of 2 programmes: 1 new, 1 updated, 0 unchanged\n"


def test_course_assignments_count_as_trainings_once_graded(db: Path) -> None:
    rows = json.loads(spm(db, "trainings", "list", "--format", "json").output)
    course = [r for r in rows if r["kind"] == "course"]
    # reps 0-5 are graded (dated by their submission); rep 6 still awaits a manual grade
    assert [(r["rep_id"], r["completed_on"]) for r in course] == [(f"rep0{i}", f"2026-02-0{i + 1}") for i in range(6)]
    assert {(r["program"], r["source"], r["hours"]) for r in course} == {("a1", "course", None)}


BAD = [
    ("rep_id,program\nrep00,X\n", "1: missing column 'completed_on'; the header must include rep_id,program,completed_on"),
    ("rep_id,program,completed_on\nghost,X,2026-01-01\n",
     "2 (column rep_id): unknown rep 'ghost'; add the rep to the roster first (spm roster import) or correct the id"),
    ("rep_id,program,completed_on\nrep00,,2026-01-01\n", "2 (column program): 'program' is empty; name the programme"),
    ("rep_id,program,completed_on\nrep00,X,2026-01-01\nrep01,X,01/02/2026\n",
     "3 (column completed_on): completed_on '01/02/2026' is not a date; write dates as YYYY-MM-DD"),
    ("rep_id,program,completed_on\nrep00,X,1999-12-31\n",
     "2 (column completed_on): completed_on 1999-12-31 is outside the date window 2000-01-01 to 2031-12-31; "
     "correct the date, or widen the window under dates: in spm.yml"),
    ("rep_id,program,completed_on,hours\nrep00,X,2026-01-01,0\n",
     "2 (column hours): 'hours' is zero; give the hours the training took, or leave the cell empty"),
    ("rep_id,program,completed_on,hours\nrep00,X,2026-01-01,-3\n",
     "2 (column hours): 'hours' is negative; give the hours the training took, or leave the cell empty"),
    ("rep_id,program,completed_on,hours\nrep00,X,2026-01-01,two\n",
     "2 (column hours): 'hours' is not a number: 'two'; write plain numbers such as 1200.5, without units or "
     "thousands separators"),
    ("rep_id,program,completed_on,hours\nrep00,X,2026-01-01,2\nrep00,X,2026-01-01,3\n",
     "3: rep00 'X' 2026-01-01 has two different hours (lines 2 and 3); keep one row per rep, programme and date"),
    (f"rep_id,program,completed_on\nrep00,{'W' * 81},2026-01-01\n",
     f"2 (column program): the programme name '{'W' * 40}…' (81 characters) is longer than 80 characters; shorten it"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(";")[0] for _, m in BAD])
def test_a_refused_file_is_one_error_line_and_leaves_the_store_as_it_was(db: Path, tmp_path: Path, text: str,
                                                                         message: str) -> None:
    file = tmp_path / "bad.csv"
    file.write_text(text, encoding="utf-8")
    before = store_digests(db.parent)
    result = spm(db, "trainings", "import", str(file))
    assert result.exit_code == 1
    assert result.output == f"Error: {file}:{message}\n"
    assert store_digests(db.parent) == before


def test_a_good_row_before_a_bad_one_is_not_written(db: Path, tmp_path: Path) -> None:
    file = tmp_path / "half.csv"
    file.write_text(f"rep_id,program,completed_on\nrep00,{PROGRAM},2026-01-05\nrep01,{PROGRAM},2026-13-01\n")
    assert spm(db, "trainings", "import", str(file)).exit_code == 1
    rows = json.loads(spm(db, "trainings", "list", "--program", PROGRAM, "--format", "json").output)
    assert rows == []
