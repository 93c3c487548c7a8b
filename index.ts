// troupe: the package's main entry point.
export * from './runtime/index.js';
