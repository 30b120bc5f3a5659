export * from './network.js';
export * from './commands.js';
