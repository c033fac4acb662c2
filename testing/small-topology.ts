// A small topology shared by the unit tests of the topology model and of host state.

/** Two hosts, one network, one port on host a (not plugged: no ofport). */
export const TWO_HOSTS = [
  '{"type":"host","name":"a","tunnelIp":"10.0.0.1"}',
  '{"type":"host","name":"b","tunnelIp":"10.0.0.2"}',
  '{"type":"network","id":"n1","vni":1001}',
  '{"type":"port","id":"p1","network":"n1","host":"a","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
].join('\n');
