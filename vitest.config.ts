import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

const config: ViteUserConfig = defineConfig({
  resolve: {
    // Tests, examples and README snippets import the package by name; run them against src/.
    alias: [
      { find: /^otpkit$/, replacement: src('index.ts') },
      { find: /^otpkit\/qr$/, replacement: src('qr.ts') },
      { find: /^otpkit\/redis$/, replacement: src('store/redis.ts') },
      { find: /^otpkit\/postgres$/, replacement: src('store/postgres.ts') },
      { find: /^otpkit\/sqlite$/, replacement: src('store/sqlite.ts') },
      { find: /^otpkit\/d1$/, replacement: src('store/d1.ts') },
      { find: /^otpkit\/testing$/, replacement: src('testing.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/_setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    benchmark: {
      include: ['bench/**/*.bench.ts'],
    },
  },
});

export default config;
