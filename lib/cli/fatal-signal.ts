// OVS's fatal_signal module as ovs-ofctl shows it: on SIGINT, SIGTERM, SIGHUP or its -t alarm it logs
// one console line, then re-raises the signal (a shell sees 128+N).
import { constants } from 'node:os';

const NAMES: Partial<Record<NodeJS.Signals, string>> = { SIGHUP: 'Hangup', SIGINT: 'Interrupt', SIGTERM: 'Terminated', SIGALRM: 'Alarm clock' };

/** `terminating with signal 2 (Interrupt)`: what fatal_signal says of a signal. */
export function terminatingWith(signal: NodeJS.Signals): string {
  return `terminating with signal ${constants.signals[signal]} (${NAMES[signal] ?? signal})`;
}

/** `2026-01-01T00:00:00Z|00001|fatal_signal|WARN|terminating with signal 2 (Interrupt)` and its newline. */
export function fatalSignalLine(signal: NodeJS.Signals, now = new Date()): string {
  return `${now.toISOString().slice(0, 19)}Z|00001|fatal_signal|WARN|${terminatingWith(signal)}\n`;
}
