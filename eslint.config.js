// Flat config: typescript-eslint's recommended rules over all project sources.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', 'coverage/**', 'dist/**', 'dist-bench/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='only']", message: 'No .only left behind.' },
        { selector: "CallExpression[callee.property.name='skip']", message: 'No .skip left behind.' },
      ],
    },
  },
);
