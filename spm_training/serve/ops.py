"""What sales ops do through the service: upload a roster, a KPI file or a CRM export, and sync.

Each runs the same import function as the CLI, in one transaction: a refused file leaves the store as
it was, and its one-line error is shown on the page. An upload is written to a private temporary
file that keeps only the suffix of the name it was sent with (the name itself is never used as a
path), imported, and removed. One write runs at a time.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, SpmError, StoreError

if TYPE_CHECKING:
    from ..project import Project
    from ..store import Store
    from .app import Service

#: What can be uploaded, and what each is called on the page.
KINDS = {"roster": "Roster", "kpis": "KPI file", "crm": "CRM export (opportunities)"}
KPI_FORMATS = ("auto", "long", "wide")
CRM_PERIODS = ("quarter", "month")

_writing = threading.Lock()


@dataclass(frozen=True)
class Upload:
    """A file as the browser sent it: the name it had (shown, never used as a path) and its bytes."""

    filename: str
    body: bytes


def shown_name(filename: str) -> str:
    """The uploaded file's base name as the page shows it (no folders)."""
    name = re.split(r"[\\/]", filename or "")[-1].strip()
    return name[:120] or "the uploaded file"


def safe_suffix(filename: str) -> str:
    """The suffix of the uploaded name (``.csv``), if it is a plain one; else none."""
    suffix = Path(shown_name(filename)).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def run_import(service: Service, kind: str, files: dict[str, Upload], *, kpi_format: str = "auto",
               period: str = "quarter", preset: str = "generic") -> list[str]:
    """Import ``files["file"]`` (and, for a CRM export, the optional ``files["activities"]``) as
    ``kind``; the lines the CLI would print. SpmError in one line, naming the uploaded file."""
    project = service.project
    if kind not in KINDS:
        raise InputError("upload", f"unknown kind of file '{kind}'", fix=f"choose one of {', '.join(KINDS)}")
    main = files.get("file")
    if main is None or not main.body:
        raise InputError("upload", "no file was sent, or it is empty", fix="choose a CSV file to upload")
    with tempfile.TemporaryDirectory(prefix="spm-upload-") as tmp:
        paths, names = {}, {}
        for field, upload in files.items():
            path = Path(tmp) / f"{field}{safe_suffix(upload.filename)}"
            path.write_bytes(upload.body)
            paths[field], names[str(path)] = path, shown_name(upload.filename)
        try:
            with _writing, project.open_store(create=kind == "roster") as store:
                return _import(project, store, kind, paths, kpi_format, period, preset, names)
        except SpmError as exc:
            text = str(exc)
            for temporary, name in names.items():
                text = text.replace(temporary, name)
            raise (StoreError(text) if isinstance(exc, StoreError) else Refused(text)) from None


class Refused(SpmError):
    """An import's one-line error, with the uploaded file's name in place of the temporary path."""


def _import(project: Project, store: Store, kind: str, paths: dict[str, Path], kpi_format: str, period: str,
            preset: str, names: dict[str, str]) -> list[str]:
    main = paths["file"]
    shown = names[str(main)]
    if kind == "roster":
        from ..ingest.roster import import_roster

        r = import_roster(store, main, project.gradebook_url(), window=project.date_window)
        lines = [f"{shown}: {r.reps_added} reps added, {r.reps_updated} updated, {r.reps_unchanged} unchanged, "
                 f"{r.teams} teams"]
        lines += [f"team {team}: manager changed from {before} to {now}" for team, before, now in r.managers_changed]
        return lines
    if kind == "kpis":
        from ..ingest.kpis import import_kpis

        if kpi_format not in KPI_FORMATS:
            raise InputError("upload", f"unknown KPI file format '{kpi_format}'", fix="choose auto, long or wide")
        k = import_kpis(store, main, project.kpis, kpi_format, window=project.date_window)
        return [f"{shown}: {k.rows} values: {k.inserted} new, {k.updated} updated, {k.unchanged} unchanged"]
    from ..cli.crm import summary
    from ..ingest.crm import import_crm, load_mapping

    if period not in CRM_PERIODS:
        raise InputError("upload", f"unknown period '{period}'", fix="choose quarter or month")
    result = import_crm(store, main, project.kpis, activities=paths.get("activities"), period_kind=period,
                        mapping=load_mapping(preset), window=project.date_window)
    return summary(shown, result)


def sync(service: Service) -> list[str]:
    """Sync the store from the course's gradebook, as ``spm sync`` does; the lines it prints."""
    from ..ingest.sync import summary_lines, sync_gradebook

    project = service.project
    skills = project.skills if project.has_skills else {}
    with _writing, project.open_store() as store:
        result = sync_gradebook(store, project.gradebook_url(), project.course_dir, skills, project.kpis)
    return summary_lines(result, no_catalog=None if project.has_skills else project.skills_path)


async def sync_now(service: Service) -> list[str]:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(service.executor, sync, service)
