// dump-flows prints most of a dump straight from the reply bytes (format-flow-stats-bytes.ts).
// Here on real dumps of a real ovs-vswitchd: the br-tun and br-int that `ofctl-ts render` gives
// for an l2pop + ARP-responder host (the bench's shape, smaller) and every flow of the codec
// corpus. Each reply printed from its bytes must equal the general decoder + printer's text of
// the same reply, and the lines must be ovs-ofctl's own, with and without stats.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytePrinterCounts, formatFlowStatsReplyBytes } from '../../codecs/ofctl/format-flow-stats-bytes.js';
import { formatFlow, formatFlowStatsReply } from '../../codecs/ofctl/format-flow.js';
import { FlowStats } from '../../codecs/openflow/flow.js';
import { hasVariableLengthField } from '../../codecs/openflow/match.js';
import { streamFlowReplies } from '../../lib/switch/flow-ops.js';
import { connectSwitch } from '../../lib/switch/target.js';
import { addCorpusBridge } from '../../testing/corpus-bridge.js';
import { l2popHost } from '../../testing/l2pop-host.js';
import { runCli } from '../../testing/run-cli.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const CORPUS = new URL('../../../fixtures/codec/flows.txt', import.meta.url);

interface Reply {
  readonly bytes: Buffer;
  readonly xid: number;
  readonly flags: number;
  readonly flows: readonly FlowStats[];
}

/** The bridge's flow stats replies, each as its bytes and as the general decoder read them. */
async function dumpReplies(box: OvsSandbox, bridge: string): Promise<Reply[]> {
  const conn = await connectSwitch({ kind: 'unix', path: box.mgmt(bridge) });
  try {
    const bytes: Buffer[] = [];
    const replies: Reply[] = [];
    await streamFlowReplies(conn, {}, (r) => replies.push({ bytes: bytes[replies.length]!, xid: r.xid, flags: r.flags, flows: r.flows }), (b) => {
      bytes.push(Buffer.from(b));
      return false; // declined: decoded by the general path too
    });
    return replies;
  } finally {
    conn.close('test done');
  }
}

// The byte printer's own writers at their edges, as OVS prints them: IPv6 addresses (RFC 5952's
// longest zero run, the first of equal ones, no `::` for one zero word, the IPv4-mapped and
// -compatible forms, CIDR and other masks, set_field) and the timeouts and flags of the stats part.
const EDGE_FLOWS = [
  'priority=1,ipv6,ipv6_src=::ffff:1.2.3.4,ipv6_dst=::1.2.3.4 actions=drop',
  'priority=2,ipv6,ipv6_src=1:0:0:1:0:0:0:1,ipv6_dst=1:0:0:2:0:0:3:4 actions=set_field:1:0:0:2:0:0:3:4->ipv6_dst',
  'priority=3,ipv6,ipv6_src=1:0:2:3:4:5:6:7,ipv6_dst=:: actions=set_field:::ffff:10.0.0.1->ipv6_src',
  'priority=4,ipv6,ipv6_src=1:2:3:4:5:6:7:8/124,ipv6_dst=fe80::/ffff:0:ffff:: actions=set_field:::1:0:0->ipv6_dst',
  'priority=5,ipv6,ipv6_src=::ffff:0:1.2.3.4,ipv6_dst=2001:db8::/1 actions=drop',
  'priority=6,icmp6,icmp_type=135,nd_target=::ffff:10.0.0.1 actions=drop',
  'priority=7,icmp6,icmp_type=136,nd_target=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff actions=drop',
  'priority=8,idle_timeout=3000,hard_timeout=6000,send_flow_rem,reset_counts,no_packet_counts,no_byte_counts,ip actions=drop',
];

const flowLines = (text: string): string[] => text.split('\n').filter((l) => l && !l.startsWith('OFPST_FLOW'))
  .map((l) => l.replace(/duration=[0-9.]+s/, 'duration=*')).sort();

