# nbgrader configuration of one course folder on the hub (add-course.sh copies it into
# <courses root>/<course id>/). nbgrader reads it last, after the hub-wide settings, whenever a trainer
# works in the course: formgrader, nbgrader commands, spm grade, spm sync, spm roster import.
import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

_course_root = os.path.dirname(os.path.abspath(__file__))

# The folder's name is the course id: the exchange folder and the hub groups (formgrade-<id>,
# nbgrader-<id>) carry the same name.
c.CourseDirectory.root = _course_root
c.CourseDirectory.course_id = os.path.basename(_course_root)

# Several trainers grade the same course, so nbgrader keeps what it writes (release/, submitted/,
# autograded/, feedback/ and the exchange's course folders) writable by the course's group.
c.CourseDirectory.groupshared = True


def _gradebook_url() -> str:
    """The gradebook: the URL in gradebook.url beside this file (a PostgreSQL database, so several
    trainers can grade at once), else a SQLite file in the course folder. The URL holds a password,
    which is why it lives in a file only the course's trainers can read, not in this one."""
    try:
        with open(os.path.join(_course_root, "gradebook.url"), encoding="utf-8") as handle:
            url = handle.read().strip()
    except FileNotFoundError:
        url = ""
    return url or "sqlite:///" + os.path.join(_course_root, "gradebook.db")


c.CourseDirectory.db_url = _gradebook_url()

# The same limit as the repository's assessments/nbgrader_config.py: every exercise cell runs in
# well under a second, and 30 s stops an endless loop without failing a slow machine.
c.Execute.timeout = 30

# Feedback leaves the hidden tests out, as in the repository's assessments/nbgrader_config.py, which
# explains why. formgrader's "Generate feedback" reads this file too. Import strings, not an import:
# without spm_training in the environment, feedback generation fails with "No module named
# 'spm_training'" instead of nbgrader skipping this file and rendering the hidden tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "spm_training.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
