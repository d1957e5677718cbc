"""The knowledge-check format: parse a directive body (YAML) into questions and report every problem.

Kept free of Sphinx so the rules can be tested, and reused by the book's structure tests, on their own.
Line numbers in problems count from 1 at the first line of the body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from ..yamlio import LINE, error_position, parse_yaml

QUESTION_FIELDS = ("question", "options")
OPTION_FIELDS = ("text", "correct", "why")


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    why: str
    line: int


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[Option, ...]
    line: int

    @property
    def correct_index(self) -> int:
        return next(i for i, option in enumerate(self.options) if option.correct)


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _string(value: Any) -> str:
    # YAML turns some bare words into numbers or dates; the author meant text, so keep it as text.
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _unknown_fields(entry: dict, allowed: tuple[str, ...]) -> list[str]:
    return [str(key) for key in entry if key != LINE and key not in allowed]


def _parse_option(entry: Any, where: str, line: int, problems: list[Problem]) -> Option | None:
    if not isinstance(entry, dict):
        problems.append(Problem(line, f"{where} must be a mapping with 'text', 'why' and optionally "
                                      "'correct: true'"))
        return None
    line = entry[LINE]
    ok = True
    for key in _unknown_fields(entry, OPTION_FIELDS):
        problems.append(Problem(line, f"{where} has an unknown field '{key}'; use text, correct and why"))
        ok = False
    text = _string(entry.get("text"))
    if not text:
        problems.append(Problem(line, f"{where} has no 'text'; add the answer the learner can choose"))
        ok = False
    why = _string(entry.get("why"))
    if not why:
        problems.append(Problem(line, f"{where} has no 'why' feedback; add a 'why:' that explains why "
                                      "this answer is right or wrong"))
        ok = False
    correct = entry.get("correct", False)
    if not isinstance(correct, bool):
        problems.append(Problem(line, f"{where} has 'correct: {correct}'; use 'correct: true' on the right "
                                      "answer and leave it out elsewhere"))
        ok = False
    return Option(text=text, correct=correct, why=why, line=line) if ok else None


def _parse_question(entry: Any, number: int, problems: list[Problem]) -> Question | None:
    where = f"question {number}"
    if not isinstance(entry, dict):
        problems.append(Problem(1, f"{where} must be a mapping that starts with '- question:'"))
        return None
    line = entry[LINE]
    ok = True
    for key in _unknown_fields(entry, QUESTION_FIELDS):
        problems.append(Problem(line, f"{where} has an unknown field '{key}'; use question and options"))
        ok = False
    text = _string(entry.get("question"))
    if text:
        where = f"question {number} ('{_short(text)}')"
    else:
        problems.append(Problem(line, f"{where} has no 'question' text"))
        ok = False
    raw_options = entry.get("options")
    if not isinstance(raw_options, list) or len(raw_options) < 2:
        problems.append(Problem(line, f"{where} needs an 'options' list with at least two answers"))
        return None
    options = [_parse_option(raw, f"{where}, option {i}", line, problems)
               for i, raw in enumerate(raw_options, start=1)]
    marked = sum(1 for raw in raw_options if isinstance(raw, dict) and raw.get("correct") is True)
    if marked != 1:
        problems.append(Problem(line, f"{where} has {marked} options marked 'correct: true'; mark exactly one"))
        ok = False
    if not ok or any(option is None for option in options):
        return None
    return Question(text=text, options=tuple(o for o in options if o is not None), line=line)


def parse_knowledge_check(body: str) -> tuple[list[Question], list[Problem]]:
    """The questions of a knowledge-check body, and every problem found (empty when it is valid).

    A question is returned only when it is entirely valid, so a renderer never shows half a question.
    """
    try:
        data = parse_yaml(body)
    except yaml.MarkedYAMLError as exc:
        line, column = error_position(exc)
        return [], [Problem(line or 1, f"YAML syntax error{column}: {exc.problem}; check the indentation, "
                                       "and quote text that contains a colon followed by a space")]
    except yaml.YAMLError as exc:
        return [], [Problem(1, f"YAML error: {exc}")]
    if data is None:
        return [], [Problem(1, "the knowledge check is empty; add a YAML list of questions")]
    if not isinstance(data, list):
        return [], [Problem(1, "the body must be a YAML list of questions, each starting with '- question:'")]
    problems: list[Problem] = []
    questions = [_parse_question(entry, n, problems) for n, entry in enumerate(data, start=1)]
    return [q for q in questions if q is not None], problems
