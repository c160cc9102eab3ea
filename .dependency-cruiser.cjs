/**
 * The layers of the project, as rules `npm test` enforces (npm run lint:layers). docs/decisions.md
 * explains them; README's "Project layout" names the folders.
 *
 *   functions/ (Lambda entry points) ─┐
 *   infra/, local/, bench/, tests/ ───┼─> shared/http, shared/api (the edge)
 *                                     └─> shared/runtime (per-container wiring)
 *   shared/usecases ─> shared/{storage,stripe,notifications} ─> shared/domain ─> shared/validation
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Modules form a tree: a circle (type-only ones included) means two modules are really one, or one owns a type the other needs.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'The domain is plain functions of data and a clock: it imports only the domain and shared/validation (zod), no Node built-ins, SDKs or adapters.',
      from: { path: '^shared/domain/' },
      to: { pathNot: ['^shared/domain/', '^shared/validation\\.ts$'] },
    },
    {
      name: 'validation-is-a-leaf',
      severity: 'error',
      comment: 'shared/validation.ts is the one import point for zod; it depends on nothing of ours.',
      from: { path: '^shared/validation\\.ts$' },
      to: { path: '^(shared|functions|infra|local|tests|bench)/' },
    },
    {
      name: 'usecases-know-no-edge',
      severity: 'error',
      comment:
        'Use cases raise typed errors (shared/errors.ts) and get their settings and adapters passed in: they never import the HTTP edge, route specs or the per-container wiring.',
      from: { path: '^shared/usecases/' },
      to: { path: '^shared/(http|api|runtime)/' },
    },
    {
      name: 'storage-knows-no-stripe',
      severity: 'error',
      comment: 'Storage maps domain data to DynamoDB items; Stripe shapes are translated to domain data before they reach it.',
      from: { path: '^shared/storage/' },
      to: { path: ['^shared/stripe/', '^node_modules/stripe/', '^shared/(usecases|http|api|runtime|notifications)/'] },
    },
    {
      name: 'adapters-know-no-edge',
      severity: 'error',
      comment: 'Adapters (Stripe, notifications) translate and call out; they never reach up into use cases, the edge or the wiring.',
      from: { path: '^shared/(stripe|notifications)/' },
      to: { path: '^shared/(usecases|http|api|runtime)/' },
    },
    {
      name: 'api-is-schemas',
      severity: 'error',
      comment: 'Route specs and their zod schemas: domain types, validation and the RouteSpec type only.',
      from: { path: '^shared/api/' },
      to: { path: '^shared/(usecases|storage|runtime|stripe|notifications)/' },
    },
    {
      name: 'runtime-is-below-the-edge',
      severity: 'error',
      comment: 'The per-container wiring builds adapters from the environment; the edge uses it, never the other way round.',
      from: { path: '^shared/runtime/' },
      to: { path: '^shared/(http|api)/' },
    },
    {
      name: 'shared-stands-alone',
      severity: 'error',
      comment: 'shared/ is what functions, infra, local runs and tests are built from: it never imports them.',
      from: { path: '^shared/' },
      to: { path: '^(functions|infra|local|tests|bench)/' },
    },
    {
      name: 'client-stands-alone',
      severity: 'error',
      comment:
        'clients/checkout is handed to the checkout team: it knows the service only through the generated OpenAPI types, never its code.',
      from: { path: '^clients/' },
      to: { path: '^(shared|functions|infra|local|tests|bench)/' },
    },
    {
      name: 'deployed-code-needs-no-dev-tools',
      severity: 'error',
      comment: 'Lambda code (functions/, shared/) and the checkout client never import development dependencies.',
      from: { path: '^(functions|shared|clients)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'aws-lambda is a types-only package (@types/aws-lambda).',
      from: {},
      to: { couldNotResolve: true, pathNot: '^aws-lambda$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^node_modules', '^cdk\\.out'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
