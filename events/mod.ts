export * from './tenant.js';
export * from './network.js';
export * from './commit.js';
export * from './subjects.js';
