"""The platform on a real JupyterHub: deploy/ on this machine, driven as trainers and reps would.

A hub on 127.0.0.1 with configurable-http-proxy, local Unix users (two trainers, three reps with
their own JupyterLab servers, and simulated reps who work from the command line), nbgrader's exchange
and a PostgreSQL gradebook. The trainer releases through formgrader; each rep fetches, answers and
submits through nbgrader's assignment-list endpoints (what the JupyterLab extension calls); the trainer
collects, runs ``spm grade`` and ``spm sync`` in a JupyterLab terminal. Then: what reps cannot read
or reach, reps submitting at the same moment, and two trainers grading at once.

Needs root (it creates the users), JupyterHub, configurable-http-proxy (scripts/test.sh installs it
with npm) and PostgreSQL's server binaries; skipped with the reason otherwise. The 50-rep version of
the load checks is benchmarks/hub_load.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

pytest.importorskip("jupyterhub", reason="JupyterHub is not installed (pip install -e '.[test]')")

from hub import answers, flows  # noqa: E402
from hub.book import PAGE  # noqa: E402
from hub.deployment import (  # noqa: E402
    CLOSERS,
    COURSE,
    GARDENERS,
    OTHER_COURSE,
    TRAINERS_GROUP,
    Deployment,
    deployed,
    spm_hub,
    why_unavailable,
)
from hub.hub import HubError, User  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REPS = 3
SIMULTANEOUS = 4   # the test's share of the load (benchmarks/hub_load.py runs 50): reps submitting at once


# --- the hub's own logic, without a hub ---------------------------------------------------------

def test_hub_mirrors_only_the_trainers_and_course_groups() -> None:
    hub_module = spm_hub()
    groups = {"users", "sudo", "trainers", "nbgrader-q3", "formgrade-q4", "nbgraders"}
    assert hub_module.hub_groups(groups, "trainers") == ["formgrade-q4", "nbgrader-q3", "trainers"]
    assert hub_module.courses_trained(["formgrade-q4", "formgrade-a", "nbgrader-q3"]) == ["a", "q4"]
    assert hub_module.courses_enrolled(["formgrade-q4", "nbgrader-q3"]) == ["q3"]


def test_a_trainer_grades_the_course_chosen_and_only_one_they_train() -> None:
    hub_module = spm_hub()
    groups = ["trainers", "formgrade-q4", "formgrade-q3"]
    assert hub_module.choose_course(groups, None) == "q3"
    assert hub_module.choose_course(groups, "q4") == "q4"
    assert hub_module.choose_course(["trainers"], None) is None
    with pytest.raises(ValueError, match=r"you do not train the course 'q5'; your courses: q3, q4"):
        hub_module.choose_course(groups, "q5")


def test_servers_get_the_config_of_their_role() -> None:
    hub_module = spm_hub()
    layout = hub_module.SpmHub(exchange_root="/x", courses_root="/c", trainers_group="trainers",
                               jupyter_config_dir="/j", user_environment="/opt/spm/venv")
    trainer = hub_module.server_environment(["trainers", "formgrade-q3"], layout, "q3", "/opt/spm/venv")
    rep = hub_module.server_environment(["nbgrader-q3"], layout, None, "/opt/spm/venv")
    assert trainer == {"JUPYTER_CONFIG_PATH": "/j/trainer:/j/common", "SPM_EXCHANGE": "/x",
                       "PATH": "/opt/spm/venv/bin:/usr/local/bin:/usr/bin:/bin", "SPM_COURSE": "q3",
                       "SPM_DB": "/c/q3/spm.db"}
    assert rep == {"JUPYTER_CONFIG_PATH": "/j/rep:/j/common", "SPM_EXCHANGE": "/x",
                   "PATH": "/opt/spm/venv/bin:/usr/local/bin:/usr/bin:/bin"}


def test_the_course_form_is_shown_only_to_a_trainer_of_several_courses() -> None:
    hub_module = spm_hub()
    assert hub_module._course_from_form({"course": ["q4"]}) == {"course": "q4"}
    assert hub_module._course_from_form({}) == {}


def test_the_authenticator_admits_trainers_and_enrolled_reps_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from types import SimpleNamespace

    auth = spm_hub().SystemGroupsAuthenticator()
    assert (auth.manage_groups, auth.refresh_pre_spawn) == (True, True)
    assert auth.check_allowed("ann", {"name": "ann", "groups": ["nbgrader-q3"]}) is True
    assert auth.check_allowed("bob", {"name": "bob", "groups": []}) is False
    monkeypatch.setattr(auth, "groups_of", lambda name: ["trainers"])
    assert asyncio.run(auth.refresh_user(SimpleNamespace(name="ann"))) == {"name": "ann", "groups": ["trainers"]}
    monkeypatch.setattr(auth, "groups_of", lambda name: [])   # taken out of every group: logged out
    assert asyncio.run(auth.refresh_user(SimpleNamespace(name="ann"))) is False


def test_the_ops_group_is_mirrored_and_only_trainers_and_enrolled_reps_get_a_server() -> None:
    hub_module = spm_hub()
    groups = {"users", "spm-ops", "nbgrader-q3", "other"}
    assert hub_module.hub_groups(groups, "trainers", ("spm-ops",)) == ["nbgrader-q3", "spm-ops"]
    assert hub_module.hub_groups(groups, "trainers") == ["nbgrader-q3"]
    may = hub_module.may_run_server
    assert (may(["trainers"], "trainers"), may(["nbgrader-q3"], "trainers"), may(["formgrade-q3"], "trainers")) == (
        True, True, False)
    assert (may(["spm-managers"], "trainers"), may(["spm-ops"], "trainers"), may([], "trainers")) == (
        False, False, False)
    assert may(["spm-managers", "nbgrader-q3"], "trainers") is True   # a manager who also takes the course


ROSTER = """\
id,name,email,team,manager,role,hire_date,login,manager_login,left_on
ann,Ann Lee,ann@example.com,Closers,Casey Closer,AE,2026-01-05,ann.lee,casey,
bob,Bob Ray,bob@example.com,Closers,Casey Closer,SDR,2026-02-01,,casey,2026-06-30
cy,Cy Oh,cy@example.com,Gardeners,Gale Gardener,AM,2025-11-20,,,2026-12-31
"""
PLAYER_COACH = ("id,name,email,team,manager,role,hire_date,manager_login\n"
                "dee,Dee Fox,dee@example.com,Hunters,Ann Lee,SDR,2026-03-01,ann.lee\n")


def course_with_roster(courses: Path, course: str, roster: str) -> Path:
    from spm_training import import_roster, open_store

    folder = courses / course
    folder.mkdir(parents=True)
    (folder / "roster.csv").write_text(roster)
    with open_store(folder / "spm.db") as store:
        import_roster(store, folder / "roster.csv")
    return folder / "spm.db"


def test_the_rosters_name_managers_and_reps_who_have_not_left(tmp_path: Path) -> None:
    """Read from every course's store: a broken one is skipped with one line, a course without one is
    passed over, and a rep who left (on or before today) is no longer a rep."""
    from datetime import date

    hub_module = spm_hub()
    courses = tmp_path / "courses"
    course_with_roster(courses, "q3", ROSTER)
    course_with_roster(courses, "q4", PLAYER_COACH)
    (courses / "new").mkdir()                                   # add-course.sh made it; no roster yet
    (courses / "new" / "spm.db").touch()
    (courses / "broken").mkdir()
    (courses / "broken" / "spm.db").write_bytes(b"not a database at all, just some bytes" * 50)
    logged: list[str] = []
    found = hub_module.roster_logins(str(courses), logged.append, today=date(2026, 12, 2))
    assert found == {"ann.lee": {"rep", "manager"}, "casey": {"manager"}, "cy": {"rep"}, "dee": {"rep"}}
    assert [line.split(":", 2)[:2] for line in logged] == [["spm", " the roster of course broken was not read"]]
    assert "cy" not in hub_module.roster_logins(str(courses), today=date(2026, 12, 31))
    assert hub_module.roster_logins(str(tmp_path / "nowhere")) == {}


def test_the_authenticator_admits_the_managers_and_reps_a_roster_names(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from types import SimpleNamespace

    from traitlets.config import Config

    hub_module = spm_hub()
    courses = tmp_path / "courses"
    course_with_roster(courses, "q3", ROSTER)
    course_with_roster(courses, "q4", PLAYER_COACH)      # ann.lee, a rep of q3, manages a team of q4
    config = Config()
    config.SpmHub.courses_root = str(courses)
    auth = hub_module.SystemGroupsAuthenticator(config=config)
    unix = {"casey": set(), "ann.lee": {"nbgrader-q3", "users"}, "cy": set(), "bob": set(), "eve": set(),
            "olga": {"spm-ops"}}
    monkeypatch.setattr(hub_module, "system_groups", lambda name: unix[name])

    def refreshed(name: str) -> object:
        return asyncio.run(auth.refresh_user(SimpleNamespace(name=name)))

    assert refreshed("casey") == {"name": "casey", "groups": ["spm-managers"]}
    assert refreshed("ann.lee") == {"name": "ann.lee", "groups": ["nbgrader-q3", "spm-managers"]}
    assert refreshed("cy") == {"name": "cy", "groups": []}          # a rep in the roster, in no course group
    assert refreshed("olga") == {"name": "olga", "groups": ["spm-ops"]}
    assert refreshed("bob") is False                                # left on 2026-06-30
    assert refreshed("eve") is False                                # in no group and no roster
    assert auth.check_allowed("eve", {"name": "eve", "groups": []}) is False


def test_a_manager_gets_no_server_and_lands_on_the_service() -> None:
    import asyncio
    from types import SimpleNamespace

    from traitlets.config import Config

    hub_module = spm_hub()
    config = Config()
    config.SpmHub.trainers_group = "trainers"

    def handler(groups: list[str] | None) -> SimpleNamespace:
        user = None if groups is None else SimpleNamespace(groups=[SimpleNamespace(name=g) for g in groups])
        return SimpleNamespace(current_user=user, settings={"config": config}, base_url="/")

    assert hub_module.default_url(handler(["spm-managers"])) == "/services/spm/"
    assert hub_module.default_url(handler(["spm-ops"])) == "/services/spm/"
    assert hub_module.default_url(handler(["nbgrader-q3"])) == ""       # JupyterHub's default: their server
    assert hub_module.default_url(handler(None)) == ""
    spawner = hub_module.CourseSpawner(config=config)
    spawner.user = SimpleNamespace(name="casey", groups=[SimpleNamespace(name="spm-managers")])
    spawner.hub = SimpleNamespace(base_url="/hub/")
    with pytest.raises(Exception) as refused:
        asyncio.run(spawner.start())
    assert refused.value.status_code == 403
    assert refused.value.jupyterhub_message == (
        "casey has no JupyterLab server on this hub: managers and sales operations use the spm service at "
        "/services/spm/. Ask an admin to add you to a course group if you take a course.")


def test_the_hub_config_registers_the_spm_service_with_its_scopes_and_roles() -> None:
    from traitlets.config.loader import PyFileConfigLoader

    hub_module = spm_hub()
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT / "deploy")).load_config()
    env = config.SpmHub.user_environment
    assert config.JupyterHub.services == [{
        "name": "spm",
        "url": "http://127.0.0.1:10101",
        "command": [f"{env}/bin/spm", "--db", "/srv/spm/courses/spm-2026q3/spm.db",
                    "--course", "/srv/spm/courses/spm-2026q3", "serve", "--auth", "hub", "--sync-every", "60"],
        "cwd": "/srv/spm/checkout",
        "user": "spm",
        "environment": {"PATH": f"{env}/bin:/usr/local/bin:/usr/bin:/bin",
                        "SPM_DB": "/srv/spm/courses/spm-2026q3/spm.db", "SPM_COURSE": "spm-2026q3"},
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": ["custom:spm:organisation", "custom:spm:course"],
        "display": True,
        "timeout": 120,
    }]
    assert [(r["name"], r["scopes"], r["groups"]) for r in config.JupyterHub.load_roles] == [
        ("spm-ops", ["custom:spm:organisation"], ["spm-ops"]),
        ("spm-course-trainers", ["custom:spm:course"], ["formgrade-spm-2026q3"])]
    assert sorted(config.JupyterHub.custom_scopes) == ["custom:spm:course", "custom:spm:organisation"]
    assert config.JupyterHub.extra_user_scopes == ["access:services!service=spm"]
    assert config.JupyterHub.default_url is hub_module.default_url
    # The scopes the service reads are the ones the hub defines.
    from spm_training.serve.access import COURSE_SCOPE, ORGANISATION_SCOPE

    assert (hub_module.ORGANISATION_SCOPE, hub_module.COURSE_SCOPE) == (ORGANISATION_SCOPE, COURSE_SCOPE)


def test_role_configs_switch_formgrader_on_for_trainers_and_off_for_reps() -> None:
    folder = ROOT / "deploy" / "jupyter"
    rep = json.loads((folder / "rep" / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    trainer = json.loads((folder / "trainer" / "jupyter_server_config.json").read_text())["ServerApp"][
        "jpserver_extensions"]
    assert (rep["nbgrader.server_extensions.formgrader"], trainer["nbgrader.server_extensions.formgrader"]) == (
        False, True)
    assert rep["nbgrader.server_extensions.assignment_list"] is True
    lab = json.loads((folder / "rep" / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert lab == {"@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True,
                   "@jupyter/nbgrader:course-list": True}


def test_the_hub_course_config_keeps_the_repository_course_settings(tmp_path: Path) -> None:
    """deploy/course/nbgrader_config.py changes where the course lives and its gradebook, nothing else."""
    from traitlets.config.loader import PyFileConfigLoader

    course = tmp_path / "q3"
    course.mkdir()
    (course / "nbgrader_config.py").write_text((ROOT / "deploy" / "course" / "nbgrader_config.py").read_text())
    hub_config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    repo_config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "assessments")).load_config()
    assert hub_config.CourseDirectory.db_url == f"sqlite:///{course}/gradebook.db"
    (course / "gradebook.url").write_text("postgresql://grader:secret@db.internal/q3\n")
    hub_config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    assert (hub_config.CourseDirectory.root, hub_config.CourseDirectory.course_id,
            hub_config.CourseDirectory.db_url, hub_config.CourseDirectory.groupshared) == (
        str(course), "q3", "postgresql://grader:secret@db.internal/q3", True)
    moved = {"root", "course_id", "db_url", "groupshared"}
    from nbgrader.coursedir import CourseDirectory

    def effective(config) -> dict:  # noqa: ANN001 - what nbgrader will use, defaults included
        values = CourseDirectory(config=config).trait_values(config=True)
        return {k: v for k, v in values.items() if k not in moved}

    assert effective(hub_config) == effective(repo_config)
    for section in (set(hub_config) | set(repo_config)) - {"CourseDirectory"}:
        assert hub_config.get(section) == repo_config.get(section), section


def test_add_course_refuses_a_course_id_too_long_for_its_groups() -> None:
    done = subprocess.run([str(ROOT / "deploy" / "add-course.sh"), "a-course-id-that-is-far-too-long",
                           str(ROOT / "assessments")], capture_output=True, text=True)
    assert done.returncode == 1
    expected = ("add-course.sh: run as root: it creates groups and sets owners" if os.geteuid() != 0 else
                "add-course.sh: a-course-id-that-is-far-too-long: use lower-case letters, digits and dashes, "
                "at most 22 characters")
    assert done.stderr.strip() == expected


# --- the real hub ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deployment() -> Deployment:
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    with deployed(reps=REPS, simulated=SIMULTANEOUS) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def cohort(deployment: Deployment) -> dict:
    """The cohort's path through the hub, once: release, each rep's work, collect, grade, sync."""
    trainer = deployment.trainers[0]
    flows.release(trainer)
    code = flows.solutions()
    kinds = {rep.name: answers.kind_for(i) for i, rep in enumerate(deployment.reps)}
    with ThreadPoolExecutor(len(deployment.reps)) as pool:
        seen = dict(zip(kinds, pool.map(lambda r: flows.rep_works(r, kinds[r.name], code), deployment.reps)))
    trainer.save_text("roster.csv", deployment.roster_csv())
    roster = flows.in_course(trainer, "spm --course . roster import ~/roster.csv")
    trainer.formgrader("collect", flows.ASSIGNMENT)
    grade = flows.in_course(trainer, f"spm --course . grade {flows.ASSIGNMENT} --workers 2")
    sync = flows.in_course(trainer, "spm --course . sync")
    return {"kinds": kinds, "seen": seen, "roster": roster, "grade": grade, "sync": sync,
            "gradebook": flows.gradebook_totals(deployment.gradebook_url),
            "store": flows.store_totals(deployment.course_root / "spm.db")}


@pytest.mark.slow
def test_the_hub_mirrors_unix_groups(deployment: Deployment) -> None:
    trainer1, trainer2 = deployment.trainers
    assert sorted(trainer1.model()["groups"]) == [f"formgrade-{OTHER_COURSE}", f"formgrade-{COURSE}", TRAINERS_GROUP]
    assert sorted(trainer2.model()["groups"]) == [f"formgrade-{COURSE}", TRAINERS_GROUP]
    assert [rep.model()["groups"] for rep in deployment.reps] == [[f"nbgrader-{COURSE}"]] * REPS


@pytest.mark.slow
def test_only_trainers_open_formgrader(deployment: Deployment) -> None:
    trainer, rep = deployment.trainers[0], deployment.reps[0]
    assert trainer.get("formgrader/api/status").json() == {"status": True}
    assert rep.get("formgrader/api/status").status_code == 404            # not loaded in a rep's server
    assert rep.get("formgrader/api/status", owner=trainer.name).status_code == 403   # the hub keeps reps out
    assert rep.get("api/contents", owner=deployment.reps[1].name).status_code == 403

    def disabled(user) -> set[str]:   # noqa: ANN001
        page = user.get("lab").text
        data = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                    page, re.S).group(1))
        return {name for name in data.get("disabledExtensions", []) if name.startswith("@jupyter/nbgrader")}

    assert disabled(rep) == {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                             "@jupyter/nbgrader:course-list"}
    assert disabled(trainer) == set()


@pytest.mark.slow
def test_a_trainer_of_two_courses_grades_the_one_chosen(deployment: Deployment) -> None:
    trainer1, trainer2 = deployment.trainers
    assert trainer1.terminal("echo $SPM_COURSE $SPM_DB; readlink ~/courses/*; umask") == (0, "\n".join([
        f"{COURSE} {deployment.course_root}/spm.db", str(deployment.course_root), "0007"]))
    assert trainer2.terminal("echo $SPM_COURSE; umask")[1] == f"{COURSE}\n0007"
    assert deployment.reps[0].terminal("echo \"[$SPM_COURSE]\"; umask")[1] == "[]\n0077"


@pytest.mark.slow
def test_reps_fetch_work_and_submit_through_the_assignment_list(cohort: dict) -> None:
    assert cohort["seen"] == {name: [["released"], ["fetched"], ["fetched", "submitted"]] for name in cohort["kinds"]}


@pytest.mark.slow
def test_the_trainer_collects_grades_and_syncs_from_postgresql(deployment: Deployment, cohort: dict) -> None:
    assert cohort["roster"][0] == 0, cohort["roster"][1]
    code, output = cohort["grade"]
    assert code == 0, output
    lines = [line.strip() for line in output.splitlines()]
    assert "3 submission(s) autograded" in output and "student code sandboxed" in output, output
    for rep, kind in cohort["kinds"].items():
        assert f"{rep}  {answers.SCORES[kind]:g}/13" in lines, output
    expected = {rep: flows.Totals(answers.SCORES[kind], None, True, 7) for rep, kind in cohort["kinds"].items()}
    assert cohort["gradebook"] == expected
    code, output = cohort["sync"]
    assert code == 0, output
    shown = make_url(deployment.gradebook_url).render_as_string(hide_password=True)
    assert output.splitlines()[0] == (
        f"{shown}: 21 grades in 1 assignments, 7 items; scores 21 new, 0 updated, 0 unchanged, 0 removed; "
        "3 awaiting a manual grade")
    assert cohort["store"] == expected
    signed = flows.submitted_signatures(deployment, list(cohort["kinds"]), folder="autograded")
    assert signed == {rep: answers.signature(rep) for rep in cohort["kinds"]}


@pytest.mark.slow
def test_reps_cannot_read_other_reps_work_the_source_or_the_gradebook(deployment: Deployment, cohort: dict) -> None:
    rep1, rep2 = deployment.reps[:2]
    course, exchange = deployment.course_root, deployment.exchange_course
    own = next(p for p in (exchange / "inbound").iterdir() if p.name.startswith(f"{rep1.name}+"))
    attempts = {
        "list the submissions": f"ls {exchange}/inbound",
        "guess a submission": f"ls {exchange}/inbound/{rep1.name}+{flows.ASSIGNMENT}+*",
        "read the source": f"head -c 100 {course}/source/{flows.ASSIGNMENT}/{answers.NOTEBOOK}.ipynb",
        "list the course": f"ls {course}",
        "read the collected work": f"cat {course}/submitted/{rep1.name}/{flows.ASSIGNMENT}/{answers.NOTEBOOK}.ipynb",
        "read the gradebook URL": f"cat {course}/gradebook.url",
        "read another home": f"ls {rep1.account.home}",
        "read another's fetched work": f"cat {rep1.account.home}/{flows.NOTEBOOK_PATH}",
    }
    for what, command in attempts.items():
        code, output = rep2.terminal(command)
        assert code != 0 and ("Permission denied" in output or "No such file" in output), (what, output)
    # The gradebook's server answers every local user, but only to its password.
    url = deployment.gradebook_url
    port, database = re.search(r":(\d+)/(\w+)$", url).groups()
    probe = (f"python -c \"import psycopg2; psycopg2.connect(host='127.0.0.1', port={port}, "
             f"user='spmtest_grader', dbname='{database}')\"")
    code, output = rep2.terminal(probe)
    assert code == 1 and "no password supplied" in output, output
    # A trainer of the course reads all of it.
    trainer2 = deployment.trainers[1]
    code, output = trainer2.terminal(f"ls -1 --quoting-style=literal {exchange}/inbound && "
                                     f"head -c 10 {course}/source/{flows.ASSIGNMENT}/{answers.NOTEBOOK}.ipynb")
    assert code == 0 and own.name in output.splitlines() and '{\n "cells"' in output, output


@pytest.mark.slow
def test_a_rep_sees_only_the_courses_they_are_enrolled_in(deployment: Deployment, cohort: dict) -> None:
    """Trainer 1 also trains a second cohort, and releases an assignment there from a terminal."""
    trainer, rep = deployment.trainers[0], deployment.reps[0]
    other = "02_funnel_analysis"
    code, output = trainer.terminal(f"cd {deployment.hub.courses / OTHER_COURSE} && "
                                    f"nbgrader generate_assignment {other} --log-level=ERROR && "
                                    f"nbgrader release_assignment {other} --log-level=ERROR")
    assert code == 0, output
    assert (deployment.hub.exchange / OTHER_COURSE / "outbound" / other).is_dir()
    assert {a["assignment_id"] for a in rep.assignments(COURSE)} == {flows.ASSIGNMENT}
    assert rep.assignments(OTHER_COURSE) == []
    rep.assignment_action("fetch", OTHER_COURSE, other)
    assert not (rep.account.home / OTHER_COURSE).exists()


@pytest.mark.slow
def test_reps_submitting_at_the_same_moment_are_all_collected_and_graded(deployment: Deployment,
                                                                         cohort: dict) -> None:
    result = flows.simultaneous_submissions(deployment, deployment.trainers[0], deployment.simulated)
    assert result.failures == []
    assert result.inbound == SIMULTANEOUS
    assert (result.lost, result.wrong, result.mixed_up) == ([], [], [])
    assert len(result.collected) == SIMULTANEOUS
    assert {s: t.auto for s, t in result.scores.items()} == result.expected
    assert f"{SIMULTANEOUS} submission(s) autograded" in result.grade_output
    signed = flows.submitted_signatures(deployment, list(result.expected), folder="autograded")
    assert signed == {s: answers.signature(s) for s in result.expected}


@pytest.mark.slow
def test_two_trainers_grade_different_reps_at_once_without_losing_a_grade(deployment: Deployment,
                                                                          cohort: dict) -> None:
    students = [u.name for u in deployment.reps + deployment.simulated]
    kinds = {u.name: answers.kind_for(i) for i, u in enumerate(deployment.reps)}
    kinds.update({u.name: answers.kind_for(i) for i, u in enumerate(deployment.simulated)})
    result = flows.two_trainers_grade(deployment, students)
    assert result.autograde_codes == (0, 0), result.autograde_outputs
    for output, half in zip(result.autograde_outputs, result.halves):
        assert f"{len(half)} submission(s) autograded" in output, output
    expected = {s: flows.Totals(answers.SCORES[kinds[s]], result.marks[s], False, 7) for s in students}
    assert result.scores == expected
    code, output = flows.in_course(deployment.trainers[1], "spm --course . sync")
    assert code == 0, output
    assert flows.store_totals(deployment.course_root / "spm.db") == expected


# --- the spm service on the hub: each person's own pages ------------------------------------------

def store_rows(deployment: Deployment, sql: str) -> list[tuple]:
    """Rows of the course's store, read as root, as the hub's admin would check it."""
    import sqlite3

    conn = sqlite3.connect(f"file:{deployment.course_root / 'spm.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def store_digests(deployment: Deployment) -> dict[str, str]:
    from store_files import store_digests as digests

    return digests(deployment.course_root)


@pytest.fixture(scope="module")
def served(deployment: Deployment, cohort: dict) -> Deployment:
    """The cohort is in the roster (two teams, each with its manager's login) and its grades are synced:
    the service has something to show."""
    assert cohort["roster"][0] == 0, cohort["roster"][1]
    return deployment


@pytest.mark.slow
def test_unauthenticated_requests_to_the_service_go_to_the_hub_login(served: Deployment) -> None:
    import requests

    hub = served.hub
    first = requests.get(hub.service_url + "team/" + CLOSERS, allow_redirects=False, timeout=60)
    assert first.status_code == 302
    assert first.headers["Location"].startswith("/hub/api/oauth2/authorize?client_id=service-spm&")
    landed = requests.get(hub.service_url + "team/" + CLOSERS, timeout=60)
    assert landed.url.startswith(f"{hub.url}/hub/login?next=")
    assert landed.status_code == 200 and 'id="login_submit"' in landed.text
    assert all("Rep 0" not in r.text for r in (first, landed, *landed.history))   # no rep's name on the way


@pytest.mark.slow
def test_a_rep_sees_their_own_pages_only(served: Deployment) -> None:
    rep_a, rep_b = served.reps[0], served.reps[2]
    own = rep_a.service(f"rep/{rep_a.name}")
    assert own.status_code == 200, own.text[:500]
    assert own.url == f"{served.hub.service_url}rep/{rep_a.name}"
    assert "Rep 01 Test" in own.text
    for path in (f"rep/{rep_b.name}", f"team/{CLOSERS}", f"team/{GARDENERS}", "reports"):
        refused = rep_a.service(path)
        assert refused.status_code == 403, (path, refused.text[:300])
        assert "Rep 03 Test" not in refused.text and "Rep 02 Test" not in refused.text
    me = rep_a.service("api/me").json()
    assert (me["login"], me["roles"]) == (rep_a.name, ["rep"])


@pytest.mark.slow
def test_a_manager_logs_in_through_the_roster_and_sees_their_team_only(served: Deployment) -> None:
    manager = served.manager
    assert manager is not None and served.outsider is not None
    with pytest.raises(HubError, match=rf"^{served.outsider.name}: login refused \(403\)"):
        served.outsider.login()
    landed = manager.login()
    assert landed.headers["Location"] == "/services/spm/"
    manager.create_token()
    assert manager.model()["groups"] == ["spm-managers"]
    closers = [rep for rep in served.reps if served.team_of(rep) == CLOSERS]
    gardeners = [rep for rep in served.reps if served.team_of(rep) == GARDENERS]
    team = manager.service(f"team/{CLOSERS}")
    assert team.status_code == 200, team.text[:500]
    assert "Rep 01 Test" in team.text and "Rep 02 Test" in team.text and "Rep 03 Test" not in team.text
    for rep in closers:
        assert manager.service(f"rep/{rep.name}").status_code == 200, rep.name
    for path in [f"team/{GARDENERS}", *(f"rep/{rep.name}" for rep in gardeners), "reports"]:
        assert manager.service(path).status_code == 403, path
    # No JupyterLab server for a manager: the hub refuses the spawn, saying where to go instead.
    started = manager.hub_api("POST", f"/users/{manager.name}/server")
    progress = manager.hub_api("GET", f"/users/{manager.name}/server/progress")
    events = [json.loads(line[len("data:"):]) for line in progress.text.splitlines() if line.startswith("data:")]
    assert (started.status_code, events[-1]["failed"], events[-1]["message"]) == (202, True, (
        f"Spawn failed: {manager.name} has no JupyterLab server on this hub: managers and sales operations use "
        "the spm service at /services/spm/. Ask an admin to add you to a course group if you take a course.")), (
        started.status_code, started.text[:300], events)


KPIS_GOOD = "rep_id,period,kpi,value,target\n{a},2026-Q3,win_rate,0.31,0.25\n{b},2026-Q3,win_rate,0.18,0.25\n"
KPIS_BAD = "rep_id,period,kpi,value,target\n{a},2026-Q3,win_rate,0.33,0.25\n{b},2026-Q3,win_rate,lots,0.25\n"


@pytest.mark.slow
def test_ops_upload_a_kpi_file_through_the_service_and_a_bad_one_changes_nothing(served: Deployment) -> None:
    ops = served.ops
    assert ops is not None
    ops.login()
    a, b = served.reps[0].name, served.reps[2].name
    sent = ops.service_form("upload", {"kind": "kpis", "format": "auto"},
                            files={"file": ("q3-win-rates.csv", KPIS_GOOD.format(a=a, b=b).encode(), "text/csv")})
    assert sent.status_code == 200, f"{sent.text[:500]}\n--- hub log ---\n{served.hub.log_tail(40)}"
    assert "Not imported" not in sent.text
    assert store_rows(served, "SELECT rep_id, period, kpi_id, value, target FROM kpi_values "
                              "WHERE kpi_id = 'win_rate' ORDER BY rep_id") == [
        (a, "2026-Q3", "win_rate", 0.31, 0.25), (b, "2026-Q3", "win_rate", 0.18, 0.25)]
    before = store_digests(served)
    refused = ops.service_form("upload", {"kind": "kpis", "format": "auto"},
                               files={"file": ("q3-fixed.csv", KPIS_BAD.format(a=a, b=b).encode(), "text/csv")})
    assert refused.status_code == 400, refused.text[:500]
    errors = re.findall(r'<p class="caveat error" role="alert">(.*?)</p>', refused.text, re.S)
    # The line spm kpis import prints, with the name the file was uploaded under.
    assert errors == ["Error: q3-fixed.csv:3 (column value): &#39;value&#39; is not a number: &#39;lots&#39;; write "
                      "plain numbers such as 1200.5, without units or thousands separators"]
    assert store_digests(served) == before
    assert store_rows(served, "SELECT value FROM kpi_values WHERE kpi_id = 'win_rate' ORDER BY rep_id") == [
        (0.31,), (0.18,)]
    # A rep may not upload: the page and the POST are both refused.
    assert served.reps[0].service("upload").status_code == 403


@pytest.mark.slow
def test_a_knowledge_check_answered_in_chromium_through_the_hub_is_recorded_for_the_rep(served: Deployment) -> None:
    import shutil

    from book.book_browser import CHROMIUM_ARGS, DESKTOP, offline_page

    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    rep: User = served.reps[1]
    hub = served.hub
    book_page = f"book/{PAGE}.html"
    # A function-scoped Playwright: a module-wide one would keep its event loop running under the
    # terminal tests' asyncio.run().
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context, page, traffic = offline_page(browser, hub.url + "/", DESKTOP)
            page.goto(f"{hub.url}/hub/login?next=/services/spm/{book_page}")
            page.fill("#username_input", rep.name)
            page.fill("#password_input", rep.account.password)
            with page.expect_navigation(url=f"{hub.service_url}{book_page}", wait_until="networkidle"):
                page.click("#login_submit")
            assert page.locator("h1").first.inner_text().startswith("Prospecting")
            page.check("#spm-kc-1-q1-o1")          # wrong first ...
            with page.expect_response(lambda r: r.url.endswith("/services/spm/api/self-check")) as first:
                page.click(".spm-kc-check")
            page.check("#spm-kc-1-q1-o2")          # ... then right
            with page.expect_response(lambda r: r.url.endswith("/services/spm/api/self-check")) as second:
                page.click(".spm-kc-check")
            statuses = (first.value.status, second.value.status)
            context.close()
        finally:
            browser.close()
    assert statuses == (204, 204)
    assert traffic.outside == [] and traffic.console == [], (traffic.outside, traffic.console)
    assert store_rows(served, f"SELECT rep_id, page, question, first_correct, attempts FROM self_checks "
                              f"WHERE rep_id = '{rep.name}'") == [(rep.name, PAGE, "spm-kc-1-q1", 0, 2)]
    assert store_rows(served, f"SELECT rep_id, page FROM page_reads WHERE rep_id = '{rep.name}'") == [
        (rep.name, PAGE)]
