import test from 'ava';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The import rules of .dependency-cruiser.cjs, shown to bite: a copy of the real tree with
// forbidden imports added is cruised once, and exactly the added imports are reported. The
// copied real files reporting nothing in the same run is the positive control.

const root = fileURLToPath(new URL('../../', import.meta.url));

type Violation = { from: string; to: string; rule: string };

// [file in the copy, its source, the violations it must cause]
const fixtures: [string, string, Violation[]][] = [
  [
    'events/guard-bus.ts',
    "import '../src/bus/errors.js';\nimport 'node:fs';\nimport 'zod';\n",
    [
      { from: 'events/guard-bus.ts', to: 'src/bus/errors.ts', rule: 'events-imports-only-zod' },
      { from: 'events/guard-bus.ts', to: 'fs', rule: 'events-imports-only-zod' },
    ],
  ],
  [
    'projections/guard-commands.ts',
    "import '../src/commands/mod.js';\nimport 'node:crypto';\nimport '../events/mod.js';\n",
    [
      { from: 'projections/guard-commands.ts', to: 'src/commands/mod.ts', rule: 'projections-import-only-events' },
      { from: 'projections/guard-commands.ts', to: 'crypto', rule: 'projections-import-only-events' },
    ],
  ],
  [
    'src/commands/guard-outward.ts',
    [
      "import '../reconcile/names.js';",
      "import '../bus/errors.js';",
      "import '../ovsdb/mod.js';",
      "import '../engine/config.js';",
      "import '../cli/sandbox.js';",
      "import 'node:crypto';",
      "import '../../projections/mod.js';",
      "import 'ipaddr.js';",
      '',
    ].join('\n'),
    ['src/reconcile/names.ts', 'src/bus/errors.ts', 'src/ovsdb/mod.ts', 'src/engine/config.ts', 'src/cli/sandbox.ts', 'crypto'].map(
      (to) => ({ from: 'src/commands/guard-outward.ts', to, rule: 'deciders-import-only-events-and-projections' }),
    ),
  ],
  [
    'src/reconcile/guard-outward.ts',
    "import '../commands/mod.js';\nimport type {} from '../bus/status.js';\nimport '../ovsdb/mod.js';\nimport '../../projections/mod.js';\nimport 'node:crypto';\nimport 'pino';\n",
    ['src/commands/mod.ts', 'src/bus/status.ts'].map((to) => ({
      from: 'src/reconcile/guard-outward.ts',
      to,
      rule: 'reconcile-imports-only-events-projections-ovsdb',
    })),
  ],
  [
    'src/intake/guard-outward.ts',
    "import '../bus/log.js';\nimport '../reconcile/names.js';\nimport '../commands/mod.js';\nimport 'node:crypto';\nimport 'pino';\n",
    ['src/bus/log.ts', 'src/reconcile/names.ts'].map((to) => ({ from: 'src/intake/guard-outward.ts', to, rule: 'intake-imports-only-events-projections-commands' })),
  ],
  [
    'src/ovsdb/guard-events.ts',
    "import '../../events/mod.js';\nimport 'node:net';\n",
    [{ from: 'src/ovsdb/guard-events.ts', to: 'events/mod.ts', rule: 'ovsdb-imports-nothing-of-novanet' }],
  ],
  [
    'src/sandbox/guard-ovsdb.ts',
    "import '../ovsdb/mod.js';\nimport 'node:child_process';\n",
    [{ from: 'src/sandbox/guard-ovsdb.ts', to: 'src/ovsdb/mod.ts', rule: 'sandbox-imports-nothing-of-novanet' }],
  ],
  [
    'src/bus/guard-outward.ts',
    "import '../engine/config.js';\nimport '../sandbox/mod.js';\nimport 'fast-check';\nimport './guard-missing.js';\nimport '../commands/mod.js';\nimport '../reconcile/status.js';\nimport '../agent/config.js';\n",
    [
      { from: 'src/bus/guard-outward.ts', to: 'src/engine/config.ts', rule: 'edge-imports-inward' },
      { from: 'src/bus/guard-outward.ts', to: 'src/agent/config.ts', rule: 'edge-imports-inward' },
      { from: 'src/bus/guard-outward.ts', to: 'src/sandbox/mod.ts', rule: 'edge-imports-inward' },
      {
        from: 'src/bus/guard-outward.ts',
        to: 'node_modules/fast-check/lib/fast-check.d.ts',
        rule: 'production-imports-no-dev-dependency',
      },
      { from: 'src/bus/guard-outward.ts', to: './guard-missing.js', rule: 'no-unresolvable' },
    ],
  ],
  [
    'src/cni/guard-outward.ts',
    "import '../bus/errors.js';\nimport './protocol.js';\nimport 'node:net';\nimport 'zod';\n",
    [{ from: 'src/cni/guard-outward.ts', to: 'src/bus/errors.ts', rule: 'cni-imports-only-zod' }],
  ],
  // The plugin's entry itself, with the imports it must never have (replacing the real one in the copy).
  [
    'src/cni/main.ts',
    "import './protocol.js';\nimport 'node:net';\nimport './spec.js';\n",
    [{ from: 'src/cni/main.ts', to: 'src/cni/spec.ts', rule: 'cni-plugin-loads-no-package' }],
  ],
  [
    'src/agent/guard-outward.ts',
    [
      "import '../commands/mod.js';",
      "import '../engine/engine.js';",
      "import '../../projections/mod.js';",
      "import '../sandbox/mod.js';",
      "import '../engine/config.js';",
      "import '../bus/client.js';",
      "import '../ovsdb/mod.js';",
      "import '../cni/spec.js';",
      "import 'node:net';",
      '',
    ].join('\n'),
    ['src/commands/mod.ts', 'src/engine/engine.ts', 'projections/mod.ts', 'src/sandbox/mod.ts'].map((to) => ({ from: 'src/agent/guard-outward.ts', to, rule: 'agent-imports-inward' })),
  ],
  [
    'src/engine/guard-cli.ts',
    "import '../cli/sandbox.js';\nimport '../bus/command-endpoint.js';\n",
    [{ from: 'src/engine/guard-cli.ts', to: 'src/cli/sandbox.ts', rule: 'edge-imports-inward' }],
  ],
  [
    'src/contract/guard-outward.ts',
    "import '../bus/log.js';\nimport 'node:fs';\nimport '../commands/mod.js';\nimport 'zod';\n",
    [
      { from: 'src/contract/guard-outward.ts', to: 'src/bus/log.ts', rule: 'contract-imports-only-schemas' },
      { from: 'src/contract/guard-outward.ts', to: 'fs', rule: 'contract-imports-only-schemas' },
    ],
  ],
  [
    'src/http/guard-outward.ts',
    "import '../bus/log.js';\nimport '../engine/config.js';\nimport '../ovsdb/mod.js';\nimport type {} from '../intake/intake.js';\nimport '../../projections/mod.js';\nimport 'prom-client';\nimport 'node:http';\n",
    ['src/bus/log.ts', 'src/engine/config.ts', 'src/ovsdb/mod.ts'].map((to) => ({ from: 'src/http/guard-outward.ts', to, rule: 'http-imports-only-observed-parts' })),
  ],
  // A cycle through type-only imports is a cycle too; it is reported once, at its first module.
  [
    'test/guard-cycle-a.ts',
    "import type { B } from './guard-cycle-b.js';\nexport type A = { b?: B };\n",
    [{ from: 'test/guard-cycle-a.ts', to: 'test/guard-cycle-b.ts', rule: 'no-circular' }],
  ],
  [
    'test/guard-cycle-b.ts',
    "import type { A } from './guard-cycle-a.js';\nexport type B = { a?: A };\n",
    [],
  ],
];

