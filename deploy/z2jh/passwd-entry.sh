#!/bin/sh
# A passwd entry for the uid a user's pod runs as (20000 + the hub's user id, see values.yaml), which the
# image's /etc/passwd does not know. Without one, getpwuid() fails for the user's own uid, and nbgrader,
# which takes the student's name from it, stops every submit with KeyError: 'getpwuid(): uid not found'.
#
# values.yaml runs this in each user pod's init container, as the pod's own uid and gid (no root, no
# writable /etc): it writes OUT_DIR/passwd, the image's /etc/passwd plus a line for this uid, and
# OUT_DIR/group likewise for the gid; the notebook container mounts them over /etc/passwd and /etc/group
# (subPath, read-only). docker-stacks' start.sh can add the entry only when the pod starts as root or
# with gid 0; this works with neither.
#
# SPM_PASSWD_USERS, lines of NAME:UID, adds the users a trainer's pod meets (the reps of the courses
# they train, whose submissions they collect), so nbgrader's collect names each submission's owner
# instead of warning that an unknown id submitted it.
#
#   NB_USER=<hub username> [NB_HOME=/home/jovyan] [SPM_PASSWD_USERS=...] passwd-entry.sh OUT_DIR
set -eu
out=${1:?usage: NB_USER=NAME passwd-entry.sh OUT_DIR}
user=${NB_USER:-}
home=${NB_HOME:-/home/jovyan}
uid=$(id -u)
gid=$(id -g)
case $user in
  "" | *:* | *"
"*) echo "passwd-entry.sh: NB_USER must be the hub username, without ':' or a line break (got '$user')" >&2
      exit 1 ;;
esac
mkdir -p "$out"
umask 022
cp /etc/passwd "$out/passwd.new"
cp /etc/group "$out/group.new"
# nbgrader reads the name back with getpwuid(), which returns the first line with the uid: add ours only
# when the image has none (a pod as the image's own jovyan keeps it).
if ! awk -F: -v uid="$uid" '$3 == uid { found = 1 } END { exit !found }' /etc/passwd; then
  printf '%s:x:%s:%s:%s:%s:/bin/bash\n' "$user" "$uid" "$gid" "$user" "$home" >> "$out/passwd.new"
fi
# the other users: one line each, under their own name, for the uids the image does not have either
printf '%s\n' "${SPM_PASSWD_USERS:-}" | awk -F: -v gid="$gid" '
  NR == FNR { known[$3] = 1; next }
  NF == 2 && $1 != "" && $2 ~ /^[0-9]+$/ && !($2 in known) { printf "%s:x:%s:%s:%s:/nonexistent:/usr/sbin/nologin\n", $1, $2, gid, $1; known[$2] = 1 }
' "$out/passwd.new" - > "$out/others.new"
cat "$out/others.new" >> "$out/passwd.new"
rm -f "$out/others.new"
if ! awk -F: -v gid="$gid" '$3 == gid { found = 1 } END { exit !found }' /etc/group; then
  printf '%s:x:%s:\n' "$user" "$gid" >> "$out/group.new"
fi
mv "$out/passwd.new" "$out/passwd"
mv "$out/group.new" "$out/group"
echo "passwd-entry.sh: $user is uid $uid, gid $gid"
