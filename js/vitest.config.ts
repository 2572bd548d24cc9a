import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.{ts,tsx}'],
    // Node by default; files that need a DOM say `@vitest-environment jsdom`.
    environment: 'node'
  }
});
