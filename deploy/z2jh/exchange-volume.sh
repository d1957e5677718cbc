#!/bin/sh
# Prepare nbgrader's exchange on its shared volume, and check that the volume keeps what the exchange
# relies on. Run as root, by the spm-exchange-prepare Job (deploy/z2jh/jobs.yaml) after each new course,
# or by hand; safe to run again.
#
#   exchange-volume.sh EXCHANGE COURSE=GID [COURSE=GID ...]
#
# GID is the numeric group of the course's trainers (values.yaml's spmCourses gives each course's
# formgrade-<course> group one). nbgrader's filesystem exchange keeps reps apart with Unix owners and
# modes only. These are the modes nbgrader itself gives the folders with CourseDirectory.groupshared
# (deploy/course/nbgrader_config.py): the exchange world-writable and sticky (1777); each course's
# folder and its outbound folder owned by the trainers' group and passing it on (2775); the inbound
# folder writable and searchable by reps but not readable (2773), so no rep can list or open another's
# submission; the feedback folder searchable only (2771). Many NFS and SMB volumes squash owners, ignore the sticky or
# setgid bit, or map every file to one uid; on such a volume reps could read or remove each other's
# submissions, so this refuses it in one line instead of preparing it.
set -eu
die() { echo "exchange-volume.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: exchange-volume.sh EXCHANGE COURSE=GID [COURSE=GID ...]"
[ "$(id -u)" = 0 ] || die "run as root: it sets owners and modes"
exchange=$1
shift
# mode (4 octal digits), uid and gid of a path, as the volume reports them after the change
check() {
  got=$(stat -c '%a %u %g' "$1")
  set -- "$1" "$2" "$3" "$4" $got
  mode=$5
  while [ ${#mode} -lt 4 ]; do mode=0$mode; done
  [ "$mode $6 $7" = "$2 $3 $4" ] ||
    die "$1: the volume did not keep mode $2, owner $3, group $4 (it reads mode $mode, owner $6, group $7); use a volume that keeps Unix owners and modes (NFSv4 without squashing, CephFS), see the Kubernetes guide"
}
mkdir -p "$exchange"
chown 0:0 "$exchange"
chmod 1777 "$exchange"
check "$exchange" 1777 0 0
for spec in "$@"; do
  course=${spec%%=*}
  gid=${spec#*=}
  case $course in
    "" | *[!a-z0-9-]*) die "$spec: the course id takes lower-case letters, digits and dashes" ;;
  esac
  case $gid in
    "" | *[!0-9]*) die "$spec: give the numeric group of the course's trainers, as COURSE=GID" ;;
  esac
  for folder in "$exchange/$course" "$exchange/$course/inbound" "$exchange/$course/outbound" \
                "$exchange/$course/feedback"; do
    mkdir -p "$folder"
    chown "0:$gid" "$folder"
  done
  chmod 2775 "$exchange/$course"
  chmod 2773 "$exchange/$course/inbound"
  chmod 2775 "$exchange/$course/outbound"
  chmod 2771 "$exchange/$course/feedback"
  check "$exchange/$course" 2775 0 "$gid"
  check "$exchange/$course/inbound" 2773 0 "$gid"
  check "$exchange/$course/outbound" 2775 0 "$gid"
  check "$exchange/$course/feedback" 2771 0 "$gid"
  echo "exchange-volume.sh: $exchange/$course ready for the trainers of group $gid"
done
