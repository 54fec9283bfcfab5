#!/usr/bin/env bash
# The layer rule, enforced: every #include "dir/..." in a source directory must
# come from a directory its row of the table in docs/architecture.md allows
# (or from itself). The table is the rule; this reads it rather than keeping
# a copy. Also fails on a directory of sources the table does not list, so a
# new one gets its row. Usage: layering_test.sh [SOURCE_ROOT]
set -euo pipefail
root=${1:-"$(dirname "$0")/.."}
doc="$root/docs/architecture.md"

# The rows after the marker, up to the first line that is not a table row:
# | `train/` | `core/`, `autograd/`, ... |   or   | `core/` | nothing else |
declare -A allowed
rows=0
while IFS= read -r row; do
  rows=$((rows + 1))
  dirs_cell=$(cut -d'|' -f2 <<<"$row")
  may_cell=$(cut -d'|' -f3 <<<"$row")
  may=$(grep -o '`[a-z_]*/`' <<<"$may_cell" | tr -d '`/' | tr '\n' ' ' || true)
  [[ $may_cell == *anything* ]] && may='*'
  for dir in $(grep -o '`[a-z_]*/`' <<<"$dirs_cell" | tr -d '`/'); do allowed[$dir]="$may"; done
done < <(sed -n '/<!-- layer rule/,/^$/p' "$doc" | grep '^| `')
if [[ $rows -eq 0 ]]; then
  echo "layering_test.sh: no layer table after '<!-- layer rule' in $doc" >&2
  exit 1
fi

status=0
for path in "$root"/*/; do
  dir=$(basename "$path")
  [[ $dir == build* ]] && continue
  if [[ -z $(find "$path" -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' | head -1) ]]; then continue; fi
  if [[ -z ${allowed[$dir]+set} ]]; then
    echo "$dir/: C++ sources, but no row in the layer table of docs/architecture.md" >&2
    status=1
    continue
  fi
  [[ ${allowed[$dir]} == '*' ]] && continue
  # file:line:#include "top/..."
  while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    included=$(sed -E 's/.*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/' <<<"$hit")
    top=${included%%/*}
    [[ $top == "$dir" || " ${allowed[$dir]} " == *" $top "* ]] && continue
    may=$(sed -E 's#([a-z_]+)#\1/#g; s# +$##; s# #, #g' <<<"${allowed[$dir]}")
    echo "${file#"$root"/}:$line includes \"$included\", but $dir/ may include only from ${may:-itself} (docs/architecture.md)" >&2
    status=1
  done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]+/' "$path" \
             --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh' || true)
done
# The command's numeric flags use apps/flag_checks.h, whose messages read as
# people write ranges; CLI11's own checks print 309-digit bounds.
while IFS= read -r hit; do
  echo "${hit#"$root"/}: use apps/flag_checks.h (whole_number_in, number_in, non_negative_number, positive_number)," \
       "not CLI11's numeric checks" >&2
  status=1
done < <(grep -rnE 'CLI::(Range|Bound|NonNegativeNumber|PositiveNumber)\b' "$root/apps" --include='*.cpp' --include='*.h' || true)
[[ $status -eq 0 ]] && echo "layering_test.sh: every #include follows the layer table of docs/architecture.md; apps/ checks numbers with apps/flag_checks.h"
exit $status