describe('dump-flows text from the bytes of real dumps', function () {
  this.timeout(180_000);
  let box: OvsSandbox;
  const flowCounts = new Map<string, number>();

  before(async () => {
    box = await OvsSandbox.start({});
    const topology = join(box.dir, 'l2pop.jsonl');
    writeFileSync(topology, `${l2popHost({ networks: 60, remoteHosts: 25, ofports: true }).lines.join('\n')}\n`);
    for (const bridge of ['br-tun', 'br-int']) {
      const r = await runCli(['render', '--topology', topology, '--host', 'local', '--bridge', bridge, '--l2pop', '--arp-responder']);
      expect(r.code, r.stderr).to.equal(0);
      const file = join(box.dir, `${bridge}.flows`);
      writeFileSync(file, r.stdout);
      await box.addBridge(bridge);
      await box.ofctl('--bundle', 'add-flows', box.mgmtTarget(bridge), file);
      flowCounts.set(bridge, r.stdout.split('\n').filter((l) => l.trim()).length);
    }
    const corpus = readFileSync(CORPUS, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    const file = join(box.dir, 'corpus.flows');
    writeFileSync(file, `${corpus.join('\n')}\n`);
    await addCorpusBridge(box, 'br-corpus');
    await box.ofctl('--bundle', 'add-flows', box.mgmtTarget('br-corpus'), file);
    flowCounts.set('br-corpus', corpus.length);
    const edgeFile = join(box.dir, 'edge.flows');
    writeFileSync(edgeFile, `${EDGE_FLOWS.join('\n')}\n`);
    await box.addBridge('br-edge');
    await box.ofctl('--bundle', 'add-flows', box.mgmtTarget('br-edge'), edgeFile);
    flowCounts.set('br-edge', EDGE_FLOWS.length);
  });

  after(async () => {
    await box?.stop();
  });

  for (const bridge of ['br-tun', 'br-int', 'br-corpus', 'br-edge']) {
    it(`${bridge}: each reply printed from its bytes as the general printer prints it, and as ovs-ofctl prints it`, async () => {
      const replies = await dumpReplies(box, bridge);
      expect(replies.reduce((n, r) => n + r.flows.length, 0)).to.equal(flowCounts.get(bridge));
      bytePrinterCounts.direct = 0;
      bytePrinterCounts.decodedMatch = 0;
      bytePrinterCounts.general = 0;
      let stats = '';
      let noStats = '';
      for (const r of replies) {
        const withStats = formatFlowStatsReplyBytes(r.bytes, true);
        expect(withStats).to.equal(formatFlowStatsReply(r.xid, r.flags, r.flows));
        stats += withStats;
        const without = formatFlowStatsReplyBytes(r.bytes, false);
        expect(without).to.equal(r.flows.map((f) => ` ${formatFlow(f)}\n`).join(''));
        noStats += without;
      }
      // Every flow from its bytes, its match included.
      expect(bytePrinterCounts.direct).to.equal(2 * flowCounts.get(bridge)!);
      expect(bytePrinterCounts.general).to.equal(0);
      // Only the matches with a tun_metadataN field (variable length) are decoded.
      expect(bytePrinterCounts.decodedMatch).to.equal(2 * replies.reduce((n, r) => n + r.flows.filter((f) => hasVariableLengthField(f.match)).length, 0));
      expect(flowLines(stats)).to.deep.equal(flowLines(await box.ofctl('dump-flows', box.mgmtTarget(bridge))));
      expect(flowLines(noStats)).to.deep.equal(flowLines(await box.ofctl('dump-flows', '--no-stats', box.mgmtTarget(bridge))));
    });
  }

  it('the CLI prints the whole dump as ovs-ofctl does, with and without stats', async () => {
    for (const bridge of ['br-tun', 'br-corpus']) {
      for (const extra of [[], ['--no-stats']]) {
        const ours = await runCli(['dump-flows', bridge, ...extra], { OVS_RUNDIR: box.dir });
        expect(ours.code, ours.stderr).to.equal(0);
        const theirs = await box.ofctl('dump-flows', ...extra, box.mgmtTarget(bridge));
        const mask = (t: string): string => t.replace(/duration=[0-9.]+s/g, 'duration=*');
        expect(mask(ours.stdout)).to.equal(mask(theirs));
      }
    }
  });
});
