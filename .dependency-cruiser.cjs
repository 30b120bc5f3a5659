// The import direction of README.md's architecture table, checked by `npm test`.
// Imports flow from the edge (src/cli, src/engine, src/bus) inward to the contract (events/).
// Type-only imports count like any other: a type is a dependency on its module's meaning.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'events-imports-only-zod',
      comment: 'events/ is the contract clients import: pure data, nothing of novanet, no Node built-ins, zod alone',
      severity: 'error',
      from: { path: '^events/' },
      to: { pathNot: ['^events/', '^node_modules/zod/'] },
    },
    {
      name: 'projections-import-only-events',
      comment: 'projections/ are pure folds of the events: nothing else of novanet, no package, no Node built-in (no I/O, clock or randomness)',
      severity: 'error',
      from: { path: '^projections/' },
      to: { pathNot: ['^events/', '^projections/'] },
    },
    {
      name: 'deciders-import-only-events-and-projections',
      comment: 'src/commands/ decides on the view alone: no reconciler, bus, OVSDB, engine, CLI or sandbox, and no Node built-in (deciders are pure)',
      severity: 'error',
      from: { path: '^src/commands/' },
      to: { pathNot: ['^events/', '^projections/', '^src/commands/'], dependencyTypesNot: ['npm'] },
    },
    {
      name: 'intake-imports-only-events-projections-commands',
      comment: 'src/intake/ is the write side without a transport: it knows the deciders and a CommitLog interface, never NATS, OVSDB or the reconciler',
      severity: 'error',
      from: { path: '^src/intake/' },
      to: {
        pathNot: ['^events/', '^projections/', '^src/commands/', '^src/intake/'],
        dependencyTypesNot: ['npm', 'core'],
      },
    },
    {
      name: 'reconcile-imports-only-events-projections-ovsdb',
      comment: 'src/reconcile/ knows neither the deciders nor the bus: view in, Northbound rows out',
      severity: 'error',
      from: { path: '^src/reconcile/' },
      to: {
        pathNot: ['^events/', '^projections/', '^src/reconcile/', '^src/ovsdb/'],
        dependencyTypesNot: ['npm', 'core'],
      },
    },
    {
      name: 'ovsdb-imports-nothing-of-novanet',
      comment: 'src/ovsdb/ is a general OVSDB client',
      severity: 'error',
      from: { path: '^src/ovsdb/' },
      to: { pathNot: '^src/ovsdb/', dependencyTypesNot: ['npm', 'core'] },
    },
    {
      name: 'sandbox-imports-nothing-of-novanet',
      comment: 'src/sandbox/ starts real daemons for tests and `npm start`; it knows no novanet code',
      severity: 'error',
      from: { path: '^src/sandbox/' },
      to: { pathNot: '^src/sandbox/', dependencyTypesNot: ['npm', 'core'] },
    },
    {
      name: 'contract-imports-only-schemas',
      comment: 'src/contract/ renders the schemas of events/ and src/commands/ as AsyncAPI and JSON Schema documents: pure, no I/O (the CLI writes the files)',
      severity: 'error',
      from: { path: '^src/contract/' },
      to: { pathNot: ['^events/', '^src/commands/', '^src/contract/', '^node_modules/zod/'] },
    },
    {
      name: 'http-imports-only-observed-parts',
      comment: 'src/http/ (metrics, health) observes the intake and the reconciler through their observer interfaces and reads views; it starts nothing and knows no transport',
      severity: 'error',
      from: { path: '^src/http/' },
      to: {
        pathNot: ['^events/', '^projections/', '^src/intake/', '^src/reconcile/', '^src/http/'],
        dependencyTypesNot: ['npm', 'core'],
      },
    },
    {
      name: 'cni-imports-only-zod',
      comment: 'src/cni/ is the CNI plugin (run once per pod: its entry, main.ts, imports Node built-ins and protocol.ts alone) and the CNI shapes the agent validates with (zod)',
      severity: 'error',
      from: { path: '^src/cni/' },
      to: { pathNot: ['^src/cni/', '^node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'cni-plugin-loads-no-package',
      comment: 'the plugin binary starts once per pod: Node built-ins and the agent protocol only, no zod (the agent validates)',
      severity: 'error',
      from: { path: '^src/cni/(main|protocol)\\.ts$' },
      to: { pathNot: '^src/cni/protocol\\.ts$', dependencyTypesNot: ['core'] },
    },
    {
      name: 'agent-imports-inward',
      comment: 'src/agent/ (the node agent) is a client of the wire contract: events, the bus client, the OVSDB client, the CNI shapes and the shared NATS settings; never the deciders, the reconciler, the intake or the sandbox',
      severity: 'error',
      from: { path: '^src/agent/' },
      to: { path: '^src/(commands|reconcile|intake|sandbox|cli)/|^src/engine/(?!config\\.ts$)|^projections/' },
    },
    {
      name: 'edge-imports-inward',
      comment: 'the bus is wired by the engine, the engine by the CLI: neither reaches outward, only the CLI and tests start a sandbox, and the CLI hangs the metrics on the engine',
      severity: 'error',
      from: { path: '^src/(bus|engine)/' },
      to: { path: '^src/(engine|cli|sandbox|http|agent)/', pathNot: '^src/$1/' },
    },
    {
      name: 'no-circular',
      comment: 'a cycle has no inside and no outside',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'production-imports-no-dev-dependency',
      comment: '`npm ci --omit=dev` must run the engine: code outside test/ uses only dependencies',
      severity: 'error',
      from: { path: '^(events|projections|src)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'an import the cruiser cannot resolve escapes every rule above',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '^node_modules/' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Resolve as Node does for an ES module, so packages that only have `exports` resolve too.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
