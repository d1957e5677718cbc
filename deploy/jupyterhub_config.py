# JupyterHub on one server for spm-training: local Unix accounts, nbgrader's exchange, formgrader for
# trainers only. The book's admin guide (book/guides/admins.md) walks through the set-up; add-course.sh
# creates each course's groups and folders. Run the hub as root from the platform's environment:
#
#     sudo /opt/spm/venv/bin/jupyterhub -f /etc/spm/jupyterhub_config.py
#
# Root is needed because every user's server runs under their own account, which is what keeps one
# rep's work out of another's reach.
import os
import sys

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

# spm_hub.py sits beside this file; it holds the authenticator and spawner used below.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spm_hub  # noqa: E402 - needs the path above

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
# PAM checks the Unix password; a user is let in when they are in the trainers group, a course
# group (nbgrader-<course> for reps, formgrade-<course> for trainers) or the ops group, or when a
# course's roster names their login (a team's manager_login, or a rep's login). The hub mirrors those
# groups at every login and before every spawn, and adds spm-managers for the managers the rosters
# name: a manager needs a Unix account and nothing else here.
c.SpmHub.ops_group = "spm-ops"
c.SpmHub.managers_group = "spm-managers"
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
# Managers and ops people without a course group get no server (spm_hub.may_run_server says why):
# after login they land on the spm service instead.
c.JupyterHub.default_url = spm_hub.default_url

# --- the spm service: everyone's own pages at /services/spm/ -------------------------------------
# The hub starts `spm serve --auth hub` for one course and proxies /services/spm/ to it. Reps see
# their own report and reading progress, managers their teams (from the roster's manager_login),
# the course's trainers every page, ops (the group above) every page plus uploads and syncs. The
# service is the one writer of the course's store on the hub: it runs as service_user, a system
# account in the course's trainers group (useradd --system --gid formgrade-<course> spm), and syncs
# from the gradebook every sync_every_minutes. The book it serves is the one built in book_root.
c.SpmHub.service_course = "spm-2026q3"
c.SpmHub.service_user = "spm"
c.SpmHub.service_port = 10101
c.SpmHub.book_root = "/srv/spm/checkout"
c.SpmHub.sync_every_minutes = 60
c.JupyterHub.custom_scopes = spm_hub.custom_scopes()
# Every user may reach the service (the service then decides what they see); the scopes go to groups.
c.JupyterHub.extra_user_scopes = [f"access:services!service={spm_hub.SERVICE_NAME}"]

# Idle servers hold memory that the next cohort needs: when jupyterhub-idle-culler is installed in the
# environment (pip install jupyterhub-idle-culler), it is added too and stops servers after an hour idle.
c.JupyterHub.services, c.JupyterHub.load_roles = spm_hub.services_and_roles(c)
