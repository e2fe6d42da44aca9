// One Content-Security-Policy for every way the UI is served: the Electron window (response
// header and <meta> tag) and the loopback web host (response header). Only the app's own scripts
// run; nothing loads from anywhere else; inline script is never allowed.

const directives: Array<[string, string]> = [
  ["default-src", "'none'"],
  ["script-src", "'self'"],
  // React sets styles through the CSSOM, which CSP does not restrict; no inline <style> is needed.
  ["style-src", "'self'"],
  ["img-src", "'self' data: blob:"],
  ["font-src", "'self' data:"],
  // 'self' covers the web host's own WebSocket (same host and port).
  ["connect-src", "'self'"],
  ["worker-src", "'self'"],
  ["manifest-src", "'self'"],
  ["base-uri", "'none'"],
  ["form-action", "'none'"],
  ["object-src", "'none'"],
  ["frame-src", "'none'"],
  ["frame-ancestors", "'none'"],
];

/** `meta`: the <meta> form, without the directives browsers ignore there. */
export function contentSecurityPolicy({ meta = false } = {}): string {
  return directives
    .filter(([name]) => !(meta && name === "frame-ancestors"))
    .map(([name, value]) => `${name} ${value}`)
    .join("; ");
}

/** Headers sent with every page and file of the UI. */
export function securityHeaders(): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()",
  };
}
