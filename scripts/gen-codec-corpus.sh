#!/usr/bin/env bash
# Generate the codec reference corpus from real Open vSwitch (ovs-ofctl / ovs-vswitchd 3.1).
#
#   scripts/gen-codec-corpus.sh [FLOWS_FILE]
#
# Input : fixtures/codec/flows.txt (default), one ovs-ofctl add-flow line per flow, '#' comments.
# Output: fixtures/codec/corpus.jsonl         one JSON object per flow:
#           {"input", "flowMod", "parsePrint", "dump"}
#         fixtures/codec/stats-replies.jsonl  one JSON object per OFPT_MULTIPART_REPLY (flow stats):
#           {"reply", "print"}
# See fixtures/codec/README.md for the exact meaning of every field.
#
# Nothing here uses ofctl-ts code: every byte and every string comes from OVS.
# A private ovsdb-server + ovs-vswitchd pair is started in a mktemp directory, with the
# userspace datapath in dummy mode (--enable-dummy=override --disable-system: no tap devices,
# no kernel module), and stopped again (by pid) on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR="$ROOT/fixtures/codec"
FLOWS=${1:-"$OUT_DIR/flows.txt"}
CORPUS="$OUT_DIR/corpus.jsonl"
STATS="$OUT_DIR/stats-replies.jsonl"
BR=br0

for tool in ovs-ofctl ovs-vsctl ovs-vswitchd ovsdb-server ovsdb-tool node; do
    command -v "$tool" >/dev/null || { echo "gen-codec-corpus: $tool not found" >&2; exit 1; }
done
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
[ -r "$SCHEMA" ] || { echo "gen-codec-corpus: $SCHEMA not found" >&2; exit 1; }
[ -r "$FLOWS" ] || { echo "gen-codec-corpus: cannot read $FLOWS" >&2; exit 1; }

# Short path: unix socket names must stay under ~100 bytes.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gen-codec.XXXXXX")
STARTED_PIDS=()

