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

# Feedback leaves the hidden tests out. nbgrader renders feedback from the autograded notebook, in
# which the hidden tests are back, so by default a rep's feedback shows them, and the traceback of a
# failing one quotes its answer; our multiple-choice and classification answers exist only there and
# the questions are reused from cohort to cohort. spm_training.feedback.HideHiddenTests runs after
# GetGrades (which reads the scores and comments it must not change) and before the HTML header. The
# names are import strings on purpose: they are imported when feedback is generated, so without
# spm_training installed `nbgrader generate_feedback` and formgrader's "Generate feedback" fail with
# "No module named 'spm_training'". An `import` here would instead make nbgrader skip this whole file
# with only a logged error, and render feedback with its defaults, hidden tests included.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "spm_training.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
