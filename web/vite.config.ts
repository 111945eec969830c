import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const COLLECTOR = process.env.LIFELINE_COLLECTOR_DEV_URL ?? 'http://127.0.0.1:7460';

export default defineConfig({
  base: './',
  plugins: [react()],
  resolve: { conditions: ['source'] },
  // No source map in dist: the collector serves dist to anyone who can reach it, and a map would hand out the whole
  // source (1.4 MB). Debug with `npm run dev -w @lifeline/web`, which maps everything.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2023' },
  server: {
    proxy: {
      '/v1': { target: COLLECTOR, ws: true, changeOrigin: false },
      '/healthz': { target: COLLECTOR },
    },
  },
});