stop_daemons() {
    # Stop only the daemons this script started, newest first, by pid.
    local i pid n
    for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${STARTED_PIDS[i]}
        kill "$pid" 2>/dev/null || continue
        for ((n = 0; n < 50; n++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    done
    STARTED_PIDS=()
}
cleanup() {
    local rc=$?
    stop_daemons
    if [ "$rc" -ne 0 ]; then
        echo "gen-codec-corpus: failed (rc=$rc); daemon logs:" >&2
        tail -n 20 "$WORK"/*.stderr "$WORK"/*.log >&2 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Keep every OVS default path inside $WORK.
export OVS_RUNDIR="$WORK" OVS_DBDIR="$WORK" OVS_LOGDIR="$WORK" OVS_SYSCONFDIR="$WORK"

start_daemon() { # name, then the command (which must --detach and write $WORK/name.pid)
    local name=$1; shift
    "$@" 2>> "$WORK/$name.stderr"
    [ -s "$WORK/$name.pid" ] || { echo "gen-codec-corpus: $name did not write its pidfile" >&2; return 1; }
    STARTED_PIDS+=("$(cat "$WORK/$name.pid")")
}

ovsdb-tool create "$WORK/conf.db" "$SCHEMA"
start_daemon ovsdb-server \
    ovsdb-server "$WORK/conf.db" --remote="punix:$WORK/db.sock" --pidfile="$WORK/ovsdb-server.pid" \
    --unixctl="$WORK/ovsdb-server.ctl" --detach --no-chdir --log-file="$WORK/ovsdb-server.log" -vconsole:off
VSCTL=(ovs-vsctl --db="unix:$WORK/db.sock" --timeout=20)
"${VSCTL[@]}" --no-wait init
start_daemon ovs-vswitchd \
    ovs-vswitchd "unix:$WORK/db.sock" --enable-dummy=override --disable-system \
    --pidfile="$WORK/ovs-vswitchd.pid" --unixctl="$WORK/ovs-vswitchd.ctl" \
    --detach --no-chdir --log-file="$WORK/ovs-vswitchd.log" -vconsole:off
"${VSCTL[@]}" add-br "$BR" -- set bridge "$BR" datapath_type=netdev fail_mode=secure
MGMT="unix:$WORK/$BR.mgmt"
for ((n = 0; n < 100; n++)); do [ -S "$WORK/$BR.mgmt" ] && break; sleep 0.1; done

OFCTL=(ovs-ofctl -O OpenFlow13)
# Objects that flows of the corpus refer to: meter:1, group:1 and the TLV map below.
"${OFCTL[@]}" add-meter "$MGMT" meter=1,kbps,band=type=drop,rate=1000
"${OFCTL[@]}" add-group "$MGMT" group_id=1,type=all,bucket=output:1
# The Geneve TLV map of fixtures/codec/tlv-map.txt, so that flows on tun_metadata0/1/2/63 load (a switch refuses unmapped ones).
# The switch then writes each value at its mapped length (tun_metadata0: 4 bytes).
"${OFCTL[@]}" add-tlv-map "$MGMT" "$(cat "$OUT_DIR/tlv-map.txt")"
# fail_mode=secure: a fresh bridge has no flows at all (no "priority=0 actions=NORMAL").

VERSION=$(ovs-vswitchd --version | head -n 1)

# ---- 1. One flow at a time --------------------------------------------------------------
# For flow i: $WORK/f/i.input  the line as written in flows.txt
#             $WORK/f/i.parse  stdout of `ovs-ofctl -O OpenFlow13 -mmmmm parse-flow LINE`
#             $WORK/f/i.dump   stdout of `dump-flows --no-stats` after adding LINE alone
mkdir "$WORK/f"
: > "$WORK/inputs.txt"
i=0
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    case "$line" in '' | '#'*) continue ;; esac
    i=$((i + 1))
    f="$WORK/f/$i"
    printf '%s' "$line" > "$f.input"
    printf '%s\n' "$line" >> "$WORK/inputs.txt"
    if ! "${OFCTL[@]}" -mmmmm parse-flow "$line" > "$f.parse" 2> "$f.parse-err"; then
        echo "gen-codec-corpus: $FLOWS:$lineno: parse-flow refused the flow:" >&2
        cat "$f.parse-err" >&2
        exit 1
    fi
    # OVS accepts some lines with a warning (e.g. a match field dropped for a missing
    # prerequisite); show them, they usually mean the line does not test what it says.
    if [ -s "$f.parse-err" ]; then
        echo "gen-codec-corpus: note: $FLOWS:$lineno: parse-flow warned:" >&2
        cat "$f.parse-err" >&2
    fi
    "${OFCTL[@]}" del-flows "$MGMT"
    if ! "${OFCTL[@]}" add-flow "$MGMT" "$line" 2> "$f.add-err"; then
        echo "gen-codec-corpus: $FLOWS:$lineno: add-flow refused the flow:" >&2
        cat "$f.add-err" >&2
        exit 1
    fi
    "${OFCTL[@]}" --no-names dump-flows --no-stats "$MGMT" > "$f.dump"
done < "$FLOWS"
N=$i
echo "gen-codec-corpus: $N flows encoded, added and dumped one by one" >&2
[ "$N" -gt 0 ] || { echo "gen-codec-corpus: no flows in $FLOWS" >&2; exit 1; }

# ---- 2. All flows together, then one flow-stats dump -----------------------------------
"${OFCTL[@]}" del-flows "$MGMT"
"${OFCTL[@]}" add-flows "$MGMT" "$WORK/inputs.txt"
"${OFCTL[@]}" --no-names dump-flows --no-stats "$MGMT" > "$WORK/all.nostats"
# -mmmmm: ovs-ofctl prints each reply it received (text) followed by a hex dump of the very
# same bytes. The text is only used as a cross-check; "print" comes from ofp-print below.
"${OFCTL[@]}" --no-names -mmmmm dump-flows "$MGMT" > "$WORK/all.stats"

stop_daemons

# ---- 3. Assemble and check the JSONL files (node: JSON escaping, hex parsing, ofp-print) ----
node - "$WORK" "$N" "$WORK/corpus.jsonl" "$WORK/stats-replies.jsonl" <<'JS'
'use strict';
const fs = require('fs');
const { execFileSync } = require('child_process');
const [work, nStr, corpusOut, statsOut] = process.argv.slice(2);
const N = Number(nStr);
const fail = (msg) => { console.error('gen-codec-corpus: ' + msg); process.exit(1); };
const read = (p) => fs.readFileSync(p, 'utf8');

// Hex dump lines look like "00000010  00 70 04 00 00 00 00 00-00 7a 12 00 00 01 00 00 |.p...|".
const HEXLINE = /^([0-9a-f]{8})  ((?:[0-9a-f]{2}[ -]){1,16})/;
function hexDumpToMessages(lines) {
  const msgs = [];
  let cur = null;
  let texts = [];
  let text = [];
  for (const l of lines) {
    const m = HEXLINE.exec(l);
    if (!m) {
      if (cur) { msgs.push(cur); texts.push(text); cur = null; text = []; }
      text.push(l);
      continue;
    }
    const off = parseInt(m[1], 16);
    if (off === 0) {
      if (cur) { msgs.push(cur); texts.push(text); text = []; }
      cur = '';
    }
    if (cur === null) fail('hex dump continues without a start: ' + l);
    if (cur.length / 2 !== off) fail(`hex dump offset ${m[1]} after ${cur.length / 2} bytes`);
    cur += m[2].replace(/[ -]/g, '');
  }
  if (cur) { msgs.push(cur); texts.push(text); }
  for (const h of msgs) {
    const len = parseInt(h.slice(4, 8), 16);
    if (len * 2 !== h.length) fail(`message length field ${len} but ${h.length / 2} bytes dumped`);
  }
  return { msgs, texts };
}
const zeroXid = (h) => h.slice(0, 8) + '00000000' + h.slice(16);
const ofpPrint = (h) => execFileSync('ovs-ofctl', ['ofp-print', h], { encoding: 'utf8', maxBuffer: 1 << 28 });

// Corpus.
const PREFIX = 'OFPT_FLOW_MOD (OF1.3) (xid=0x1): ';
const corpus = [];
for (let i = 1; i <= N; i++) {
  const base = `${work}/f/${i}`;
  const input = read(base + '.input');
  const lines = read(base + '.parse').split('\n').filter((l) => l !== '');
  const printed = lines.filter((l) => l.startsWith('OFPT_'));
  if (printed.length !== 1 || !printed[0].startsWith(PREFIX)) fail(`flow ${i} (${input}): unexpected parse-flow output:\n${lines.join('\n')}`);
  const { msgs } = hexDumpToMessages(lines.filter((l) => HEXLINE.test(l)));
  if (msgs.length !== 1) fail(`flow ${i} (${input}): ${msgs.length} hex messages`);
  const flowMod = msgs[0];
  if (flowMod.slice(0, 4) !== '040e' || flowMod.slice(8, 16) !== '00000001') fail(`flow ${i}: not an OF1.3 FLOW_MOD with xid 1: ${flowMod.slice(0, 16)}`);
  const dumpLines = read(base + '.dump').split('\n').filter((l) => l !== '');
  if (dumpLines.length !== 1) fail(`flow ${i} (${input}): dump-flows printed ${dumpLines.length} lines:\n${dumpLines.join('\n')}`);
  const entry = { input, flowMod: zeroXid(flowMod), parsePrint: printed[0].slice(PREFIX.length), dump: dumpLines[0] };
  // Cross-check: OVS decodes the stored (xid-zeroed) bytes back to the same text.
  const back = ofpPrint(entry.flowMod);
  if (back !== `OFPT_FLOW_MOD (OF1.3) (xid=0x0): ${entry.parsePrint}\n`) fail(`flow ${i} (${input}): ofp-print of flowMod gives ${JSON.stringify(back)}`);
  corpus.push(entry);
}

// All flows must coexist: the combined dump holds exactly the per-flow dump lines.
const sortLines = (a) => [...a].sort();
const all = read(`${work}/all.nostats`).split('\n').filter((l) => l !== '');
const want = sortLines(corpus.map((c) => c.dump));
const got = sortLines(all);
if (got.length !== N) fail(`bridge holds ${got.length} flows after add-flows, expected ${N} (some lines replace others?)`);
for (let k = 0; k < N; k++) {
  if (got[k] !== want[k]) fail(`combined dump differs from per-flow dumps:\n got  ${got[k]}\n want ${want[k]}`);
}

// Stats replies.
const statsLines = read(`${work}/all.stats`).split('\n');
if (statsLines[statsLines.length - 1] === '') statsLines.pop();
const { msgs, texts } = hexDumpToMessages(statsLines);
if (msgs.length === 0) fail('no flow stats reply captured');
const stats = [];
let flowsSeen = 0;
msgs.forEach((h, k) => {
  // OFPT_MULTIPART_REPLY (19), OF1.3, multipart type OFPMP_FLOW (1).
  if (h.slice(0, 4) !== '0413' || h.slice(16, 20) !== '0001') fail(`reply ${k} is not an OF1.3 flow stats reply: ${h.slice(0, 24)}`);
  const more = parseInt(h.slice(20, 24), 16) & 1;
  if (more !== (k < msgs.length - 1 ? 1 : 0)) fail(`reply ${k}: unexpected REPLY_MORE flag ${more}`);
  // Cross-check: ofp-print of the captured bytes reproduces what dump-flows printed for them.
  const orig = ofpPrint(h);
  const shown = texts[k].join('\n') + '\n';
  if (orig !== shown) fail(`reply ${k}: ofp-print of the captured bytes differs from the dump-flows text`);
  const reply = zeroXid(h);
  const print = ofpPrint(reply);
  flowsSeen += print.split('\n').filter((l) => l.startsWith(' ')).length;
  stats.push({ reply, print });
});
if (flowsSeen !== N) fail(`stats replies hold ${flowsSeen} flows, expected ${N}`);

fs.writeFileSync(corpusOut, corpus.map((c) => JSON.stringify(c)).join('\n') + '\n');
fs.writeFileSync(statsOut, stats.map((s) => JSON.stringify(s)).join('\n') + '\n');
console.error(`gen-codec-corpus: ${N} flows; ${stats.length} flow stats repl${stats.length === 1 ? 'y' : 'ies'} ` +
  `(${msgs.map((h) => h.length / 2).join(', ')} bytes)`);
JS
cp "$WORK/corpus.jsonl" "$CORPUS"
cp "$WORK/stats-replies.jsonl" "$STATS"
echo "gen-codec-corpus: wrote $CORPUS and $STATS ($VERSION)" >&2
