import { describe, expect, it } from 'vitest';
import { isNativeUws } from '../src/uws-native-check.js';

describe('isNativeUws', () => {
  it('rejects a JavaScript App (the shape of the fallback module)', () => {
    const fallback = {
      App: function App() {
        return {};
      },
      us_listen_socket_close: () => undefined,
      default: {},
    };
    expect(isNativeUws(fallback)).toBe(false);
  });

  it('accepts a native App with the addon-only exports', () => {
    // Built-in functions print as native code, like the addon's.
    const native = { App: Math.max, SSLApp: Math.min, getParts: Math.abs };
    expect(isNativeUws(native)).toBe(true);
  });

  it('rejects a module without App', () => {
    expect(isNativeUws({})).toBe(false);
  });
});
