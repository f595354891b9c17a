/**
 * @trufflesuite/uws-js-unofficial (imported as uWebSockets.js) silently falls
 * back to a slow JavaScript implementation built on `ws` when its native
 * binary does not load (wrong Node ABI, wrong libc) or when UWS_USE_FALLBACK
 * is set; it only prints a warning. The fallback hung under a 1000-client
 * benchmark here, so the edge refuses to run on it unless allowed.
 *
 * How the two differ (read from node_modules/uWebSockets.js/src/uws.js and
 * dist/index.js): the native addon's `App` is a native function and the addon
 * exports SSLApp and getParts; the fallback's `App` is plain JavaScript and
 * its module exports neither.
 */
export function isNativeUws(uws: object): boolean {
  const exports = uws as Record<string, unknown>;
  const app = exports.App;
  if (typeof app !== 'function') return false;
  const appIsNative = /\{\s*\[native code\]\s*\}/.test(Function.prototype.toString.call(app));
  return (
    appIsNative && typeof exports.SSLApp === 'function' && typeof exports.getParts === 'function'
  );
}
