"""KPIs from CRM exports: opportunities (and optionally activities and leads) in, KPI values per rep
and month or quarter out, written through the same validated, all-or-nothing path as ``spm kpis import``.

The rules the derivation follows (the KPI catalog states each formula):

- An export is a snapshot: each opportunity counts with the status it has in the file. A deal that was
  won and then re-opened is open in the export, so it counts in no closed-deal KPI until it closes
  again; the close date of an open deal is only its expected close and is ignored.
- Dates must lie in the project's date window (:class:`~spm_training.periods.DateWindow`, by default
  2000-01-01 to 31 December five years ahead), or the export is refused, naming the line. The one
  exception is the close date of an open deal: CRMs fill in placeholders such as 9999-12-31 there, so
  one outside the window means "no expected close date". The deal still counts as pipeline on its
  created date, and the placeholder does not stretch the periods the import speaks for.
- With an id column, the last row of each id wins (a later row is a later state of the same deal).
  Without one, exact duplicate rows are dropped, and two rows with the same owner, account and created
  date that differ otherwise are refused, naming both lines. Activities and leads without an id column
  are all counted: two calls on the same day are two calls.
- Closed-deal KPIs count on the close date, pipeline generated on the created date, activities on their
  date, lead conversion on the lead's created date.
- Counts and amounts are zero, not missing, in every period from a rep's first to last dated row;
  rates and averages are missing where undefined (no closed deal, no won deal, no lead).

The mapping of each CRM's columns and values is :mod:`spm_training.ingest.crm_mapping`; reading and validating
the exports (owners, dates, amounts, duplicates) is :mod:`spm_training.ingest.crm_read`. This module derives
the KPIs from what they read and imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..catalog import Kpi
from ..periods import PERIOD_KINDS, DateWindow
from ..store import Store
from .crm_mapping import Mapping, load_mapping, preset_names
from .crm_read import CrmData, OwnerIndex, read_exports
from .kpis import ImportResult, write_kpi_values

# re-exported: load_mapping and preset_names (the CLI and tests import them from here), and PERIOD_KINDS
__all__ = ["CRM_KPIS", "KPIS_BY_EXPORT", "PERIOD_KINDS", "SOURCE_PREFIX", "CrmImportResult", "covered_periods",
           "derive_kpis", "import_crm", "load_mapping", "period_labels", "preset_names", "with_targets"]

CRM_KPIS = ("revenue", "deals_won", "win_rate", "avg_deal_size", "sales_cycle_length", "pipeline_generated",
            "quota_attainment", "meetings_booked", "activities", "lead_to_opp_conversion")
SOURCE_PREFIX = "crm:"
# The KPIs each export gives: an import replaces these, in the periods its export covers.
KPIS_BY_EXPORT = {"opportunities": ("revenue", "deals_won", "win_rate", "avg_deal_size", "sales_cycle_length",
                                    "pipeline_generated", "quota_attainment"),
                  "activities": ("meetings_booked", "activities"), "leads": ("lead_to_opp_conversion",)}


# --- deriving the KPIs --------------------------------------------------------------------------

def _period_codes(dates: np.ndarray, kind: str) -> np.ndarray:
    """Months (or quarters) since January 1970, so that consecutive periods are consecutive integers."""
    months = dates.astype("datetime64[M]").astype(np.int64)
    return months if kind == "month" else months // 3


def period_labels(codes: np.ndarray, kind: str) -> np.ndarray:
    """``2026-03`` or ``2026-Q1`` for each period code."""
    unique, inverse = np.unique(codes, return_inverse=True)
    if kind == "month":
        names = [f"{1970 + c // 12}-{c % 12 + 1:02d}" for c in unique.tolist()]
    else:
        names = [f"{1970 + c // 4}-Q{c % 4 + 1}" for c in unique.tolist()]
    return np.array(names, dtype=object)[inverse.reshape(-1)]


def _span(reps: np.ndarray, periods: np.ndarray) -> pd.MultiIndex:
    """Every (rep, period) from each rep's first to last period: the periods where counts are zero, not
    missing."""
    bounds = pd.DataFrame({"rep": reps, "p": periods}).groupby("rep")["p"].agg(["min", "max"])
    lengths = (bounds["max"] - bounds["min"] + 1).to_numpy()
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    p = np.repeat(bounds["min"].to_numpy(), lengths) + (np.arange(lengths.sum()) - starts)
    return pd.MultiIndex.from_arrays([np.repeat(bounds.index.to_numpy(), lengths), p], names=["rep", "p"])


def _kpi(kpi_id: str, values: pd.Series) -> pd.DataFrame:
    frame = values.rename("value").reset_index()
    frame["kpi_id"] = kpi_id
    return frame


def _opportunity_kpis(opps: pd.DataFrame, kind: str) -> list[pd.DataFrame]:
    created_p = _period_codes(opps["created"].to_numpy(), kind)
    closed = opps["status"].to_numpy() != "open"
    close_p = _period_codes(opps["closed"].to_numpy(), kind)
    rep = opps["rep_id"].to_numpy()
    span = _span(np.concatenate([rep, rep[closed]]), np.concatenate([created_p, close_p[closed]]))
    won = opps["status"].to_numpy() == "won"
    won_frame = pd.DataFrame({"rep": rep[won], "p": close_p[won], "amount": opps["amount"].to_numpy()[won],
                              "days": (opps["closed"].to_numpy()[won] - opps["created"].to_numpy()[won])
                              .astype("timedelta64[D]").astype(np.int64)})
    by_won = won_frame.groupby(["rep", "p"])
    revenue = by_won["amount"].sum()
    deals = by_won.size()
    closed_deals = pd.DataFrame({"rep": rep[closed], "p": close_p[closed]}).groupby(["rep", "p"]).size()
    pipeline = pd.DataFrame({"rep": rep, "p": created_p, "amount": opps["amount"].to_numpy()}) \
        .groupby(["rep", "p"])["amount"].sum()
    return [
        _kpi("revenue", revenue.reindex(span, fill_value=0.0)),
        _kpi("deals_won", deals.reindex(span, fill_value=0).astype(float)),
        _kpi("win_rate", deals.reindex(closed_deals.index, fill_value=0) / closed_deals),
        _kpi("avg_deal_size", revenue / deals),
        _kpi("sales_cycle_length", by_won["days"].median().astype(float)),
        _kpi("pipeline_generated", pipeline.reindex(span, fill_value=0.0)),
    ]


def _activity_kpis(acts: pd.DataFrame, kind: str) -> list[pd.DataFrame]:
    frame = pd.DataFrame({"rep": acts["rep_id"].to_numpy(), "p": _period_codes(acts["date"].to_numpy(), kind),
                          "touch": acts["type"].isin(["call", "email"]).to_numpy(),
                          "meeting": ((acts["type"] == "meeting") & acts["held"]).to_numpy()})
    span = _span(frame["rep"].to_numpy(), frame["p"].to_numpy())
    sums = frame.groupby(["rep", "p"])[["touch", "meeting"]].sum().reindex(span, fill_value=0).astype(float)
    return [_kpi("activities", sums["touch"]), _kpi("meetings_booked", sums["meeting"])]


def _lead_kpis(leads: pd.DataFrame, kind: str) -> list[pd.DataFrame]:
    created_p = _period_codes(leads["created"].to_numpy(), kind)
    converted = leads["converted"].to_numpy()
    same = ~np.isnat(converted) & (_period_codes(converted, kind) == created_p)
    frame = pd.DataFrame({"rep": leads["rep_id"].to_numpy(), "p": created_p, "converted": same})
    return [_kpi("lead_to_opp_conversion", frame.groupby(["rep", "p"])["converted"].mean().astype(float))]


def derive_kpis(data: CrmData, period_kind: str = "quarter") -> pd.DataFrame:
    """KPI values per rep and period: rep_id, period, kpi_id, value (no targets yet, no quota attainment,
    which needs each rep's quota)."""
    if period_kind not in PERIOD_KINDS:
        raise ValueError(period_kind)
    parts = _opportunity_kpis(data.opportunities, period_kind) if len(data.opportunities) else []
    if data.activities is not None and len(data.activities):
        parts += _activity_kpis(data.activities, period_kind)
    if data.leads is not None and len(data.leads):
        parts += _lead_kpis(data.leads, period_kind)
    if not parts:
        return pd.DataFrame({"rep_id": pd.Series(dtype=object), "period": pd.Series(dtype=object),
                             "kpi_id": pd.Series(dtype=object), "value": pd.Series(dtype=float)})
    frame = pd.concat(parts, ignore_index=True).sort_values(["rep", "p", "kpi_id"], kind="stable")
    return pd.DataFrame({"rep_id": frame["rep"].to_numpy(), "period": period_labels(frame["p"].to_numpy(), period_kind),
                         "kpi_id": frame["kpi_id"].to_numpy(), "value": frame["value"].to_numpy(dtype=float)})


def covered_periods(data: CrmData, period_kind: str) -> list[tuple[str, str]]:
    """The (KPI, period) pairs an import speaks for: for each export given, the KPIs it gives in
    every period from its earliest date to its latest (created, closed, expected to close, logged
    or converted). Values a CRM import wrote there before and this one no longer gives are stale:
    a deal that moved owner, was re-opened or was deleted in the CRM."""
    dates = {"opportunities": ("created", "closed", "expected"), "activities": ("date",),
             "leads": ("created", "converted")}
    pairs = []
    for kind, columns in dates.items():
        frame = getattr(data, kind)
        if frame is None or not len(frame):
            continue
        found = np.concatenate([frame[c].to_numpy(dtype="datetime64[D]") for c in columns if c in frame])
        found = found[~np.isnat(found)]
        if not len(found):
            continue
        codes = _period_codes(found, period_kind)
        periods = period_labels(np.arange(codes.min(), codes.max() + 1), period_kind)
        pairs += [(kpi, str(p)) for kpi in KPIS_BY_EXPORT[kind] for p in periods]
    return pairs


def with_targets(values: pd.DataFrame, kpis: dict[str, Kpi], rep_roles: dict[str, str], period_kind: str,
                 kept: pd.DataFrame | None = None) -> pd.DataFrame:
    """Adds each value's target and the quota attainment rows.

    A target already in the store from a KPI file (``kept``: rep_id, period, kpi_id, target) wins over
    the catalog's default for the rep's role; the revenue target is the rep's quota, and quota
    attainment is revenue ÷ quota with a target of 1.
    """
    values = values[values["kpi_id"].isin(kpis.keys())].reset_index(drop=True)
    roles = values["rep_id"].map(rep_roles).fillna("")
    pairs = pd.DataFrame({"kpi_id": values["kpi_id"], "role": roles}).drop_duplicates()
    pairs["target"] = [kpis[k].target_for(r or None, period_kind) for k, r in zip(pairs["kpi_id"], pairs["role"])]
    values = values.assign(role=roles).merge(pairs, on=["kpi_id", "role"], how="left").drop(columns="role")
    values["target"] = values["target"].astype(float)
    values = _keep_store_targets(values, kept)
    if "quota_attainment" in kpis and "revenue" in kpis:
        revenue = values[(values["kpi_id"] == "revenue") & (values["target"] > 0)]
        quota = pd.DataFrame({"rep_id": revenue["rep_id"], "period": revenue["period"], "kpi_id": "quota_attainment",
                              "value": revenue["value"] / revenue["target"], "target": 1.0})
        values = pd.concat([values, _keep_store_targets(quota, kept)], ignore_index=True)
    return values.sort_values(["rep_id", "period", "kpi_id"], kind="stable").reset_index(drop=True)


def _keep_store_targets(values: pd.DataFrame, kept: pd.DataFrame | None) -> pd.DataFrame:
    if kept is None or kept.empty:
        return values
    merged = values.merge(kept.rename(columns={"target": "kept"}), on=["rep_id", "period", "kpi_id"], how="left")
    merged["target"] = merged["kept"].where(merged["kept"].notna(), merged["target"]).astype(float)
    return merged.drop(columns="kept")


# --- the import -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CrmImportResult:
    rows: dict[str, int]                 # data rows read per export kind
    duplicates: dict[str, int]           # rows dropped as duplicates or superseded by a later row of the id
    skipped: dict[str, int]              # unmatched owner -> rows left out (with --skip-unmatched)
    reps: int
    periods: tuple[str, str] | None      # first and last period with a value
    not_in_catalog: tuple[str, ...]      # derivable KPIs the project's catalog does not define
    written: ImportResult


def _kept_targets(store: Store) -> pd.DataFrame:
    """Targets that came from KPI files rather than a CRM import: quotas someone set on purpose."""
    rows = store.query(
        f"SELECT rep_id, period, kpi_id, target FROM kpi_values WHERE target IS NOT NULL "
        f"AND source NOT LIKE '{SOURCE_PREFIX}%' AND kpi_id IN ({', '.join('?' * len(CRM_KPIS))})", CRM_KPIS)
    return pd.DataFrame(rows, columns=["rep_id", "period", "kpi_id", "target"])


def import_crm(store: Store, opportunities: str | Path, kpis: dict[str, Kpi], *,
               activities: str | Path | None = None, leads: str | Path | None = None,
               period_kind: str = "quarter", mapping: Mapping | None = None,
               skip_unmatched: bool = False, window: DateWindow | None = None) -> CrmImportResult:
    """Read and validate the exports, derive the KPIs, then upsert them in one transaction.

    Dates outside ``window`` are refused, but for an open opportunity's close date (see the module's
    docstring)."""
    mapping = mapping or load_mapping()
    data = read_exports(opportunities, OwnerIndex.from_store(store), mapping, activities=activities, leads=leads,
                        skip_unmatched=skip_unmatched, window=window)
    derived = derive_kpis(data, period_kind)
    rep_roles = dict(store.conn.execute("SELECT id, role FROM reps").fetchall())
    frame = with_targets(derived, kpis, rep_roles, period_kind, _kept_targets(store))
    files = [Path(p).name for p in (opportunities, activities, leads) if p is not None]
    scope = [(kpi, period) for kpi, period in covered_periods(data, period_kind) if kpi in kpis]
    if frame.empty and not scope:
        written = ImportResult(0, 0, 0, 0)
    else:
        written = write_kpi_values(store, frame, kpis, source=SOURCE_PREFIX + ",".join(files),
                                   replace=(SOURCE_PREFIX, scope))
    periods = sorted(set(frame["period"]))
    derivable = set(derived["kpi_id"]) | ({"quota_attainment"} if (derived["kpi_id"] == "revenue").any() else set())
    missing = sorted(derivable - set(kpis))
    return CrmImportResult(rows=data.rows, duplicates=data.duplicates, skipped=data.skipped,
                           reps=int(frame["rep_id"].nunique()), periods=(periods[0], periods[-1]) if periods else None,
                           not_in_catalog=tuple(missing), written=written)
