// Generates fixtures/groupmeter/mods.jsonl: the GROUP_MOD / METER_MOD bytes real `ovs-ofctl -O
// OpenFlow13 --no-names` sends for each line of fixtures/groupmeter/mods.txt, captured by a fake
// OpenFlow 1.3 switch on 127.0.0.1 (adapted from the shared of13-capture tool). Nothing here uses
// ofctl-ts code: every byte and message comes from ovs-ofctl.
//
//   npx tsc -p tsconfig.json && node dist/scripts/gen-group-meter-mods.js [IN [OUT]]
//
// A line is `COMMAND [ARG]` (add-group, mod-group, del-groups, add-meter, mod-meter, del-meters;
// `mod-group --may-create ARG` too); `#` starts a comment line. Each output line is
// {"command","arg","exit","stderr","mods":[hex…]} (the xids as ovs-ofctl sent them).
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type AddressInfo } from 'node:net';

const root = new URL('../../', import.meta.url);
const input = process.argv[2] ?? new URL('fixtures/groupmeter/mods.txt', root).pathname;
const output = process.argv[3] ?? new URL('fixtures/groupmeter/mods.jsonl', root).pathname;

const OFPT_GROUP_MOD = 15;
const OFPT_METER_MOD = 29;

function header(version: number, type: number, len: number, xid: number): Buffer {
  const b = Buffer.alloc(len);
  b[0] = version;
  b[1] = type;
  b.writeUInt16BE(len, 2);
  b.writeUInt32BE(xid >>> 0, 4);
  return b;
}

/** Just enough of a switch for ovs-ofctl's mods: echo, features, config, barrier, empty multipart replies. */
function answer(req: Buffer): Buffer | undefined {
  const [v, t] = [req[0]!, req[1]!];
  const xid = req.readUInt32BE(4);
  switch (t) {
    case 2: { // ECHO_REQUEST
      const out = Buffer.from(req);
      out[1] = 3;
      return out;
    }
    case 5: { // FEATURES_REQUEST
      const out = header(v, 6, 32, xid);
      out.writeBigUInt64BE(0xc0dec0den, 8);
      out[20] = 254;
      return out;
    }
    case 7: { // GET_CONFIG_REQUEST
      const out = header(v, 8, 12, xid);
      out.writeUInt16BE(0xffff, 10);
      return out;
    }
    case 18: { // MULTIPART_REQUEST: an empty reply of its type
      const out = header(v, 19, 16, xid);
      out.writeUInt16BE(req.readUInt16BE(8), 8);
      return out;
    }
    case 20: // BARRIER_REQUEST
      return header(v, 21, 8, xid);
    default:
      return undefined;
  }
}

let captured: string[] = [];
const server = createServer((sock: Socket) => {
  const hello = header(4, 0, 16, 1);
  hello.writeUInt16BE(1, 8);
  hello.writeUInt16BE(8, 10);
  hello.writeUInt32BE(0x10, 12); // OpenFlow 1.3 only
  sock.write(hello);
  let pending = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const len = pending.readUInt16BE(2);
      if (len < 8) return void sock.destroy();
      if (pending.length < len) break;
      const msg = pending.subarray(0, len);
      pending = pending.subarray(len);
      if (msg[1] === OFPT_GROUP_MOD || msg[1] === OFPT_METER_MOD) captured.push(msg.toString('hex'));
      const out = answer(msg);
      if (out) sock.write(out);
    }
  });
  sock.on('error', () => undefined);
});

interface Run { exit: number; stderr: string }
const ofctl = (argv: readonly string[]): Promise<Run> => new Promise((resolve) => {
  execFile('ovs-ofctl', argv, { timeout: 10_000 }, (err, _stdout, stderr) => {
    resolve({ exit: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr });
  });
});

async function main(): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = `tcp:127.0.0.1:${(server.address() as AddressInfo).port}`;
  const lines: string[] = [];
  for (const line of readFileSync(input, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const m = /^(\S+)(?: (--may-create))?(?: (.*))?$/.exec(line)!;
    const [, command, option, arg] = m;
    captured = [];
    const run = await ofctl(['-O', 'OpenFlow13', '--no-names', ...(option ? [option] : []), command!, target, ...(arg === undefined ? [] : [arg])]);
    // Strip ovs-ofctl's log prefix (timestamp and sequence) from warnings: they differ per run.
    const stderr = run.stderr.replace(/^\d{4}-\d\d-\d\dT[^|]*\|\d+\|/gm, '');
    lines.push(JSON.stringify({ command: option ? `${command} ${option}` : command, arg: arg ?? null, exit: run.exit, stderr, mods: captured }));
  }
  server.close();
  writeFileSync(output, `${lines.join('\n')}\n`);
  process.stdout.write(`gen-group-meter-mods: ${lines.length} lines -> ${output}\n`);
}

await main();
