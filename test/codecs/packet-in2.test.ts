// NXT_PACKET_IN2 (what ovs-ofctl monitor asks OVS for) printed as `ovs-ofctl ofp-print` prints it,
// asked of OVS itself: OVS's own test message without its VLAN tag (table, cookie, buffer,
// full_len, metadata, userdata), and a bare one as OVS 3.1 sends it to a monitor.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { formatMessage } from '../../codecs/ofctl/format-message.js';
import { decodeMessage } from '../../codecs/openflow/messages.js';
import { assertOvsInstalled } from '../../testing/sandbox.js';

const MESSAGES = [
  '0404009000000000000023200000001e0000003082828282828280818181818108004500002800000000000632055353535354545454005500560000000000000001'
  + '000800000040000200080000011400030005070000000004001000000000fedcba9876543210000500050100000000060010800004085a5a5a5a5a5a5a5a000700090102030405000000'
  + '00000000',
  // As ovs-vswitchd 3.1 sends a monitor a packet-out to CONTROLLER from port 1: packet, table, reason, in_port.
  '0404007000000000000023200000001e0000003a505400000001505400000002080045000028000000004006f97cc0a80001c0a800020000000000000000000000'
  + '005000000000000000000000000000000300050000000000050005010000000006000c800000040000000100000000',
];

describe('NXT_PACKET_IN2: printed as ovs-ofctl ofp-print prints it', () => {
  before(assertOvsInstalled);
  for (const hex of MESSAGES) {
    it(`${hex.slice(0, 40)}…`, () => {
      const res = decodeMessage(Buffer.from(hex, 'hex'));
      expect(res.ok).to.equal(true);
      const ours = res.ok ? formatMessage(res.msg) : undefined;
      expect(ours).to.equal(execFileSync('ovs-ofctl', ['ofp-print', hex], { encoding: 'utf8' }));
    });
  }
});
