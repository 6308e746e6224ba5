// Vite build of the dashboard (root ui/, output ui/dist, served by the gateway at /). `npm run build:ui` builds it;
// `npx vite --config ui/vite.config.ts` serves it for development with /v1 (sessions and events included) proxied
// to a running gateway (OVERSEER_URL, default http://127.0.0.1:8001); `npx vite preview --config ui/vite.config.ts`
// serves the build the same way, with the gateway's Content-Security-Policy.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, type ProxyOptions } from 'vite';

const gateway = process.env.OVERSEER_URL ?? 'http://127.0.0.1:8001';

const proxy: Record<string, ProxyOptions> = { '/v1': { target: gateway, changeOrigin: false } };

/** The gateway's Content-Security-Policy, so that `vite preview` shows what the served page may do. */
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: true, proxy },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true, proxy, headers: { 'Content-Security-Policy': CSP } },
});
