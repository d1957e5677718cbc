# nbgrader configuration for the course. Paths are relative to this folder, which is the course
# root: a copy of the folder (a trainer's checkout, the hub, a test's temporary directory) works as
# it is. nbgrader reads this file after the system-wide Jupyter configuration, so a setting made here
# (the SQLite gradebook below) wins over one made there: a hub with a PostgreSQL gradebook for several
# trainers uses its own course configuration instead (deploy/course/nbgrader_config.py).
import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

_course_root = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "spm-sales-onboarding"
c.CourseDirectory.root = _course_root
# The gradebook sits beside this file. SQLite resolves a relative URL from the current directory,
# not from the course, so the path is joined to the course root when the file is loaded.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_course_root, "gradebook.db")
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# Every exercise cell runs in well under a second; 30 s per cell stops a learner's endless loop
# without failing a slow machine.
c.Execute.timeout = 30
