// ESLint flat config: type-aware typescript-eslint rules for every TypeScript file (the engine,
// CLI, Electron shell, preload, renderer, benches and tests) and eslint-plugin-svelte for the
// renderer's components. `npm run lint` runs it with --max-warnings 0: a finding fails CI.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import svelte from 'eslint-plugin-svelte'
import globals from 'globals'

const root = import.meta.dirname

export default tseslint.config(
  {
    // Build outputs and installed packages are never linted.
    ignores: ['dist/**', 'node_modules/**', 'release/**', 'out/**', 'dist-scratch/**', '.scratch/**', 'test-results/**', '.datdot-dev/**']
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' }
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: {
      parserOptions: {
        // tsconfig.test.json covers the engine, CLI, Electron shell, benches and tests;
        // tsconfig.web.json the renderer (with its .svelte files) and the preload.
        project: ['./tsconfig.test.json', './tsconfig.web.json'],
        tsconfigRootDir: root,
        extraFileExtensions: ['.svelte']
      }
    },
    rules: {
      // The rules the review asks for, named here so that they stay on whatever the
      // recommended sets do next.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      // Off: an `async` function without `await` is how this code implements an async interface
      // (API handlers, chopsticks' Database, test doubles), so that a throw becomes a rejection;
      // rewriting them as Promise.resolve/reject wrappers would change that.
      '@typescript-eslint/require-await': 'off',
      // Passing on a caught `unknown` as it was thrown is fine; a made-up rejection reason must be an Error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // `_name` marks a parameter or binding that is deliberately unused.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }]
    }
  },
  {
    // Svelte components: svelte-eslint-parser, with typescript-eslint's parser for <script lang="ts">.
    files: ['renderer/**/*.svelte', 'renderer/**/*.svelte.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: {
        parser: tseslint.parser,
        svelteFeatures: { experimentalGenerics: true }
      }
    }
  },
  {
    files: ['renderer/**/*.ts', 'preload/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } }
  },
  {
    // The Vite and Vitest configs are in no tsconfig: the syntax rules only (typing them would
    // build a third TypeScript program for three small files, a few seconds of every lint).
    files: ['vitest.config.ts', 'renderer/vite.config.ts', 'preload/vite.config.ts'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { project: false, projectService: false }
    }
  },
  {
    // Build scripts, the bin shim and this file are plain JavaScript in no tsconfig: they get
    // the syntax rules, not the type-aware ones.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { project: false, projectService: false }
    }
  },
  {
    files: ['main/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts', 'types/**/*.ts'],
    languageOptions: { globals: { ...globals.node } }
  },
  {
    // Small rooms (README "Architecture"): a file of main/ over 500 lines or a function over 70
    // (blank lines and comments not counted) is a sign it does more than one job: split it.
    files: ['main/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 500, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true }]
    }
  }
)
