"""Every command describes itself, is documented in the README or the book, and the README's command
table names every option, choice and argument of every command, and none it does not have."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from spm_training.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(all_commands(command, path))
    return found


def documentation() -> str:
    parts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "book").rglob("*.md"))]
    return "\n".join(parts)


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: cli {' '.join(path)}")
    described = result.output.split("\n\n", 2)[1].strip()
    assert described and not described.startswith("Options:"), f"spm {' '.join(path)} has no description"


@pytest.mark.parametrize("path", [p for p in all_commands() if not isinstance(
    cli.get_command(None, p[0]), click.Group) or len(p) > 1], ids=" ".join)
def test_command_is_documented(path: tuple[str, ...]) -> None:
    assert f"spm {' '.join(path)}" in documentation(), f"`spm {' '.join(path)}` is in neither README.md nor book/"


def test_unknown_command_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["nonsense"])
    assert result.exit_code == 2
    assert "No such command 'nonsense'" in result.output


# --- the README's command table against each command's options and arguments ------------------
#
# Each leaf command has one row in the table under "## The `spm` command"; its first cell is the
# command's usage in one code span, e.g. `spm kpis import FILE.csv [--format auto\|long\|wide]`:
#   - every option of the command (but --help) is in its row, by its long name (a short alias such
#     as -o may stand beside it: `[-o\|--output FILE]`); hidden options may be left out;
#   - every option the row names exists on the command (the global options are the root's, and are
#     listed once, on the "Global options ..." line under the table);
#   - an option that takes a value is followed by one (a metavar, or its click.Choice alternatives,
#     all of them: `--format table\|csv\|json`), a flag by none; `...` marks an option given
#     repeatedly (multiple=True); optional options are in brackets, required ones not;
#   - the positional arguments are named in order: by name or metavar (FILE may be written FILE.csv),
#     or by their click.Choice alternatives (`reps\|kpis\|...`).

README = ROOT / "README.md"
SECTION = "## The `spm` command"
TOKEN = re.compile(r"\[|\]|\||[^\s\[\]|]+")


@dataclass
class Use:
    """One option or positional as the README row writes it."""

    words: list[str]  # an option's flag(s) or a positional's alternatives
    values: list[str] = field(default_factory=list)  # an option's metavar or choices
    repeated: bool = False
    bracketed: bool = False


@dataclass
class Row:
    line: int
    path: tuple[str, ...]
    text: str
    options: list[Use]
    positionals: list[Use]
    problems: list[str]

    @property
    def where(self) -> str:
        return f"README.md line {self.line}, row `spm {' '.join(self.path)}`"


def _is_flag(word: str) -> bool:
    return len(word) > 1 and word.startswith("-") and word != "..."


def parse_usage(text: str) -> tuple[list[Use], list[Use], list[str]]:
    """The options and positionals of one usage string (what follows `spm <command>`)."""
    tokens = TOKEN.findall(text)
    options: list[Use] = []
    positionals: list[Use] = []
    problems: list[str] = []
    depth, i = 0, 0

    def word_at(j: int) -> str | None:
        return tokens[j] if j < len(tokens) and tokens[j] not in ("[", "]", "|") else None

    while i < len(tokens):
        token = tokens[i]
        if token == "[":
            depth += 1
        elif token == "]":
            depth -= 1
            if depth < 0:
                problems.append(f"unbalanced ']' in `{text}`")
                depth = 0
        elif token == "|" or token == "...":
            pass
        else:
            use = Use([token], bracketed=depth > 0)
            # an option's value, or a positional's further alternatives: words joined by '|'
            if _is_flag(token):
                nxt = word_at(i + 1)
                if nxt is not None and not _is_flag(nxt) and nxt != "...":
                    use.values.append(nxt)
                    i += 1
                alternatives = use.values
            else:
                alternatives = use.words
            if alternatives:
                while (i + 2 < len(tokens) and tokens[i + 1] == "|" and word_at(i + 2) is not None
                       and not _is_flag(tokens[i + 2]) and tokens[i + 2] != "..."):
                    alternatives.append(tokens[i + 2])
                    i += 2
            if word_at(i + 1) == "...":
                use.repeated = True
                i += 1
            (options if _is_flag(token) else positionals).append(use)
        i += 1
    if depth:
        problems.append(f"unbalanced '[' in `{text}`")
    return options, positionals, problems


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def command_section(text: str) -> list[tuple[int, str]]:
    """The numbered lines of the README section on the `spm` command."""
    lines = text.splitlines()
    assert SECTION in lines, f"README.md has no section {SECTION!r}"
    start = lines.index(SECTION)
    section = []
    for number, line in enumerate(lines[start + 1:], start + 2):
        if line.startswith("## "):
            break
        section.append((number, line))
    return section


def command_table(text: str) -> tuple[list[Row], list[str]]:
    """The rows of the command table, each resolved to a command path, and the problems found."""
    rows: list[Row] = []
    problems: list[str] = []
    for number, line in command_section(text):
        if not line.startswith("|") or re.fullmatch(r"\|[\s|:-]*", line.strip()):
            continue
        first = _cells(line)[0]
        if first == "command":
            continue
        match = re.fullmatch(r"`([^`]*)`", first)
        if not match or not match.group(1).startswith("spm "):
            problems.append(f"README.md line {number}: the first cell should be one code span "
                            f"`spm <command> ...`, is {first!r}")
            continue
        usage = match.group(1).replace("\\|", "|")
        words = usage.split()[1:]
        command: click.Command = cli
        path: list[str] = []
        while isinstance(command, click.Group) and words and words[0] in command.commands:
            path.append(words[0])
            command = command.commands[words.pop(0)]
        rest = usage.split(maxsplit=len(path) + 1)[len(path) + 1:]
        if not path or isinstance(command, click.Group):
            problems.append(f"README.md line {number}: `{usage}` names no command of spm "
                            f"(commands: {', '.join(' '.join(p) for p in leaf_commands())})")
            continue
        options, positionals, usage_problems = parse_usage(rest[0] if rest else "")
        rows.append(Row(number, tuple(path), usage, options, positionals, usage_problems))
    return rows, problems


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def leaf_commands() -> list[tuple[str, ...]]:
    return [path for path in all_commands() if not isinstance(command_at(path), click.Group)]


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and "--help" not in p.opts]


def _names(option: click.Option) -> list[str]:
    return [*option.opts, *option.secondary_opts]


def _long_name(option: click.Option) -> str:
    return next((name for name in option.opts if name.startswith("--")), option.opts[0])


def _choices(param: click.Parameter) -> list[str] | None:
    return [str(c) for c in param.type.choices] if isinstance(param.type, click.Choice) else None


def _alternatives(words: list[str]) -> str:
    return "\\|".join(words)


def option_problems(where: str, command: str, options: list[click.Option], uses: list[Use],
                    *, brackets: bool = True, foreign: dict[str, str] | None = None) -> list[str]:
    """What the row gets wrong about the options of `command` (`uses` are the row's options)."""
    problems = []
    by_name = {name: option for option in options for name in _names(option)}
    used: dict[str, list[Use]] = {}
    for use in uses:
        flag = use.words[0]
        if flag in by_name:
            used.setdefault(_long_name(by_name[flag]), []).append(use)
        elif flag in (foreign or {}):
            problems.append(f"{where}: names {flag}, which is {foreign[flag]}, not an option of `{command}`")
        else:
            known = ", ".join(_long_name(o) for o in options) or "none"
            problems.append(f"{where}: names {flag}, which `{command}` does not have (its options: {known})")
    for option in options:
        name = _long_name(option)
        mine = used.get(name, [])
        if not mine:
            if not option.hidden:
                problems.append(f"{where}: option {name} of `{command}` is missing")
            continue
        if name not in [use.words[0] for use in mine]:
            short = ", ".join(use.words[0] for use in mine)
            problems.append(f"{where}: option {name} is named only by its short alias {short}; "
                            f"write the long name too, e.g. `{short}\\|{name}`")
        values = [value for use in mine for value in use.values]
        takes_value = not (option.is_flag or option.count)
        if not takes_value and values:
            problems.append(f"{where}: {name} is a flag and takes no value, but the row gives it "
                            f"`{_alternatives(values)}`")
        if takes_value and not values:
            example = _alternatives(_choices(option) or [option.metavar or option.name.upper()])
            problems.append(f"{where}: {name} takes a value, but the row gives it none: write `{name} {example}`")
        choices = _choices(option)
        if choices is not None and values and sorted(set(values)) != sorted(choices):
            missing = [c for c in choices if c not in values]
            extra = [v for v in values if v not in choices]
            problems.append(f"{where}: {name} is `{_alternatives(values)}` but its choices are "
                            f"`{_alternatives(choices)}`"
                            + (f"; missing: {', '.join(missing)}" if missing else "")
                            + (f"; not a choice: {', '.join(extra)}" if extra else ""))
        if option.multiple and not any(use.repeated for use in mine):
            problems.append(f"{where}: {name} can be given several times: write `{name} "
                            f"{_alternatives(values) or 'VALUE'} ...`")
        if not option.multiple and any(use.repeated for use in mine):
            problems.append(f"{where}: {name} is given once at most, but the row marks it `...`")
        if brackets and not option.required and not all(use.bracketed for use in mine):
            problems.append(f"{where}: {name} is optional: write it in brackets, `[{name} ...]`")
        if brackets and option.required and any(use.bracketed for use in mine):
            problems.append(f"{where}: {name} is required: write it without brackets")
    return problems


def argument_problems(where: str, command: str, arguments: list[click.Argument], uses: list[Use]) -> list[str]:
    """What the row gets wrong about the positional arguments of `command`, in order."""
    problems = []
    for index, argument in enumerate(arguments):
        name = argument.metavar or argument.name.upper()
        choices = _choices(argument)
        expected = f"`{_alternatives(choices)}`" if choices else name
        if index >= len(uses):
            problems.append(f"{where}: argument {expected} of `{command}` is missing")
            continue
        use = uses[index]
        written = _alternatives(use.words)
        if choices is not None:
            if sorted(set(use.words)) != sorted(choices):
                missing = [c for c in choices if c not in use.words]
                extra = [w for w in use.words if w not in choices]
                problems.append(f"{where}: argument {index + 1} is `{written}` but its choices are {expected}"
                                + (f"; missing: {', '.join(missing)}" if missing else "")
                                + (f"; not a choice: {', '.join(extra)}" if extra else ""))
        elif len(use.words) != 1 or use.words[0] not in (name, argument.name.upper()) and \
                use.words[0].split(".")[0] != argument.name.upper():
            problems.append(f"{where}: argument {index + 1} of `{command}` is {name}, the row has `{written}`")
        many = argument.nargs == -1 or argument.nargs > 1
        if many != use.repeated:
            problems.append(f"{where}: argument {name} takes {'several values: add' if many else 'one value: drop'}"
                            " `...`")
        if argument.required == use.bracketed:
            problems.append(f"{where}: argument {name} is {'required: drop' if argument.required else 'optional: add'}"
                            " the brackets")
    for use in uses[len(arguments):]:
        problems.append(f"{where}: names `{_alternatives(use.words)}`, but `{command}` takes only "
                        f"{len(arguments)} argument(s): {', '.join(a.name.upper() for a in arguments) or 'none'}")
    return problems


def global_options() -> dict[str, str]:
    return {name: "a global option (`spm --db PATH <command>`)" for option in _options(cli) for name in _names(option)}


def row_problems(row: Row) -> list[str]:
    command = command_at(row.path)
    label = f"spm {' '.join(row.path)}"
    problems = [f"{row.where}: {problem}" for problem in row.problems]
    problems += option_problems(row.where, label, _options(command), row.options, foreign=global_options())
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    problems += argument_problems(row.where, label, arguments, row.positionals)
    return problems


def global_line_problems(text: str) -> list[str]:
    """The line "Global options: `--db PATH`, ..." under the table against the root's options."""
    lines = [(number, line) for number, line in command_section(text) if line.startswith("Global options")]
    if len(lines) != 1:
        return [f"README.md, section {SECTION!r}: expected one line 'Global options ...: `--db PATH`, ...', found {len(lines)}"]
    number, line = lines[0]
    where = f"README.md line {number} (Global options)"
    uses, problems = [], []
    for span in re.findall(r"`([^`]*)`", line):
        options, _, span_problems = parse_usage(span.replace("\\|", "|"))
        uses += [use for use in options if use.words[0] not in ("-h", "--help")]
        problems += [f"{where}: {problem}" for problem in span_problems]
    return problems + option_problems(where, "spm", _options(cli), uses, brackets=False)


def table_problems(text: str) -> list[str]:
    """Everything the README's command section gets wrong about the commands' options and arguments."""
    rows, problems = command_table(text)
    for path in leaf_commands():
        mine = [row for row in rows if row.path == path]
        if not mine:
            problems.append(f"README.md, section {SECTION!r}: the command table has no row for `spm {' '.join(path)}`")
        elif len(mine) > 1:
            problems.append(f"README.md lines {', '.join(str(r.line) for r in mine)}: more than one row for "
                            f"`spm {' '.join(path)}`")
        for row in mine:
            problems += row_problems(row)
    return problems + global_line_problems(text)


def readme() -> str:
    return README.read_text(encoding="utf-8")


def test_table_rows_name_commands() -> None:
    _, problems = command_table(readme())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", leaf_commands(), ids=" ".join)
def test_table_row_matches_help(path: tuple[str, ...]) -> None:
    rows = [row for row in command_table(readme())[0] if row.path == path]
    assert rows, f"README.md, section {SECTION!r}: the command table has no row for `spm {' '.join(path)}`"
    assert len(rows) == 1, f"README.md lines {', '.join(str(r.line) for r in rows)}: several rows for `spm {' '.join(path)}`"
    problems = row_problems(rows[0])
    assert not problems, "\n".join(problems)


def test_global_options_line_matches_help() -> None:
    problems = global_line_problems(readme())
    assert not problems, "\n".join(problems)


# The check itself can fail: each README below, the real one with one mistake, is caught and named.
MISTAKES = {
    "option missing": ("`spm roster import FILE.csv [--gradebook URL]`", "`spm roster import FILE.csv`",
                       "row `spm roster import`: option --gradebook of `spm roster import` is missing"),
    "stale option": ("`spm kpis check`", "`spm kpis check [--strict]`",
                     "row `spm kpis check`: names --strict, which `spm kpis check` does not have"),
    "global option in a row": ("`spm kpis check`", "`spm kpis check [--db PATH]`",
                               "row `spm kpis check`: names --db, which is a global option"),
    "choice missing": ("[--format auto\\|long\\|wide]", "[--format auto\\|long]",
                       ("row `spm kpis import`: --format is `auto\\|long` but its choices are "
                        "`auto\\|long\\|wide`; missing: wide")),
    "argument missing": ("`spm kpis import FILE.csv [", "`spm kpis import [",
                         "row `spm kpis import`: argument FILE of `spm kpis import` is missing"),
    "argument choice stale": ("`spm export reps\\|kpis\\|", "`spm export reps\\|targets\\|kpis\\|",
                              "row `spm export`: argument 1 is `reps\\|targets\\|"),
    "short alias only": ("[-o\\|--output FILE]", "[-o FILE]",
                         "row `spm export`: option --output is named only by its short alias -o"),
    "flag given a value": ("[--no-book]", "[--no-book BOOL]",
                           "row `spm demo`: --no-book is a flag and takes no value"),
    "value left out": ("[--seed N]", "[--seed]", "row `spm demo`: --seed takes a value, but the row gives it none"),
    "repeat mark left out": ("[--student ID ...]", "[--student ID]",
                             "row `spm grade`: --student can be given several times"),
    "row missing": ("| `spm sync [--gradebook URL]` |", "| `spm synchronise [--gradebook URL]` |",
                    "the command table has no row for `spm sync`"),
    "global option missing": ("`--course DIR` (default", "the course folder (default",
                              "(Global options): option --course of `spm` is missing"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_table_check_catches(mistake: str) -> None:
    correct, wrong, message = MISTAKES[mistake]
    text = readme()
    assert correct in text, f"README.md no longer has {correct!r}: update MISTAKES[{mistake!r}] in this test"
    before = table_problems(text)
    problems = [problem for problem in table_problems(text.replace(correct, wrong, 1)) if problem not in before]
    assert any(message in problem for problem in problems), \
        f"README.md with {wrong!r} instead of {correct!r}: expected a new problem saying {message!r}, got {problems}"
