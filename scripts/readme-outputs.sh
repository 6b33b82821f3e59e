#!/usr/bin/env bash
# Every output README.md quotes is produced here, from the code, and checked.
#
#   scripts/readme-outputs.sh           check: fail (exit 1, with a diff) if a quoted output
#                                       differs from what its command prints now
#   scripts/readme-outputs.sh --write   regenerate the quoted outputs in README.md in place
#
# A quoted output is a fenced ```text block right after a marker line naming its command:
#
#   <!-- output: cargo run -q --release --example quickstart 2>/dev/null -->
#   ```text
#   ...
#   ```
#
# The command runs with bash from the repository root; its stdout replaces the block. The
# outputs are deterministic (fixed seeds; timings go to stderr), so any difference is a
# change in what the code prints. README_PROFILE=test runs `cargo run --release` commands
# with the test profile instead (same bytes, reuses the build of `cargo test`; used by CI).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:---check}"
case "$mode" in --check|--write) ;; *) echo "usage: $0 [--check|--write]" >&2; exit 2 ;; esac
profile="${README_PROFILE:-release}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="$tmp/README.md"
: > "$out"
n=0
in_block=0
skip=0
while IFS= read -r line || [[ -n "$line" ]]; do
  if [[ $skip == 1 ]]; then
    # Inside a quoted block being replaced: drop lines up to the closing fence.
    if [[ "$line" == '```' ]]; then skip=0; printf '```\n' >> "$out"; fi
    continue
  fi
  printf '%s\n' "$line" >> "$out"
  if [[ "$line" =~ ^\<\!--\ output:\ (.*)\ --\>$ ]]; then
    cmd="${BASH_REMATCH[1]}"
    if [[ "$profile" != release ]]; then cmd="${cmd//--release/--profile $profile}"; fi
    IFS= read -r fence || true
    if [[ "$fence" != '```text' ]]; then
      echo "README.md: the marker for \`$cmd\` must be followed by a \`\`\`text block" >&2
      exit 1
    fi
    printf '%s\n' "$fence" >> "$out"
    n=$((n + 1))
    echo "[$n] $cmd" >&2
    if ! bash -c "$cmd" > "$tmp/block" ; then
      echo "README.md: \`$cmd\` failed" >&2
      exit 1
    fi
    # A pipeline (`cmd | head`) hides the command's failure; an empty output shows it.
    if [[ ! -s "$tmp/block" ]]; then
      echo "README.md: \`$cmd\` printed nothing" >&2
      exit 1
    fi
    cat "$tmp/block" >> "$out"
    skip=1
  fi
done < README.md
if [[ $skip == 1 ]]; then echo "README.md: unclosed quoted block" >&2; exit 1; fi
if [[ "$mode" == --write ]]; then
  cp "$out" README.md
  echo "README.md: $n quoted outputs regenerated" >&2
elif ! diff -u README.md "$out"; then
  echo "README.md: quoted outputs differ from what the code prints; run scripts/readme-outputs.sh --write" >&2
  exit 1
else
  echo "README.md: $n quoted outputs match" >&2
fi
