/**
 * Layer and module boundaries (ARCHITECTURE.md, rules 1 and 3). `npm run lint` fails on any violation.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-framework-free',
      comment: 'domain/ holds plain TypeScript: no Nest, no ORM, no queue or HTTP libraries.',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/domain/' },
      to: { path: 'node_modules/(@nestjs|@mikro-orm|bullmq|ioredis|socket\\.io|express|pg)(/|$)' },
    },
    {
      name: 'domain-imports-only-its-domain',
      comment: 'A domain imports its own domain and framework-free libs only.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/domain/' },
      to: { path: '^src/modules/([^/]+)/(application|infrastructure|interface)/' },
    },
    {
      name: 'modules-meet-through-public-surfaces',
      comment: "A module reaches another only through that module's index.ts (or the buses and @app/contracts).",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/(domain|application|infrastructure|interface)/', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'outside-modules-use-public-surfaces',
      comment: 'Composition code (app.module, entrypoints, tests) imports a module through its index.ts only.',
      severity: 'error',
      from: { path: '^(src/[^/]+\\.ts|src/cli/|test/|bench/)' },
      to: { path: '^src/modules/[^/]+/.+', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'libs-never-import-src',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^src/' },
    },
    {
      name: 'application-does-not-reach-infrastructure',
      comment: 'Handlers depend on ports; adapters are bound in the module file.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/application/' },
      to: { path: '^src/modules/$1/(infrastructure|interface)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import the checker cannot resolve would slip past every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { pathNot: '\\.module\\.ts$' } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|\\.d\\.ts$)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
