// Lint rules: typescript-eslint's type-aware recommended set, plus the few rules that keep the style honest.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SCRIPTS = { group: ['**/scripts/**'], message: 'scripts/ holds build and set-up code; src/ must not import it.' };
const CONTROLLER_CODE = ['**/cluster/**', '@kubernetes/client-node'];
const QUEUE_CODE = ['**/queue/**', '@nats-io/*', 'amqplib', 'cloudevents'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Exit codes are decided in exactly one place (src/cli/run.ts); main.ts and src/cli/exit.ts only hand them to the process.
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Throw a HookError; src/cli/run.ts maps it to an exit code.' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Plain script text that scripts/build-bundle.ts puts in front of the bundle: CommonJS globals, no type info.
    files: ['scripts/bundle-prelude.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { parserOptions: { projectService: false, project: false }, sourceType: 'commonjs', globals: { require: 'writable', __filename: 'readonly', process: 'readonly', globalThis: 'readonly', Intl: 'readonly', Reflect: 'readonly', Proxy: 'readonly' } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-var': 'off', 'no-redeclare': 'off', 'no-useless-assignment': 'off', '@typescript-eslint/no-require-imports': 'off', 'no-unused-vars': 'off', '@typescript-eslint/no-unused-vars': 'off' },
  },
  {
    // The shipped program never depends on build or provisioning code.
    files: ['src/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SCRIPTS] }] },
  },
  {
    // The hooks' cold start and memory must not pay for the long-running modes: src/cluster (and @kubernetes/client-node,
    // ~2.7 MB bundled) and src/serve (and prom-client, ~107 KB bundled, which loads http, https and zlib) are reached
    // only through a dynamic import() in those modes' own commands.
    files: ['src/**'],
    // src/cluster-side.ts is the long-running modes' entry: the second bundle, which src/cluster-bundle.ts loads.
    ignores: ['src/cluster/**', 'src/serve/**', 'src/queue/**', 'src/sidecar/**', 'src/cluster-side.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        SCRIPTS,
        { group: CONTROLLER_CODE, message: 'The hooks must not load the controller\'s code: use await import() from the controller command.' },
        { group: ['**/serve/**', 'prom-client'], message: 'The hooks must not load the endpoints or prom-client: use await import() from a long-running mode\'s command.' },
        { group: QUEUE_CODE, message: 'The hooks must not load the message-queue code: use await import() from the queue modes\' commands.' },
        { group: ['**/sidecar/**'], message: 'The hooks must not load the sidecar\'s code: use await import() from the sidecar command.' },
      ] }],
    },
  },
  {
    // The sidecar is in-pod code in the hooks' bundle, reached by import() from its command: it takes serve/'s
    // endpoints (without /metrics), never the controller, prom-client or the queues.
    files: ['src/sidecar/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        SCRIPTS,
        { group: CONTROLLER_CODE, message: 'The sidecar must not load the controller\'s code.' },
        { group: ['prom-client', '**/serve/metrics*'], message: 'The sidecar must not load prom-client: its endpoints have no /metrics.' },
        { group: QUEUE_CODE, message: 'The sidecar must not load the message-queue code.' },
      ] }],
    },
  },
  {
    files: ['test/**'],
    rules: { 'no-restricted-properties': 'off', '@typescript-eslint/no-floating-promises': 'off' },
  },
);
