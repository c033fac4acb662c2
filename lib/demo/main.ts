// `npm start`: the embedded default. Starts a sandboxed ovs-vswitchd with the seed's br-tun (patch-int
// = ofport 1, vxlan-0a00644d = ofport 2), loads the seed pipeline through our codec in one atomic
// bundle, prints the flows as ovs-ofctl prints them, and traces a frame each way. Until the
// controller issue lands, this is the flow tool's end-to-end demonstration.
import { fileURLToPath } from 'node:url';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { OvsSandbox } from '../../test/ovs/sandbox.js';
import { readFlowFile } from '../flowset/flow-file.js';
import { applyFlowMods, dumpFlows } from '../switch/flow-ops.js';
import { connectSwitch } from '../switch/target.js';

const SEED = fileURLToPath(new URL('../../../fixtures/seed-003/compute-br-tun.add-flows.txt', import.meta.url));

async function main(): Promise<void> {
  const ovs = await OvsSandbox.start({ bridges: ['br-tun'] });
  const stop = async (): Promise<void> => {
    await ovs.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    await ovs.vsctl('add-port', 'br-tun', 'patch-int', '--', 'set', 'Interface', 'patch-int', 'type=patch',
      'options:peer=patch-tun', 'ofport_request=1', '--', 'add-port', 'br-tun', 'vxlan-0a00644d', '--', 'set',
      'Interface', 'vxlan-0a00644d', 'type=vxlan', 'options:remote_ip=10.0.100.77', 'options:local_ip=10.0.100.88',
      'options:in_key=flow', 'options:out_key=flow', 'ofport_request=2');
    console.log(`sandboxed ovs-vswitchd in ${ovs.dir}; bridge br-tun (patch-int=1, vxlan-0a00644d=2)\n`);
    const conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-tun') });
    const flows = readFlowFile(SEED);
    await applyFlowMods(conn, flows.map((f) => f.flow), true);
    console.log(`loaded ${flows.length} flows from ${SEED} in one atomic bundle; br-tun now holds:`);
    for (const f of await dumpFlows(conn)) console.log(` ${formatFlow(f)}`);
    conn.close('demo done');
    console.log('\nofproto/trace: unicast from patch-int (VLAN 1) to fa:16:3e:83:95:fa');
    console.log(await ovs.appctl('ofproto/trace', 'br-tun', 'in_port=1,dl_vlan=1,dl_src=fa:16:3e:00:00:01,dl_dst=fa:16:3e:83:95:fa'));
    console.log('ofproto/trace: a frame from the VXLAN port with VNI 0x3e9');
    console.log(await ovs.appctl('ofproto/trace', 'br-tun', 'in_port=2,tun_id=0x3e9,dl_src=fa:16:3e:83:95:fb,dl_dst=fa:16:3e:00:00:01', '-generate'));
  } finally {
    await stop();
  }
}

await main();
