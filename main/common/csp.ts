/**
 * The Content-Security-Policy of the renderer, the same in Electron (app://)
 * and in the browser harness. No inline script or style, no eval, no plugins,
 * no frames; connections only to the page's own origin (plus the bridge's
 * WebSocket in the harness).
 */
export function contentSecurityPolicy(extraConnect: readonly string[] = []): string {
  const connect = ["'self'", ...extraConnect].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
