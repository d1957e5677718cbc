#!/usr/bin/env bash
# snapshot_outputs.sh OUT [SPM]: run `spm demo --seed 7 --no-book` in OUT/ws (once; a rerun reuses it) and
# write every report, `spm gaps` in each format and scope, and every export into OUT/o, so that a
# refactoring can be checked byte for byte: run it before and after, then compare file by file, ignoring
# the reports' "generated" time stamps:
#   for f in $(ls BEFORE/o); do diff <(sed -E "s/[0-9-]{10} [0-9:]{5}//g" BEFORE/o/$f) \
#                                    <(sed -E "s/[0-9-]{10} [0-9:]{5}//g" AFTER/o/$f); done
# SPM is the command to run (default: spm on PATH).
set -euo pipefail
out=$(realpath -m "$1"); spm=${2:-spm}
ws=$out/ws; mkdir -p "$out/o"
[ -f "$ws/spm.db" ] || $spm demo --dir "$ws" --seed 7 --no-book > "$out/demo.log"
cd "$ws"
spm="$spm --db $ws/spm.db --course $ws/course"
for f in table csv json; do $spm gaps --format $f > "$out/o/gaps.$f"; done
for w in reps kpis scores mastery gaps; do for f in csv json; do $spm export $w --format $f > "$out/o/export-$w.$f"; done; done
for t in $($spm export reps --format csv | python3 -c "import csv,sys; print(' '.join(sorted({r['team'] for r in csv.DictReader(sys.stdin)})))"); do
  $spm report team "$t" -o "$out/o/team-$t.html" >/dev/null; $spm gaps --team "$t" --format csv > "$out/o/gaps-$t.csv"; done
for r in $($spm export reps --format csv | python3 -c "import csv,sys; print(' '.join(r['rep_id'] for r in csv.DictReader(sys.stdin)))"); do
  $spm report rep "$r" -o "$out/o/rep-$r.html" >/dev/null; done
for a in $(ls course/source); do $spm report items "$a" -o "$out/o/items-$a.html" >/dev/null || true; done
cp -r "$ws/reports" "$out/demo-reports" 2>/dev/null || true
ls "$out/o" | wc -l
