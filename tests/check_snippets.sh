#!/usr/bin/env bash
# The code in the docs is code that compiles (run by CTest):
#   check_snippets.sh SOURCE_DIR
# In docs/*.md, a line "<!-- snippet: FILE NAME -->" must be followed by a
# ```cpp block equal, line for line, to the lines between "// [snippet:NAME]"
# and "// [end snippet]" in FILE (a source file that CI builds and runs,
# e.g. examples/consumer/main.cpp). Fails naming each block that differs.
set -uo pipefail
root=$1
failures=0 checked=0

region() {  # region FILE NAME: the marked lines of FILE
  awk -v name="$2" '
    $0 ~ "// \\[snippet:" name "\\]" { inside = 1; found = 1; next }
    inside && /\/\/ \[end snippet\]/ { exit }
    inside { print }
    END { if (!found) exit 3 }' "$1"
}

block_after() {  # block_after DOC LINE: the ```cpp block that starts after LINE
  awk -v start="$2" '
    NR <= start { next }
    !opened && /^```cpp$/ { opened = 1; next }
    !opened && NF { exit 4 }
    opened && /^```$/ { exit }
    opened { print }' "$1"
}

for doc in "$root"/docs/*.md; do
  while IFS=: read -r line rest; do
    read -r file name <<<"$(sed -E 's/.*<!-- snippet: ([^ ]+) ([^ ]+) -->.*/\1 \2/' <<<"$rest")"
    checked=$((checked + 1))
    if [[ ! -f "$root/$file" ]]; then
      echo "FAIL: $doc:$line: no file $file"; failures=$((failures + 1)); continue
    fi
    want=$(region "$root/$file" "$name") || { echo "FAIL: $doc:$line: no snippet '$name' in $file"; failures=$((failures + 1)); continue; }
    have=$(block_after "$doc" "$line") || { echo "FAIL: $doc:$line: no \`\`\`cpp block right after the marker"; failures=$((failures + 1)); continue; }
    if [[ "$want" != "$have" ]]; then
      echo "FAIL: $doc:$line: the block differs from '$name' in $file:"
      diff <(echo "$want") <(echo "$have") | head -10
      failures=$((failures + 1))
    fi
  done < <(grep -n '<!-- snippet: ' "$doc")
done
echo "$checked snippets checked, $failures failure(s)"
[[ $checked -gt 0 && $failures -eq 0 ]]
