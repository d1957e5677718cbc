"""What one user's pod does with nbgrader's filesystem exchange, in one process (nbgrader's own exchange
classes, as its apps call them), so that a test pays for nbgrader's imports once per pod, not per step.

    python exchange_pod.py EXCHANGE COURSE ASSIGNMENT STEP [STEP ...]

Steps: release (from ./release, as a trainer), fetch, answer=TEXT (write TEXT as the fetched notebook's
only cell), submit, collect (into ./submitted, as a trainer). Each prints "STEP: ok"; the first that
fails raises, with nbgrader's own traceback.
"""

from __future__ import annotations

import json
import os
import sys

from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default import (
    ExchangeCollect,
    ExchangeFetchAssignment,
    ExchangeReleaseAssignment,
    ExchangeSubmit,
)
from traitlets.config import Config


def main(exchange: str, course: str, assignment: str, *steps: str) -> None:
    config = Config()
    config.Exchange.root = exchange
    config.Exchange.path_includes_course = True
    config.CourseDirectory.root = os.getcwd()
    config.CourseDirectory.course_id = course
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.groupshared = True        # deploy/course/nbgrader_config.py
    coursedir = CourseDirectory(config=config)
    authenticator = Authenticator(config=config)
    kinds = {"release": ExchangeReleaseAssignment, "fetch": ExchangeFetchAssignment, "submit": ExchangeSubmit,
             "collect": ExchangeCollect}
    for step in steps:
        if step.startswith("answer="):
            path = os.path.join(course, assignment, f"{assignment}.ipynb")
            with open(path) as handle:
                notebook = json.load(handle)
            notebook["cells"][0]["source"] = [step.removeprefix("answer=")]
            with open(path, "w") as handle:
                json.dump(notebook, handle)
        else:
            kinds[step](coursedir=coursedir, authenticator=authenticator, config=config).start()
        print(f"{step}: ok", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
