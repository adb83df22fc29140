/**
 * Builds the console into console/dist, which the server serves at `/`. Hashed file names under
 * assets/ let the server cache them for a year; index.html is never cached.
 * `npm run dev --workspace=console` proxies the API to a local server (ENSEMBLE_URL, default :8080).
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const target = process.env.ENSEMBLE_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/api': target, '/v1': target, '/tag.js': target } },
});
