export * from './network.js';
export * from './commands.js';
export * from './external.js';
export * from './addresses.js';
export * from './quota.js';
export * from './view.js';
export * from './network-class.js';
export * from './blocks.js';
