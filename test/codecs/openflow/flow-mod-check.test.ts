// A FLOW_MOD whose actions its match does not allow, or whose conjunction stands beside other
// actions or instructions, is refused at decode with OVS's error, as ovs-ofctl ofp-print refuses
// the same bytes (OVS's ofpacts_check_consistency() and ofpacts_verify()); so is an action an
// action set (write_actions) may not hold (OFPBAC_BAD_TYPE). The bytes are made by
// parsing the flow with a match that allows the actions, then putting another match in its place.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseFlow } from '../../../codecs/ofctl/parse-flow.js';
import { RefusedMessage } from '../../../codecs/openflow/errors.js';
import type { Instructions } from '../../../codecs/openflow/instructions.js';
import { decodeMessage, encodeMessage } from '../../../codecs/openflow/messages.js';

const run = promisify(execFile);

interface Case {
  /** A match the actions are parsed with, the actions, and the match the FLOW_MOD carries. */
  readonly ok: string; readonly actions: string; readonly match: string;
  /** Instructions added after parsing (the parser refuses them beside a conjunction). */
  readonly extra?: Partial<Instructions>;
}

const CASES: readonly Case[] = [
  { ok: 'ip', actions: 'set_field:1.2.3.4->ip_src', match: '' },
  { ok: 'ip', actions: 'set_field:1.2.3.4->ip_src', match: 'ipv6' },
  { ok: 'ip', actions: 'set_field:1.2.3.4->ip_src', match: 'ip,nw_src=10.0.0.1' },
  { ok: 'tcp', actions: 'set_field:80->tcp_dst', match: 'udp' },
  { ok: 'ip', actions: 'dec_ttl', match: 'arp' },
  { ok: 'ipv6', actions: 'set_field:9->nw_ttl', match: '' },
  { ok: 'tcp', actions: 'fin_timeout(idle_timeout=5)', match: 'ip' },
  { ok: 'mpls', actions: 'dec_mpls_ttl', match: '' },
  { ok: 'mpls', actions: 'pop_mpls:0x0800,dec_ttl', match: 'mpls' },
  { ok: 'ip', actions: 'push_mpls:0x8847,set_mpls_ttl(3)', match: '' },
  { ok: 'dl_vlan=5', actions: 'pop_vlan', match: '' },
  { ok: 'dl_vlan=5', actions: 'pop_vlan', match: 'dl_vlan=7' },
  { ok: '', actions: 'push_vlan:0x8100,set_field:4101->vlan_vid', match: '' },
  { ok: 'dl_vlan=5', actions: 'set_field:4102->vlan_vid', match: '' },
  { ok: 'ip', actions: 'move:NXM_OF_IP_SRC[]->NXM_NX_REG0[]', match: '' },
  { ok: 'ip', actions: 'move:NXM_NX_REG0[]->NXM_OF_IP_DST[]', match: 'arp' },
  { ok: 'ip', actions: 'load:0x1->NXM_OF_IP_TOS[2..7]', match: '' },
  { ok: 'ip', actions: 'push:NXM_OF_IP_SRC[]', match: '' },
  { ok: 'ip', actions: 'ct(commit)', match: '' },
  { ok: 'ip', actions: 'ct(commit,exec(set_field:1->ct_mark))', match: 'ipv6' },
  { ok: 'ip', actions: 'clone(dec_ttl)', match: '' },
  { ok: 'ip', actions: 'write_actions(dec_ttl)', match: '' },
  { ok: 'ip', actions: 'write_actions(pop_vlan)', match: 'ip' },
  { ok: 'ip', actions: 'write_actions(set_field:1.2.3.4->ip_src)', match: '' },
  { ok: 'ip', actions: 'write_actions(ct(commit))', match: '' },
  { ok: 'ip', actions: 'write_actions(move:NXM_OF_IP_SRC[]->NXM_NX_REG0[])', match: '' },
  // What an action set (write_actions) may hold: OVS 3.1 refuses the others with OFPBAC_BAD_TYPE.
  { ok: 'tcp', actions: 'write_actions(fin_timeout(idle_timeout=1))', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(note:01)', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(learn(table=1))', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(exit)', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(pop_queue)', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(sample(probability=1))', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(push:NXM_NX_REG0[])', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(clone(output:1))', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(multipath(eth_src,50,modulo_n,1,0,NXM_NX_REG0[]))', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(output(port=1,max_len=100))', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(output:NXM_NX_REG0[])', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(controller(reason=no_match))', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(bundle(eth_src,0,hrw,ofport,members:1,2))', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(check_pkt_larger(100)->NXM_NX_REG0[0])', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(delete_field:tun_metadata0)', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(enqueue:1:2)', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(controller)', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(resubmit(,2))', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(ct_clear)', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(group:1)', match: 'tcp' },
  { ok: 'tcp', actions: 'write_actions(set_queue:1,output:1)', match: 'tcp' },
  { ok: '', actions: 'conjunction(1,1/2)', match: '' },
  { ok: '', actions: 'conjunction(1,1/2),note:01', match: '' },
  { ok: '', actions: 'conjunction(1,1/2)', match: '', extra: { gotoTable: 5 } },
  { ok: '', actions: 'conjunction(1,1/2)', match: '', extra: { meter: 1 } },
  { ok: '', actions: 'conjunction(1,1/2)', match: '', extra: { clear: true } },
  { ok: '', actions: 'conjunction(1,1/2)', match: '', extra: { write: [{ type: 'output', port: 1, maxLen: 0 }] } },
  { ok: '', actions: 'conjunction(1,1/2)', match: '', extra: { apply: [{ type: 'conjunction', id: 1, clause: 0, nClauses: 2 }, { type: 'output', port: 1, maxLen: 0 }] } },
];

/** OVS's verdict on the bytes: its decode error's name, or 'ok'. */
async function ovsVerdict(hex: string): Promise<string> {
  const { stdout } = await run('ovs-ofctl', ['ofp-print', hex]);
  return /\*\*\*decode error: (\w+)\*\*\*/.exec(stdout.split('\n')[0]!)?.[1] ?? 'ok';
}

function ourVerdict(hex: string): string {
  const r = decodeMessage(Buffer.from(hex, 'hex'));
  return r.ok ? 'ok' : r.error instanceof RefusedMessage ? r.error.ofpError : r.error.message;
}

describe('FLOW_MOD actions checked against their match at decode, as OVS checks them', function () {
  this.timeout(60_000);

  it('each case is refused (or accepted) as ovs-ofctl ofp-print refuses (or accepts) the same bytes', async () => {
    const verdicts: string[] = [];
    for (const c of CASES) {
      const parsed = parseFlow(`${c.ok ? `${c.ok},` : ''}actions=${c.actions}`);
      const match = parseFlow(`${c.match ? `${c.match},` : ''}actions=drop`).match;
      const hex = encodeMessage({ ...parsed, match, instructions: { ...parsed.instructions, ...c.extra }, xid: 1 }).toString('hex');
      const theirs = await ovsVerdict(hex);
      verdicts.push(theirs);
      expect(ourVerdict(hex), `${c.match} actions=${c.actions} ${JSON.stringify(c.extra ?? {}, (_, v: unknown) => v)}: ${hex}`).to.equal(theirs);
    }
    // The set holds both answers and both errors, so it tests something either way.
    expect(new Set(verdicts)).to.deep.equal(new Set(['ok', 'OFPBAC_MATCH_INCONSISTENT', 'NXBAC_BAD_CONJUNCTION', 'OFPBAC_BAD_TYPE']));
  });
});
