// The renderer's Vite config lives in renderer/vite.config.ts; this lets `npx vite build` run from the repository root.
export { default } from './renderer/vite.config.ts';
