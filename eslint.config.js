// Lint rules: typescript-eslint's type-aware recommended set, plus the few rules that keep the style honest.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Exit codes are decided in exactly one place (src/cli.ts); main.ts only hands them to the process.
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Throw a HookError; src/cli.ts maps it to an exit code.' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['test/**'],
    rules: { 'no-restricted-properties': 'off', '@typescript-eslint/no-floating-promises': 'off' },
  },
);
