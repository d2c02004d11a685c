// `parley/client`: protocol clients for apps, tests, bots and load generators. Loads no load-harness code and no
// hdr-histogram; opusscript only when Opus is used.
export * from './client.js';
export * from './voice-client.js';
export * from './jitter.js';
export * from './percentile.js';
export { parseWav, toMono48k, encodeOpusFrames, readVoiceWav, opusDecoder, OPUS_FRAME_MS, type WavAudio, type PayloadDecoder } from './opus.js';
