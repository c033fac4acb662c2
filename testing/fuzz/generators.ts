// The fuzz campaign's generators in one place: the seed and PRNG, and the inputs of each decoder.
export { FUZZ_SEED, Rng, rngFor, Stream } from './rng.js';
export { lengthFields, OpenFlowInputs, openflowSeeds, ovsMessages } from './gen-openflow.js';
export type { LengthField, OfInput, OfSeed, OfStrategy } from './gen-openflow.js';
export { FlowTextInputs, flowTextSeeds } from './gen-flow-text.js';
export type { FlowTextInput, FlowTextStrategy } from './gen-flow-text.js';
export { FUZZ_COLUMNS, FUZZ_MONITORED, FUZZ_SCHEMA, JsonGen, OvsdbInputs } from './gen-ovsdb.js';
export type { ColumnShape, OvsdbInput, OvsdbStrategy } from './gen-ovsdb.js';
