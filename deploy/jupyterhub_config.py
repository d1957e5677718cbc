# JupyterHub on one server for spm-training: local Unix accounts, nbgrader's exchange, formgrader for
# trainers only. The book's admin guide (book/guides/admins.md) walks through the set-up; add-course.sh
# creates each course's groups and folders. Run the hub as root from the platform's environment:
#
#     sudo /opt/spm/venv/bin/jupyterhub -f /etc/spm/jupyterhub_config.py
#
# Root is needed because every user's server runs under their own account, which is what keeps one
# rep's work out of another's reach.
import importlib.util
import os
import sys

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

# spm_hub.py sits beside this file; it holds the authenticator and spawner used below.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# --- where things live (add-course.sh takes the same paths) ------------------------------------
c.SpmHub.exchange_root = "/srv/spm/exchange"
c.SpmHub.courses_root = "/srv/spm/courses"
c.SpmHub.trainers_group = "trainers"
# The Jupyter config folders (common/, trainer/, rep/) default to jupyter/ beside this file.

_state = "/srv/spm/hub"   # the hub's own database, cookie secret and proxy pid (root only, 0700)
c.JupyterHub.db_url = f"sqlite:///{_state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{_state}/jupyterhub_cookie_secret"
c.ConfigurableHTTPProxy.pid_file = f"{_state}/jupyterhub-proxy.pid"

# Serve plain HTTP on the loopback interface and put a TLS reverse proxy (nginx, Caddy) in front;
# or bind to a public address and set c.JupyterHub.ssl_cert and ssl_key.
c.JupyterHub.bind_url = "http://127.0.0.1:8000"

# --- who may log in, and their groups ---------------------------------------------------------
# PAM checks the Unix password; a user is let in when they are in the trainers group or in a
# course group (nbgrader-<course> for reps, formgrade-<course> for trainers), and the hub mirrors
# those groups before every spawn.
c.JupyterHub.authenticator_class = "spm_hub.SystemGroupsAuthenticator"
# Hub admins can open anyone's server: give it to the people who run the machine, not to trainers.
c.PAMAuthenticator.admin_groups = {"spm-admins"}

# --- each user's server ----------------------------------------------------------------------
c.JupyterHub.spawner_class = "spm_hub.CourseSpawner"
# Users' servers run jupyterhub-singleuser from the environment that holds JupyterLab, nbgrader and
# spm: here the hub's own. Every user must be able to run it, so install it under /opt, not in a
# home folder.
c.SpmHub.user_environment = sys.prefix
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
# The server's own token must read the user's groups: nbgrader's JupyterHub plugin lists a rep's
# courses from them (nbgrader-<course>), through the hub's API.
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "read:users:name!user",
    "read:users:groups!user",
]
# Idle servers hold memory that the next cohort needs: when jupyterhub-idle-culler is installed in
# the environment (pip install jupyterhub-idle-culler), it stops servers after an hour without activity.
if importlib.util.find_spec("jupyterhub_idle_culler") is not None:
    c.JupyterHub.services = [
        {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]},
    ]
    c.JupyterHub.load_roles = [
        {"name": "idle-culler", "services": ["idle-culler"],
         "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    ]
