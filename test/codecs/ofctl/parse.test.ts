// The flow-text parser against ovs-ofctl itself: what OVS refuses we refuse (with a column and a
// reason), and the old NXM spellings of the seed dumps mean what OVS makes of them.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatFlow } from '../../../codecs/ofctl/format-flow.js';
import { FlowSyntaxError, parseFlow } from '../../../codecs/ofctl/parse-flow.js';
import { asSwitchHolds } from '../../../lib/flowset/flowset.js';
import { assertOvsInstalled } from '../../../testing/sandbox.js';

const run = promisify(execFile);

/** What `ovs-ofctl -O OpenFlow13 parse-flow` says: the printed match+actions, or its error. */
async function ovsParse(flow: string): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  try {
    const { stdout } = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'parse-flow', flow]);
    const line = stdout.split('\n').find((l) => l.startsWith('OFPT_FLOW_MOD'))!;
    return { ok: true, text: line.replace(/^OFPT_FLOW_MOD \(OF1\.3\) \(xid=0x1\): ADD (table:\d+ )?/, '') };
  } catch (err) {
    return { ok: false, error: String((err as { stderr?: string }).stderr ?? err).trim() };
  }
}

describe('flow text parser vs ovs-ofctl', () => {
  before(() => assertOvsInstalled());

  const refused: ReadonlyArray<readonly [string, RegExp]> = [
    ['foo=1,actions=drop', /unknown keyword foo/],
    ['in_port=1', /must specify an action/],
    ['in_port=1,actions=foo', /unknown action foo/],
    ['in_port=abc,actions=drop', /abc: invalid or unknown port for in_port/],
    ['dl_src=00:11:22:33:44,actions=drop', /00:11:22:33:44: invalid Ethernet address/],
    ['ip,nw_src=1.2.3.4/33,actions=drop', /IPv4 network prefix bits not between 0 and 32/],
    ['reg0=0x100000000,actions=drop', /value too large for 4-byte field reg0/],
    ['reg16=1,actions=drop', /unknown keyword reg16/],
    ['priority=70000,actions=drop', /invalid priority "70000"/],
    ['tcp,tp_src=65536,actions=drop', /value too large for 2-byte field tcp_src/],
    ['cookie=0x1/0xff,actions=drop', /flow additions cannot use a cookie mask/],
    ['table=256,actions=drop', /unknown table "256"/],
    ['actions=output:abc', /abc: output to unknown port/],
    ['actions=output:1,drop', /"drop" must not be accompanied by any other action or instruction/],
    ['actions=set_field:1->foo', /foo is not a valid OXM field name/],
    ['actions=set_field:1', /missing `->'/],
    ['actions=set_field:0x800->eth_type', /eth_type is read-only/],
    ['actions=load:5->reg0[40]', /starting bit 40 is not valid because field is only 32 bits wide/],
    ['actions=move:NXM_NX_REG0[]->NXM_NX_REG1[0..15]', /source field is 32 bits wide but destination is 16 bits wide/],
    ['actions=mod_vlan_vid:4096', /4096: not a valid VLAN VID/],
    ['actions=push_vlan:0x0800', /not a valid VLAN ethertype/],
    ['actions=resubmit(,256)', /256: resubmit to unknown table/],
    ['actions=conjunction(1,1/1)', /conjunction must have at least 2 clauses/],
    ['actions=conjunction(1,0/2)', /clause index must be positive/],
    ['actions=goto_table:2,output:1', /invalid instruction ordering/],
    ['actions=learn(table=255)', /table id 255 not valid for `learn' action/],
    // A field named without a value is "0/0"; a field that takes no mask takes only 0 or all ones.
    ['eth_src,actions=drop', /invalid Ethernet address/],
    ['ip,nw_proto=6/0xf,actions=drop', /6\/0xf: invalid mask for field nw_proto/],
    ['in_port=1/1,actions=drop', /1\/1: invalid or unknown port for in_port/],
    ['tcp,tp_src[5]=2,actions=drop', /tp_src\[5\]: value 2 does not fit into 1 bits/],
    ['actions=learn(load:123->actset_output)', /experimenter OXM field 'actset_output' not supported/],
    // The actions of codecs/actions/ beyond the Neutron set: what OVS refuses, with OVS's words.
    ['ip,actions=pop_mpls:0x800', /no usable protocol/],
    ['ip,actions=push_mpls:0x8847,dec_ttl', /no usable protocol/],
    ['mpls,actions=set_mpls_ttl(256)', /invalid MPLS TTL "256"/],
    ['actions=push_mpls:0x10000', /invalid push_mpls "0x10000"/],
    ['actions=output(port=CONTROLLER,max_len=100)', /output to unsupported truncate port: CONTROLLER/],
    ['actions=output(port=1,max_len=5)', /max_len 5 is less than the minimum value 14/],
    ['actions=controller(foo=1)', /unknown key "foo" parsing controller action/],
    ['actions=controller(reason=bogus)', /unknown reason "bogus"/],
    ['ip,actions=fin_timeout(idle_timeout=1)', /no usable protocol/],
    ['actions=bundle(eth_src,50,active_backup,ofport)', /not enough arguments to bundle action/],
    ['actions=bundle(eth_src,50,active_backup,ofport,foo:1)', /missing member delimiter, expected `members', got `foo'/],
    ['actions=multipath(eth_src,50,modulo_n,17,0,reg0[0..3])', /4-bit destination field has 16 possible values, less than specified n_links 17/],
    ['actions=check_pkt_larger(1500)->reg0[0..1]', /Only 1-bit destination field is allowed/],
    ['actions=encap(nsh(md_type=3))', /invalid md_type/],
    ['actions=decap(packet_type(ns=99))', /Unsupported ns value: 99/],
    ['actions=dec_nsh_ttl', /no usable protocol/],
    // Fields written or read need their prerequisites on the packet at that point (mf_are_prereqs_ok()).
    ['actions=set_field:1.2.3.4->ip_src', /set_field ip_src lacks correct prerequisites/],
    ['tcp,actions=set_field:80->udp_dst', /set_field udp_dst lacks correct prerequisites/],
    ['actions=set_field:4097->vlan_vid', /set_field vlan_vid lacks correct prerequisites/],
    ['dl_vlan=5,actions=pop_vlan,set_field:3->vlan_pcp', /set_field vlan_pcp lacks correct prerequisites/],
    ['actions=write_actions(set_field:1.2.3.4->ip_src)', /set_field ip_src lacks correct prerequisites/],
    ['actions=load:1->NXM_OF_TCP_DST[]', /set_field tcp_dst lacks correct prerequisites/],
    ['actions=move:NXM_OF_TCP_DST[]->reg0[0..15]', /source field tcp_dst lacks correct prerequisites/],
    ['actions=move:reg0[0..15]->NXM_OF_TCP_DST[]', /destination field tcp_dst lacks correct prerequisites/],
    ['actions=output:NXM_OF_TCP_DST[]', /source field tcp_dst lacks correct prerequisites/],
    ['actions=multipath(eth_src,50,hrw,1,0,NXM_OF_TCP_DST[])', /destination field tcp_dst lacks correct prerequisites/],
    ['ip,actions=encap(mpls),set_field:1.2.3.4->ip_src', /set_field ip_src lacks correct prerequisites/],
  ];
  for (const [flow, reason] of refused) {
    it(`refuses ${flow} as ovs-ofctl does`, async () => {
      const ovs = await ovsParse(flow);
      expect(ovs.ok, 'ovs-ofctl accepted it').to.equal(false);
      expect(() => parseFlow(flow)).to.throw(FlowSyntaxError, reason);
      try {
        parseFlow(flow);
      } catch (err) {
        expect((err as FlowSyntaxError).message).to.match(/^column \d+: /);
        expect((err as FlowSyntaxError).offset).to.be.within(0, flow.length);
      }
    });
  }

  const oldSpellings = [
    'table=2,priority=0,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00 actions=resubmit(,20)',
    'table=20,priority=1,vlan_tci=0x0001/0x0fff,dl_dst=fa:16:3e:83:95:fa actions=load:0->NXM_OF_VLAN_TCI[],load:0x3e9->NXM_NX_TUN_ID[],output:2',
    'table=22,dl_vlan=1 actions=strip_vlan,set_tunnel:0x3e9,output:2',
    'table=4,priority=1,tun_id=0x3e9 actions=mod_vlan_vid:1,resubmit(,10)',
    'dl_vlan=5,actions=mod_vlan_vid:7,mod_vlan_pcp:3',
    'ip,actions=mod_nw_tos:16,mod_nw_src:10.0.0.1,set_tunnel64:0x100000000,output:1',
    'tcp,actions=mod_tp_dst:443,mod_dl_src:00:11:22:33:44:55,enqueue:2:3',
    'priority=3 in_port=1 actions=output(4)',
    'in_port:2,actions=set_field:0x5/0xff->reg0,set_field:00:11:22:33:44:55/ff:ff:ff:00:00:00->eth_dst',
    'tcp,tp_dst,ct_state,metadata actions=drop',
    'ip,nw_proto=6/0xff,ip_dscp=5/0xff actions=drop',
    'ip,nw_proto=6/0,dl_vlan,xreg0,tcp_flags actions=drop',
    // Prerequisites met by earlier actions: a pushed VLAN (write_actions too), an encap's Ethertype.
    'actions=push_vlan:0x8100,write_actions(set_field:4097->vlan_vid)',
    'actions=push_vlan:0x8100,load:1->OXM_OF_VLAN_VID[],set_field:2->vlan_pcp',
    'ip,actions=encap(mpls),dec_mpls_ttl',
    'mplsm,actions=pop_mpls:0x800,set_field:1.2.3.4->ip_dst',
  ];
  for (const flow of oldSpellings) {
    it(`reads ${flow} as ovs-ofctl does`, async () => {
      const ovs = await ovsParse(flow);
      if (!ovs.ok) throw new Error(ovs.error);
      const ours = formatFlow(asSwitchHolds(parseFlow(flow))).replace(/^(table=\d+, )?((idle|hard)_timeout=\d+, )*/, '');
      expect(ours).to.equal(ovs.text);
    });
  }
});

describe('flow text parser: action lists parsed once per match context', () => {
  const actionsOf = (flow: string): string => formatFlow(parseFlow(flow)).replace(/^.* actions=/, '');

  it('gives the same action text what each match makes of it, whatever was parsed before', () => {
    // The same text, alternated between matches that change its meaning or make it invalid.
    for (let i = 0; i < 3; i++) {
      expect(actionsOf('tcp,actions=mod_tp_dst:80')).to.equal('set_field:80->tcp_dst');
      expect(actionsOf('udp,actions=mod_tp_dst:80')).to.equal('set_field:80->udp_dst');
      expect(() => parseFlow('ip,actions=mod_tp_dst:80')).to.throw(FlowSyntaxError, /needs a tcp, udp or sctp match/);
      expect(actionsOf('dl_vlan=5,actions=pop_vlan,output:1')).to.equal('pop_vlan,output:1');
      expect(() => parseFlow('in_port=1,actions=pop_vlan,output:1')).to.throw(FlowSyntaxError, /pop_vlan needs a VLAN/);
      expect(actionsOf('ipv6,actions=dec_ttl')).to.equal('dec_ttl');
      expect(() => parseFlow('arp,actions=dec_ttl')).to.throw(FlowSyntaxError, /dec_ttl needs an ip or ipv6 match/);
    }
  });

  it('reports an error in a repeated action list at its own column on every line', () => {
    for (const prefix of ['', 'priority=5,', 'table=2,priority=5,in_port=7,']) {
      const flow = `${prefix}actions=output:1,bogus`;
      for (let i = 0; i < 2; i++) {
        try {
          parseFlow(flow);
          expect.fail('parsed');
        } catch (err) {
          expect(err).to.be.instanceOf(FlowSyntaxError);
          expect((err as FlowSyntaxError).message).to.contain(`column ${flow.indexOf('bogus') + 1}`);
        }
      }
    }
  });
});
