export * from './tenant.js';
export * from './network.js';
export * from './security.js';
export * from './external.js';
export * from './quota.js';
export * from './commit.js';
export * from './subjects.js';
export * from './status.js';