function depcruise(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // Exit status 1..n counts violations; the JSON on stdout is what the test reads.
    execFile(join(root, 'node_modules/.bin/depcruise'), args, { cwd, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (stdout.length > 0) resolve(stdout);
      else reject(error ?? new Error(stderr));
    });
  });
}

const key = (v: Violation) => `${v.rule}: ${v.from} -> ${v.to}`;

test('guards - every import rule reports its forbidden import, and the real tree passes beside it', async (t) => {
  const copy = await mkdtemp(join(tmpdir(), 'novanet-guards-'));
  try {
    for (const entry of ['events', 'projections', 'src', 'test', 'tsconfig.json', 'package.json', '.dependency-cruiser.cjs']) {
      await cp(join(root, entry), join(copy, entry), { recursive: true });
    }
    await symlink(join(root, 'node_modules'), join(copy, 'node_modules'));
    // The real rules; only package paths are kept as linked (node_modules/…), not resolved to the original tree.
    await writeFile(
      join(copy, 'guards.cjs'),
      "module.exports = { extends: './.dependency-cruiser.cjs', options: { preserveSymlinks: true } };\n",
    );
    for (const [file, source] of fixtures) await writeFile(join(copy, file), source);

    const result = JSON.parse(
      await depcruise(copy, ['--config', 'guards.cjs', '--output-type', 'json', 'events', 'projections', 'src', 'test']),
    ) as { summary: { violations: { from: string; to: string; rule: { name: string } }[]; totalCruised: number } };
    const reported = result.summary.violations.map((v) => key({ from: v.from, to: v.to, rule: v.rule.name }));
    const expected = fixtures.flatMap(([, , violations]) => violations.map(key));

    t.deepEqual([...new Set(reported)].sort(), expected.sort());
    t.true(result.summary.totalCruised > 150, 'the copy holds the real tree');
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
});
