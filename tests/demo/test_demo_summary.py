"""The demo's closing summary table (issue 15: it printed raw fractions, 0.54 and 1): percentages and
KPI names, in 80 columns."""

from __future__ import annotations

import re

from spm_training.catalog import load_kpis
from spm_training.demo.loop import summary_table


def test_summary_table_prints_percentages_and_names() -> None:
    rows = [{"team": "Closers", "period": "2026-Q3", "reps": 8, "kpi_values": 80, "on_target": 0.525,
             "median_attainment": 1.0, "weakest_kpi": "stage_conversion (95%)", "weakest": "stage_conversion",
             "weakest_attainment": 0.9491818},
            {"team": "Pathfinders", "period": "2026-Q3", "reps": 10, "kpi_values": 40, "on_target": 0.54,
             "median_attainment": 0.9988, "weakest_kpi": "activities (95%)", "weakest": "activities",
             "weakest_attainment": 0.9522}]
    text = summary_table(rows, load_kpis(None))
    assert text.splitlines() == [
        "KPI attainment by team in 2026-Q3: the share of KPI values on target, the median",
        "attainment and the KPI with the lowest median.",
        "Team         Reps  On target  Median  Weakest KPI",
        "-----------  ----  ---------  ------  -------------------------------------",
        "Closers         8        53%    100%  Stage-to-stage funnel conversion: 95%",
        "Pathfinders    10        54%   99.9%  Activities (calls and emails): 95%"]
    assert not re.search(r"\b0\.\d", text) and max(map(len, text.splitlines())) <= 80


def test_summary_table_without_values() -> None:
    assert summary_table([], load_kpis(None)) == "No KPI values yet."
