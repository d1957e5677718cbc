"""Write the course's source notebooks and their data files.

The notebooks in ``source/<assignment>/`` are this script's output and are committed as such, so
that every change to an assignment is reviewed as Python in ``coursebuild/``. The output is
deterministic (fixed seeds, fixed cell ids, sorted JSON keys): running the script on an unchanged
checkout rewrites every file byte for byte, which ``tests/test_course.py`` checks.

    python assessments/build_course.py              # rewrite source/
    python assessments/build_course.py --check      # exit 1 if source/ differs from the output
    python assessments/build_course.py --out DIR    # write DIR/<assignment>/... instead
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script from anywhere, or imported by the tests
    sys.path.insert(0, str(HERE))

from coursebuild import ASSIGNMENTS  # noqa: E402
from coursebuild.cells import AnswerKey, known_skills, notebook_bytes  # noqa: E402
from coursebuild.data import MAX_DATA_BYTES, Built  # noqa: E402


def build_all(skills_file: Path = HERE / "skills.yml") -> list[Built]:
    """Every assignment, in course order."""
    skills = known_skills(skills_file)
    return [module.build(skills) for module in ASSIGNMENTS]


def rendered(built: list[Built]) -> dict[Path, bytes]:
    """The files of the course, relative to the source folder."""
    files: dict[Path, bytes] = {}
    for assignment in built:
        folder = Path(assignment.name)
        files[folder / f"{assignment.name}.ipynb"] = notebook_bytes(assignment.notebook)
        for name, text in assignment.data.items():
            data = text.encode("utf-8")
            if len(data) > MAX_DATA_BYTES:
                raise ValueError(f"{folder / name}: {len(data)} bytes, over the {MAX_DATA_BYTES} limit")
            files[folder / name] = data
    return files


def answer_keys(built: list[Built] | None = None) -> list[AnswerKey]:
    """The multiple-choice and classification answers that the release must not reveal."""
    return [key for assignment in (built or build_all()) for key in assignment.answer_keys]


def write(files: dict[Path, bytes], out: Path) -> None:
    for relative, data in sorted(files.items()):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)


def differences(files: dict[Path, bytes], out: Path) -> list[str]:
    """Files that are missing or differ under ``out``, and files there that the script does not make."""
    problems = [str(rel) for rel, data in sorted(files.items())
                if not (out / rel).is_file() or (out / rel).read_bytes() != data]
    made = {out / rel for rel in files}
    for folder in {out / rel.parts[0] for rel in files}:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path not in made and ".ipynb_checkpoints" not in path.parts:
                problems.append(f"{path.relative_to(out)} (not made by the generator)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "source", help="folder to write (default: source/)")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = parser.parse_args(argv)
    files = rendered(build_all())
    if args.check:
        problems = differences(files, args.out)
        for problem in problems:
            print(f"differs: {problem}", file=sys.stderr)
        if problems:
            print("Run python assessments/build_course.py and commit the result.", file=sys.stderr)
        return 1 if problems else 0
    write(files, args.out)
    print(f"wrote {len(files)} files for {len({p.parts[0] for p in files})} assignments to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
