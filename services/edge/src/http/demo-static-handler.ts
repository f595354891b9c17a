import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { ErrorCode } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { guardRequest, reply, replyJson, Status } from './respond.js';

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Demo assets are small; anything bigger is not served. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const PREFIX = '/demo/';

/**
 * GET /demo/* from DEMO_DIR: index.html for a directory, a content type by
 * extension, nothing outside DEMO_DIR (the decoded path is resolved and must
 * stay under the root; NUL bytes and backslashes are refused).
 */
export function createDemoStaticHandler(
  demoDir: string,
): (res: HttpResponse, req: HttpRequest) => void {
  const root = resolve(demoDir);
  return (res, req) => {
    const url = req.getUrl();
    if (url === '/demo') {
      reply(res, undefined, Status.movedPermanently, 'text/plain', '', {
        headers: { location: PREFIX },
      });
      return;
    }
    const path = resolveDemoPath(root, url);
    if (path === undefined) {
      notFound(res);
      return;
    }
    const guard = guardRequest(res);
    loadFile(path)
      .then((file) => {
        if (file === undefined) {
          replyJson(res, guard, Status.notFound, {
            error: ErrorCode.NotFound,
            message: 'no such file',
          });
          return;
        }
        reply(res, guard, Status.ok, file.contentType, file.body, {
          headers: { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
        });
      })
      .catch(() => reply(res, guard, Status.internalError, 'text/plain', 'read failed'));
  };
}

/** The file a /demo/... URL names under root, or undefined when it may not be served. */
export function resolveDemoPath(root: string, url: string): string | undefined {
  if (!url.startsWith(PREFIX)) return undefined;
  let relative: string;
  try {
    relative = decodeURIComponent(url.slice(PREFIX.length));
  } catch {
    return undefined;
  }
  if (relative.includes('\0') || relative.includes('\\')) return undefined;
  const path = resolve(root, `.${sep}${relative}`);
  if (path !== root && !path.startsWith(root + sep)) return undefined;
  return relative === '' || relative.endsWith('/') ? join(path, 'index.html') : path;
}

async function loadFile(path: string): Promise<{ body: Buffer; contentType: string } | undefined> {
  let target = path;
  try {
    const info = await stat(target);
    if (info.isDirectory()) {
      target = join(target, 'index.html');
      const inner = await stat(target);
      if (!inner.isFile() || inner.size > MAX_FILE_BYTES) return undefined;
    } else if (!info.isFile() || info.size > MAX_FILE_BYTES) {
      return undefined;
    }
  } catch {
    return undefined;
  }
  const body = await readFile(target);
  return {
    body,
    contentType: contentTypes[extname(target).toLowerCase()] ?? 'application/octet-stream',
  };
}

function notFound(res: HttpResponse): void {
  replyJson(res, undefined, Status.notFound, {
    error: ErrorCode.NotFound,
    message: 'no such file',
  });
}
