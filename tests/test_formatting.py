"""spm_training.formatting: the one way a figure is written for people (reports, dashboard, CLI),
and the colour of a figure decided on the figure as printed."""

from __future__ import annotations

import pytest

from spm_training import formatting as f


def test_shares_and_rates_are_percentages_rounded_half_up() -> None:
    assert f.percent(0.2634) == "26%"
    assert f.percent(0.265) == "27%"            # half-to-even on the binary value gives 26%
    assert f.percent(0.0125, 1) == "1.3%"
    assert f.percent(1.237) == "124%" and f.percent(12.345) == "1,235%"
    assert f.percent(0) == "0%" and f.percent(-0.001) == "0%"    # no signed zero
    assert f.percent(-0.05) == "−5%"
    assert f.half_up(4.125, 2) == 4.13 and f.half_up(0.825, 2) == 0.83 and f.half_up(-2.5) == -3


def test_a_missing_value_is_a_dash_everywhere() -> None:
    for fn in (f.percent, f.mastery, f.attainment, f.points, f.whole, f.number, f.count, f.money, f.kpi_value,
               f.correlation, f.days):
        assert fn(None) == "—", fn.__name__
        assert fn(float("nan")) == "—", fn.__name__
    assert f.interval(None, 0.2) == "—" and f.score(None, 2) == "—" and f.day(None) == "—" and f.day("") == "—"
    assert f.shown(None) is None and f.missing(float("inf")) and not f.missing(0)


def test_a_value_below_its_limit_never_prints_as_the_limit() -> None:
    assert f.mastery(0.28) == "28%" and f.mastery(0.684, 0.7) == "68%"
    assert f.mastery(0.695, 0.7) == "69.5%"     # not "70%": a gap never reads as a pass
    assert f.mastery(0.6996, 0.7) == "69.96%"
    assert f.mastery(0.699999, 0.7) == "69.99%"  # cut, not rounded up, past two extra decimals
    assert f.mastery(0.7, 0.7) == "70%" and f.mastery(0.7049, 0.7) == "70%"
    assert f.attainment(0.9988) == "99.9%" and f.percent(0.9988) == "100%"
    assert f.attainment(1.0) == "100%" and f.attainment(0.84) == "84%" and f.attainment(0.995) == "99.5%"
    assert f.shown(0.9988) == 100.0 and f.shown(0.9988, below=1.0) == 99.9


def test_changes_are_percentage_points_with_their_sign() -> None:
    assert f.points(-0.18) == "−18 pp"
    assert f.points(0.05) == "+5 pp"
    assert f.points(0.001) == "0 pp" and f.points(-0.004) == "0 pp"
    assert f.points(0.125, 1) == "+12.5 pp"


def test_whole_numbers_money_counts_and_days() -> None:
    assert f.whole(56.8) == "57" and f.whole(24.5) == "25" and f.whole(24.9) == "25" and f.whole(100) == "100"
    assert f.number(1234.5) == "1,234.50" and f.number(-3.14159) == "−3.14"
    assert f.count(12345) == "12,345" and f.count(0) == "0"
    assert f.money(26400) == "EUR 26,400" and f.money(-1200) == "EUR −1,200" and f.money(5, "USD") == "USD 5"
    assert f.days(1) == "1 day" and f.days(41) == "41 days"


def test_kpi_values_follow_their_unit() -> None:
    assert f.kpi_value(26400, "EUR") == "EUR 26,400"
    assert f.kpi_value(0.26, "ratio") == "26%"
    assert f.kpi_value(948, "count") == "948" and f.kpi_value(1948, "count") == "1,948"
    assert f.kpi_value(41, "days") == "41 days"
    assert f.kpi_value(4.25, "score (1-5)") == "4.25"


def test_correlations_keep_two_decimals_and_never_a_signed_zero() -> None:
    assert f.correlation(0.45) == "+0.45" and f.correlation(-0.89) == "−0.89"
    assert f.correlation(-0.0001) == "0.00" and f.correlation(0.004) == "0.00"
    assert f.interval(-0.89, -0.0001) == "−0.89 to 0.00"
    assert f.interval(0.12, 0.6) == "+0.12 to +0.60"


def test_scores_and_dates() -> None:
    assert f.score(3.5, 4) == "3.5 / 4" and f.score(1.0333, 2) == "1.03 / 2"
    assert f.day("2026-03-01 09:00:00.000000") == "2026-03-01"


@pytest.mark.parametrize(("value", "expected"), [
    (1.0, "good"), (1.2, "good"), (0.9988, "near"), (0.99996, "near"), (0.9, "near"), (0.8951, "near"), (0.8949, "gap"),
    (None, "none"),
])
def test_attainment_colour_follows_the_percentage_printed(value: float | None, expected: str) -> None:
    # a KPI short of target prints below 100% (0.99996 as "99.99%", cut), so it never takes the colour of 100%
    assert f.attainment_tone(value) == expected


def test_colour_is_decided_on_the_value_shown() -> None:
    assert f.tone(f.shown(0.9988), 100, 10) == "good"   # reads "100%", so not the colour of a miss
    assert f.tone(99.9, 100, 10) == "near" and f.tone(89.9, 100, 10) == "gap" and f.tone(None, 100) == "none"
    assert f.tone(95, 100) == "gap"                     # no near band unless asked for
    assert f.mastery_tone(0.7, 0.7) == "good" and f.mastery_tone(0.695, 0.7) == "near"
    assert f.mastery_tone(0.6, 0.7) == "near" and f.mastery_tone(0.5949, 0.7) == "gap"
    assert f.mastery_tone(None, 0.7, graded=2) == "gap" and f.mastery_tone(0.9, 0.7, graded=0) == "none"


def test_the_formatting_module_needs_neither_pandas_nor_jinja() -> None:
    import subprocess
    import sys

    code = ("import sys, spm_training.formatting; "
            "print(sorted(m for m in ('pandas', 'jinja2', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
