// A bridge that the codec corpus's flows load into: what they refer to, set up as
// scripts/gen-codec-corpus.sh sets it up (meter 1, group 1, the Geneve TLV map of
// fixtures/codec/tlv-map.txt for the tun_metadata flows).
import { readFileSync } from 'node:fs';
import type { OvsSandbox } from './sandbox.js';

const TLV_MAP = readFileSync(new URL('../../fixtures/codec/tlv-map.txt', import.meta.url), 'utf8').trim();

export async function addCorpusBridge(box: OvsSandbox, bridge: string): Promise<void> {
  await box.addBridge(bridge);
  const t = box.mgmtTarget(bridge);
  await box.ofctl('add-meter', t, 'meter=1,kbps,band=type=drop,rate=1000');
  await box.ofctl('add-group', t, 'group_id=1,type=all,bucket=output:1');
  await box.ofctl('add-tlv-map', t, TLV_MAP);
}
