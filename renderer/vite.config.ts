/**
 * Vite config of the renderer. The root is this folder; the build goes to
 * `dist/renderer` at the repository root, with relative asset paths (`./`) so
 * it loads from app:// in Electron and from the loopback bridge alike.
 *
 * The page runs under a CSP without 'unsafe-inline': the build must emit no
 * inline <script> or <style> (CSS is a file, modules are files, no
 * modulepreload polyfill), and no asset is inlined as a data: URL.
 *
 *   npx vite build --config renderer/vite.config.ts     (or: npx vite build, via ../vite.config.ts)
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: './',
  publicDir: `${here}/public`,
  plugins: [react()],
  build: {
    outDir: `${here}/../dist/renderer`,
    emptyOutDir: true,
    target: 'chrome120',
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    sourcemap: true,
    reportCompressedSize: false,
  },
  server: { port: 5173, strictPort: false },
});
