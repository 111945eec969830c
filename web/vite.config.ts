import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const COLLECTOR = process.env.LIFELINE_COLLECTOR_DEV_URL ?? 'http://127.0.0.1:7460';

export default defineConfig({
  base: './',
  plugins: [react()],
  resolve: { conditions: ['source'] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2023' },
  server: {
    proxy: {
      '/v1': { target: COLLECTOR, ws: true, changeOrigin: false },
      '/healthz': { target: COLLECTOR },
    },
  },
});
