// Small topologies shared by tests: the topology model's and host state's unit tests, and the
// controller tests that run one real host beside a remote one.

/** Two hosts, one network, one port on host a (not plugged: no ofport). */
export const TWO_HOSTS = [
  '{"type":"host","name":"a","tunnelIp":"10.0.0.1"}',
  '{"type":"host","name":"b","tunnelIp":"10.0.0.2"}',
  '{"type":"network","id":"n1","vni":1001}',
  '{"type":"port","id":"p1","network":"n1","host":"a","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
].join('\n');

/**
 * Host a (whose OVSDB is `dbSock`) and remote host b, each with a VM in network red (VNI 1001):
 * as event lines, for a TopologyStore.
 */
export function hostAWithRemoteB(dbSock: string): string[] {
  return [
    `{"type":"host","name":"a","tunnelIp":"10.250.0.1","ovsdb":"unix:${dbSock}"}`,
    '{"type":"host","name":"b","tunnelIp":"10.250.0.2"}',
    '{"type":"network","id":"red","vni":1001}',
    '{"type":"port","id":"vm-a","network":"red","host":"a","mac":"fa:16:3e:00:00:0a","fixedIps":["10.251.0.1"]}',
    '{"type":"port","id":"vm-b","network":"red","host":"b","mac":"fa:16:3e:00:00:0b","fixedIps":["10.251.0.2"]}',
  ];
}
