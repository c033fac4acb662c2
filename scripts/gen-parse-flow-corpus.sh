#!/usr/bin/env bash
# Generate what `ovs-ofctl -O OpenFlow13 parse-flow` prints for every flow of fixtures/codec/flows.txt
# and of fixtures/codec/parse-flow-variations.txt (real OVS; no daemon needed):
#
#   scripts/gen-parse-flow-corpus.sh
#
# Output: fixtures/codec/parse-flow.jsonl, one JSON object per flow: {"input", "stdout", "error", "code"}
# (stdout whole; error: the last line of stderr, the "ovs-ofctl: " message, or "" when none; code: exit status).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/fixtures/codec/parse-flow.jsonl"
command -v ovs-ofctl >/dev/null || { echo "gen-parse-flow-corpus: ovs-ofctl not found" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gen-parse-flow.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cat "$ROOT/fixtures/codec/flows.txt" "$ROOT/fixtures/codec/parse-flow-variations.txt" | grep -v '^#' | grep -v '^$' > "$WORK/inputs.txt"
i=0
while IFS= read -r line; do
    i=$((i + 1))
    printf '%s' "$line" > "$WORK/$i.input"
    set +e
    ovs-ofctl -O OpenFlow13 parse-flow "$line" > "$WORK/$i.out" 2> "$WORK/$i.err"
    echo $? > "$WORK/$i.code"
    set -e
done < "$WORK/inputs.txt"
node - "$WORK" "$i" "$OUT" <<'JS'
'use strict';
const fs = require('fs');
const [work, n, out] = process.argv.slice(2);
const rows = [];
for (let i = 1; i <= Number(n); i++) {
  const read = (ext) => fs.readFileSync(`${work}/${i}.${ext}`, 'utf8');
  // stderr's log lines (normalization, deprecation) are OVS's own logging: only the fatal message is kept.
  const err = read('err').split('\n').filter((l) => l.startsWith('ovs-ofctl: '));
  rows.push({ input: read('input'), stdout: read('out'), error: err.length ? err[err.length - 1].slice('ovs-ofctl: '.length) : '', code: Number(read('code').trim()) });
}
fs.writeFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.error(`gen-parse-flow-corpus: ${rows.length} flows (${rows.filter((r) => r.code).length} refused) -> ${out} (${require('child_process').execFileSync('ovs-ofctl', ['--version'], { encoding: 'utf8' }).split('\n')[0]})`);
JS
