/**
 * Import rules checked by `npm run deps` (part of `npm test`). dependency-cruiser follows `import type` edges
 * too, so a cycle made only of types is still a cycle (eslint-plugin-import-x's no-cycle skips those).
 * @type {import('dependency-cruiser').IConfiguration}
 */

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere (issue 22): a cycle hides which module owns what.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'shared/domain holds pure rules and values: it never imports adapters, use cases, handlers or wiring.',
      from: { path: '^shared/domain/' },
      to: {
        path: [
          '^shared/adapters/',
          '^shared/use-cases',
          '^shared/handlers/',
          '^shared/lab/',
          '^shared/(ports|wiring|config|powertools|observability)\\.ts$',
          '^(lambdas|lib|local|scripts|test|bin)/',
        ],
      },
    },
    {
      name: 'shared-is-production',
      severity: 'error',
      comment: 'shared/ is production code: it may not import from local/, scripts/ or test/.',
      from: { path: '^shared/' },
      to: { path: '^(local|scripts|test)/' },
    },
    {
      name: 'simulator-is-independent',
      severity: 'error',
      comment:
        'local/alpaca-sim is an independent oracle of Alpaca: it may not import production code from shared/.',
      from: { path: '^local/alpaca-sim/' },
      to: { path: '^shared/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out|dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
