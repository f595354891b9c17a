import { describe, expect, it } from 'vitest';
import { resolveDemoPath } from '../src/http/demo-static-handler.js';

const root = '/srv/demo';

describe('resolveDemoPath', () => {
  it('maps the root and directories to index.html', () => {
    expect(resolveDemoPath(root, '/demo/')).toBe('/srv/demo/index.html');
    expect(resolveDemoPath(root, '/demo/sub/')).toBe('/srv/demo/sub/index.html');
  });

  it('maps files under the root', () => {
    expect(resolveDemoPath(root, '/demo/app.js')).toBe('/srv/demo/app.js');
    expect(resolveDemoPath(root, '/demo/a%20b.css')).toBe('/srv/demo/a b.css');
  });

  it.each([
    '/demo/../etc/passwd',
    '/demo/%2e%2e/etc/passwd',
    '/demo/a/../../etc/passwd',
    '/demo/..%2F..%2Fetc%2Fpasswd',
    '/demo/a%00.js',
    '/demo/..\\etc',
    '/demo/%E0%A4%A',
    '/other/file',
  ])('refuses %s', (url) => {
    expect(resolveDemoPath(root, url)).toBeUndefined();
  });
});
