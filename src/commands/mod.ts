export * from './errors.js';
export * from './context.js';
export * from './operation.js';
export * from './registry.js';
export * from './admission.js';
