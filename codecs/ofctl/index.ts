// The ovs-ofctl flow text: parseFlow(text) -> FlowMod, formatFlow(flow) -> text.
export { formatFlow, formatDuration } from './format-flow.js';
export { formatMatch } from './format-match.js';
export { formatInstructions, formatAction } from './format-actions.js';
export { parseFlow, FlowSyntaxError } from './parse-flow.js';
export type { ParseOptions } from './parse-flow.js';
