#!/usr/bin/env bash
# Create a course (a cohort or a programme) on a single-server hub, as root. Safe to run again: it
# creates what is missing and puts back the modes, and never deletes work.
#
#   add-course.sh COURSE_ID SOURCE_DIR [--gradebook-url URL] [--exchange DIR] [--courses DIR] [--trainers GROUP]
#
# COURSE_ID   lower-case letters, digits and dashes, at most 22 characters (the groups formgrade-<id>
#             and nbgrader-<id> must fit Linux's 32-character limit)
# SOURCE_DIR  the nbgrader course to copy from, such as a checkout's assessments/ (its source/,
#             skills.yml and plan.yml are copied; an existing source/ in the course is left as it is)
# --gradebook-url  the course's PostgreSQL gradebook, written to gradebook.url (readable by its trainers only)
# --exchange, --courses, --trainers   as c.SpmHub.exchange_root, courses_root and trainers_group
#             in jupyterhub_config.py (defaults: /srv/spm/exchange, /srv/spm/courses, trainers)
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
course=$1 source=$2
shift 2
url="" exchange=/srv/spm/exchange courses=/srv/spm/courses trainers=trainers
while [ $# -gt 0 ]; do
  case $1 in
    --gradebook-url) url=$2; shift 2 ;;
    --exchange) exchange=$2; shift 2 ;;
    --courses) courses=$2; shift 2 ;;
    --trainers) trainers=$2; shift 2 ;;
    *) usage ;;
  esac
done

die() { echo "add-course.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: it creates groups and sets owners"
[[ $course =~ ^[a-z0-9][a-z0-9-]{0,21}$ ]] ||
  die "$course: use lower-case letters, digits and dashes, at most 22 characters"
[ -d "$source/source" ] ||
  die "$source: no source/ folder here; give the nbgrader course folder (a checkout's assessments/)"
here=$(cd "$(dirname "$0")" && pwd)

trainers_of="formgrade-$course"
reps_of="nbgrader-$course"
for group in "$trainers" "$trainers_of" "$reps_of"; do
  getent group "$group" >/dev/null || groupadd "$group"
done

# The exchange: world-writable and sticky, as nbgrader asks, so anyone may create their files but
# nobody may delete another's.
install -d -m 1777 "$exchange"
chmod 1777 "$exchange"
# The course's folder in the exchange belongs to its trainers' group and passes the group on
# (setgid), so the inbound folder nbgrader creates at the first release is readable by every trainer
# of the course, and by no rep: reps may only drop submissions into it.
install -d -o root -g "$trainers_of" -m 2775 "$exchange/$course"
chgrp "$trainers_of" "$exchange/$course"
chmod 2775 "$exchange/$course"

# The course folder: the course's trainers only (source notebooks hold the solutions).
root="$courses/$course"
install -d -m 0755 "$courses"
install -d -o root -g "$trainers_of" -m 2770 "$root"
chgrp "$trainers_of" "$root"
chmod 2770 "$root"
if [ ! -d "$root/source" ]; then
  cp -R "$source/source" "$root/source"
fi
for catalog in skills.yml plan.yml; do       # the skills catalog and the onboarding schedule
  if [ ! -f "$root/$catalog" ] && [ -f "$source/$catalog" ]; then
    cp "$source/$catalog" "$root/$catalog"
  fi
done
install -o root -g "$trainers_of" -m 0640 "$here/course/nbgrader_config.py" "$root/nbgrader_config.py"
if [ -n "$url" ]; then
  ( umask 0137 && printf '%s\n' "$url" > "$root/gradebook.url" )
fi
[ ! -e "$root/gradebook.url" ] || { chown root:"$trainers_of" "$root/gradebook.url"; chmod 0640 "$root/gradebook.url"; }
# SQLite makes a new database file readable, not writable, by the group whatever the umask, so the
# first trainer to run spm (or nbgrader, on a SQLite gradebook) would lock the others out. Empty files
# made here are valid new databases, writable by every trainer of the course.
databases=(spm.db)
[ -e "$root/gradebook.url" ] || databases+=(gradebook.db)
for db in "${databases[@]}"; do
  [ -e "$root/$db" ] || install -o root -g "$trainers_of" -m 0660 /dev/null "$root/$db"
done

# Everything the trainers edit or nbgrader writes: the course's group, group-writable, and folders
# that pass the group on. The configuration files stay root's, read-only to the trainers.
find "$root" -mindepth 1 \( -name nbgrader_config.py -o -name gradebook.url \) -prune -o -exec chgrp "$trainers_of" {} +
find "$root" -mindepth 1 -type d -exec chmod 2770 {} +
find "$root" -mindepth 1 -type f ! -name nbgrader_config.py ! -name gradebook.url -exec chmod ug+rw,o-rwx {} +

echo "course $course: folder $root, exchange $exchange/$course"
echo "  trainers: usermod -aG $trainers,$trainers_of USER    reps: usermod -aG $reps_of USER"
