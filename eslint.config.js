// TypeScript lint, checked by `npm test`. typescript-eslint rather than Biome: its type-aware
// rules ask the real TypeScript checker, so a promise-typed value is known across modules
// (Biome's own inference flags `if (this.pass)` on a `Promise | undefined` as a misused promise).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', '.novanet/', 'node_modules/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // The engine is promises all the way down (NATS, JetStream, OVSDB): a promise nobody
      // awaits loses its rejection, and an async callback where a void one is expected
      // (an event handler, a timer) turns an error into an unhandled rejection.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // STYLE.md's never check, mechanically: a switch over a union names every member, so a
      // new event is an error wherever it is not handled (a `default:` does not count).
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // `const { observedSeq: _, ...rest } = status` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
);
