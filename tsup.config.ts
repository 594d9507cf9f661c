import type { Options } from 'tsup';

// One entry per public subpath: the stores, QR and testing helpers never reach the core bundle.
// A typed array rather than `defineConfig(...)`: tsconfig's isolatedDeclarations rejects an
// inferred default export (TS9037), and tsup accepts the plain options array as is.
const config: Options[] = [
  {
    entry: {
      index: 'src/index.ts',
      qr: 'src/qr.ts',
      redis: 'src/store/redis.ts',
      postgres: 'src/store/postgres.ts',
      sqlite: 'src/store/sqlite.ts',
      d1: 'src/store/d1.ts',
      testing: 'src/testing.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'es2022',
    platform: 'neutral',
    splitting: true,
    treeshake: true,
    clean: false,
  },
  {
    // The otpkit command: Node only, ESM, bundled with the library it drives.
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    dts: false,
    target: 'es2022',
    platform: 'node',
    clean: false,
  },
];

export default config;
