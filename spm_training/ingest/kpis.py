"""KPI values per rep and period: the validated import of long and wide files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..catalog import Kpi
from ..errors import InputError
from ..periods import PERIOD_HELP, PERIOD_RE, DateWindow
from ..progressbar import chunks, progress
from ..store import Store, sync_kpi_definitions
from ..text import shown
from .tabular import first_bad, read_csv, read_header, to_number

LONG_REQUIRED = ("rep_id", "period", "kpi", "value")
LONG_OPTIONAL = ("target",)
WIDE_ID_COLUMNS = ("rep_id", "period")
TARGET_PREFIX = "target_"
FORMATS = ("auto", "long", "wide")


@dataclass(frozen=True)
class ImportResult:
    rows: int
    inserted: int
    updated: int
    unchanged: int
    removed: int = 0         # values an import replaces wholesale (a CRM export) that it no longer gives


def _wide_to_long(path: Path, frame: pd.DataFrame, kpis: dict[str, Kpi]) -> pd.DataFrame:
    value_columns = [c for c in frame.columns if c not in WIDE_ID_COLUMNS and not c.startswith(TARGET_PREFIX)]
    for column in frame.columns:
        kpi_id = column[len(TARGET_PREFIX):] if column.startswith(TARGET_PREFIX) else column
        if column not in WIDE_ID_COLUMNS and kpi_id not in kpis:
            raise InputError(path, f"unknown KPI column '{column}'", line=1, column=column,
                             fix="name columns after KPI ids from `spm kpis list` (targets as target_<kpi>)")
        if column.startswith(TARGET_PREFIX) and kpi_id not in frame.columns:
            raise InputError(path, f"'{column}' has no '{kpi_id}' column beside it", line=1, column=column,
                             fix=f"add a '{kpi_id}' column with the values the targets are for")
    if not value_columns:
        raise InputError(path, "no KPI columns", line=1,
                         fix="add one column per KPI id, or use the long format rep_id,period,kpi,value")
    for column in frame.columns:
        if column not in WIDE_ID_COLUMNS:
            to_number(path, frame, column, allow_empty=True)
    parts = []
    for kpi_id in value_columns:
        part = pd.DataFrame({
            "rep_id": frame["rep_id"], "period": frame["period"], "kpi": kpi_id, "value": frame[kpi_id],
            "target": frame.get(TARGET_PREFIX + kpi_id, pd.Series("", index=frame.index)),
        })
        if (line := first_bad(part["target"].ne("") & part["value"].eq(""))) is not None:
            raise InputError(path, f"target_{kpi_id} given without a value", line=line, column=kpi_id,
                             fix=f"give the {kpi_id} value of that row, or leave its target empty too")
        parts.append(part[part["value"] != ""])
    return pd.concat(parts)


def parse_kpi_file(path: str | Path, kpis: dict[str, Kpi], rep_roles: dict[str, str],
                   fmt: str = "auto", *, window: DateWindow | None = None) -> pd.DataFrame:
    """Read and validate a KPI file. Returns rep_id, period, kpi_id, value, target (one row per key).

    ``rep_roles`` maps every rep in the store to their role, which picks the default target. A period
    outside ``window`` (default: :meth:`DateWindow.default`) is refused.
    """
    path = Path(path)
    window = window or DateWindow.default()
    if fmt not in FORMATS:
        raise ValueError(fmt)
    if fmt == "auto":
        header = read_header(path)
        fmt = "long" if {"kpi", "value"} & set(header) or len(header) < 3 else "wide"
    if fmt == "long":
        frame = read_csv(path, required=LONG_REQUIRED, optional=LONG_OPTIONAL, what="KPI rows")
        if "target" not in frame.columns:
            frame["target"] = ""
    else:
        frame = _wide_to_long(path, read_csv(path, required=WIDE_ID_COLUMNS, allow_extra=True, what="KPI rows"),
                              kpis)
    for column in ("rep_id", "period", "kpi"):
        if (line := first_bad(frame[column] == "")) is not None:
            raise InputError(path, f"'{column}' is empty", line=line, column=column)
    known_rep = frame["rep_id"].isin(rep_roles.keys())
    if (line := first_bad(~known_rep)) is not None:
        raise InputError(path, f"unknown rep {shown(frame.loc[~known_rep, 'rep_id'].iloc[0])}", line=line,
                         column="rep_id",
                         fix="add the rep to the roster first (spm roster import) or correct the id")
    known_kpi = frame["kpi"].isin(kpis.keys())
    if (line := first_bad(~known_kpi)) is not None:
        raise InputError(path, f"unknown KPI {shown(frame.loc[~known_kpi, 'kpi'].iloc[0])}", line=line, column="kpi",
                         fix="use an id from `spm kpis list`")
    good_period = frame["period"].str.match(PERIOD_RE)
    if (line := first_bad(~good_period)) is not None:
        raise InputError(path, f"bad period {shown(frame.loc[~good_period, 'period'].iloc[0])}", line=line,
                         column="period", fix=PERIOD_HELP)
    # a handful of distinct periods, however long the file
    plausible = frame["period"].map({p: window.holds_period(p) for p in frame["period"].unique()}).astype(bool)
    if (line := first_bad(~plausible)) is not None:
        period = frame.loc[~plausible, "period"].iloc[0]
        raise InputError(path, f"period {period!r} is outside the date window {window}", line=line, column="period",
                         fix="correct the period, or widen the window under dates: in spm.yml")
    values = to_number(path, frame, "value")
    targets = to_number(path, frame, "target", allow_empty=True)
    if (line := first_bad(targets == 0)) is not None:
        raise InputError(path, "'target' is zero", line=line, column="target",
                         fix="give a target above zero, or leave it empty for the catalog's default")
    out = pd.DataFrame({"rep_id": frame["rep_id"], "period": frame["period"], "kpi_id": frame["kpi"],
                        "value": values, "target": targets})
    out = _fill_default_targets(out, kpis, rep_roles)
    return _drop_exact_duplicates(path, out)


def _fill_default_targets(frame: pd.DataFrame, kpis: dict[str, Kpi], rep_roles: dict[str, str]) -> pd.DataFrame:
    missing = frame["target"].isna()
    if missing.any():
        kinds = np.where(frame["period"].str.contains("Q", regex=False), "quarter", "month")
        roles = frame["rep_id"].map(rep_roles)
        keys = pd.DataFrame({"kpi": frame["kpi_id"], "role": roles, "kind": kinds})[missing]
        lookup = {key: kpis[key[0]].target_for(key[1], key[2])
                  for key in set(map(tuple, keys.itertuples(index=False)))}
        # None where the rep's role has no default target (an AM's meetings booked): stored without one
        frame.loc[missing, "target"] = np.array([lookup[tuple(k)] for k in keys.itertuples(index=False)],
                                                dtype=float)
    frame["target"] = frame["target"].astype(float)
    return frame


def _drop_exact_duplicates(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    key = ["rep_id", "period", "kpi_id"]
    dup = frame.duplicated(key, keep=False)
    if not dup.any():
        return frame
    same = frame[dup].duplicated(key + ["value", "target"], keep="first")
    exact = frame[dup].drop_duplicates(key + ["value", "target"])
    conflict = exact.duplicated(key, keep=False)
    if conflict.any():
        rows = exact[conflict]
        first_key = tuple(rows.iloc[0][key])
        lines = [int(i) for i, r in rows.iterrows() if tuple(r[key]) == first_key]
        raise InputError(path, f"{first_key[0]} {first_key[1]} {first_key[2]} has two different values "
                         f"(lines {lines[0]} and {lines[1]})", line=lines[1],
                         fix="keep one row per rep, period and KPI")
    return frame.drop(index=same[same].index)


def import_kpis(store: Store, path: str | Path, kpis: dict[str, Kpi], fmt: str = "auto", *,
                window: DateWindow | None = None) -> ImportResult:
    """Validate the whole file, then upsert its values in one transaction."""
    path = Path(path)
    rep_roles = dict(store.conn.execute("SELECT id, role FROM reps").fetchall())
    frame = parse_kpi_file(path, kpis, rep_roles, fmt, window=window)
    return write_kpi_values(store, frame, kpis, source=path.name)


def write_kpi_values(store: Store, frame: pd.DataFrame, kpis: dict[str, Kpi], source: str, *,
                     replace: tuple[str, Sequence[tuple[str, str]]] | None = None) -> ImportResult:
    """Upsert rep_id, period, kpi_id, value, target rows; rows that match the store are left alone.

    ``replace`` = (source prefix, [(kpi_id, period), ...]) makes the import speak for those KPIs in
    those periods: a value there whose source starts with the prefix and that the import no longer
    gives is deleted, in the same transaction. A CRM export is a snapshot: when a deal moves to
    another owner, the first owner's old revenue must go, not linger beside the new figure.
    """
    targets = frame["target"].astype(object).where(frame["target"].notna(), None)
    rows = list(zip(frame["rep_id"], frame["period"], frame["kpi_id"], frame["value"].astype(float), targets,
                    [source] * len(frame)))
    with store.transaction() as conn:
        sync_kpi_definitions(conn, kpis)
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS incoming (rep_id TEXT, period TEXT, kpi_id TEXT, "
                     "value REAL, target REAL, source TEXT)")
        conn.execute("DELETE FROM temp.incoming")
        size = 50_000
        for chunk in progress(chunks(rows, size), total=-(-len(rows) // size), desc="importing", unit="chunk"):
            conn.executemany("INSERT INTO temp.incoming VALUES (?, ?, ?, ?, ?, ?)", chunk)
        staged = conn.total_changes
        inserted = conn.execute(
            "SELECT count(*) FROM temp.incoming i WHERE NOT EXISTS (SELECT 1 FROM kpi_values v "
            "WHERE v.rep_id = i.rep_id AND v.period = i.period AND v.kpi_id = i.kpi_id)").fetchone()[0]
        conn.execute(
            "INSERT INTO kpi_values (rep_id, period, kpi_id, value, target, source) "
            "SELECT rep_id, period, kpi_id, value, target, source FROM temp.incoming WHERE true "
            "ON CONFLICT(rep_id, period, kpi_id) DO UPDATE SET value = excluded.value, target = excluded.target, "
            "source = excluded.source "
            "WHERE (value, target) IS NOT (excluded.value, excluded.target)")
        changed = conn.total_changes - staged
        removed = _remove_replaced(conn, replace) if replace else 0
        conn.execute("DELETE FROM temp.incoming")
    updated = changed - inserted
    return ImportResult(rows=len(rows), inserted=inserted, updated=updated, unchanged=len(rows) - changed,
                        removed=removed)


def _remove_replaced(conn, replace: tuple[str, Sequence[tuple[str, str]]]) -> int:
    """Delete the values in the replaced scope that temp.incoming does not hold; returns how many."""
    prefix, pairs = replace
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS replaced (kpi_id TEXT, period TEXT, PRIMARY KEY (kpi_id, period))")
    conn.execute("DELETE FROM temp.replaced")
    conn.executemany("INSERT OR IGNORE INTO temp.replaced VALUES (?, ?)", pairs)
    # Without it the NOT EXISTS below scans the staged rows once per value: hours on a large export.
    conn.execute("CREATE INDEX IF NOT EXISTS temp.incoming_key ON incoming (rep_id, period, kpi_id)")
    removed = conn.execute(
        "DELETE FROM kpi_values WHERE substr(source, 1, length(?1)) = ?1 "
        "AND (kpi_id, period) IN (SELECT kpi_id, period FROM temp.replaced) "
        "AND NOT EXISTS (SELECT 1 FROM temp.incoming i WHERE i.rep_id = kpi_values.rep_id "
        "AND i.period = kpi_values.period AND i.kpi_id = kpi_values.kpi_id)", (prefix,)).rowcount
    conn.execute("DELETE FROM temp.replaced")
    conn.execute("DROP INDEX temp.incoming_key")      # staging stays quick for the next import
    return removed


