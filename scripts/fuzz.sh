#!/usr/bin/env bash
# Runs every Fuzz target in the module for FUZZTIME (default 20s) each.
# (The seed corpora also run, without fuzzing, as part of `go test`.)
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-20s}"
found=0
while IFS= read -r file; do
	pkg="./$(dirname "${file#./}")"
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]*)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(/\1/'); do
		found=$((found + 1))
		echo "== $pkg $target ($FUZZTIME)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
	done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' . | grep -v '/testdata/' | sort)
echo "fuzz: $found target(s) run"
