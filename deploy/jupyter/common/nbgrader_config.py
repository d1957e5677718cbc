# nbgrader settings every server on the hub shares (the hub puts this folder on JUPYTER_CONFIG_PATH,
# as /etc/jupyter would be on a machine with one course).
import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

# The exchange: trainers release into it and collect from it, reps fetch from it and submit into it.
c.Exchange.root = os.environ.get("SPM_EXCHANGE", "/srv/spm/exchange")
# Several courses (cohorts, programmes) share the hub, so a rep's fetched work goes to
# ~/<course>/<assignment>, and two courses with an assignment of the same name never collide.
c.Exchange.path_includes_course = True

# A rep sees the courses they are enrolled in: nbgrader asks the hub for their groups (nbgrader-<course>).
from nbgrader.auth import JupyterHubAuthPlugin  # noqa: E402

c.Authenticator.plugin_class = JupyterHubAuthPlugin

# A trainer's server grades one course, which the hub names in SPM_COURSE and links into the
# trainer's home. formgrader requires the course folder inside the server's root folder, hence the
# link rather than the course's own path. The course folder's nbgrader_config.py does the rest.
_course = os.environ.get("SPM_COURSE")
if _course:
    c.CourseDirectory.root = os.path.join(os.path.expanduser("~"), "courses", _course)
    c.CourseDirectory.course_id = _course
