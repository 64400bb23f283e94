import { join } from 'node:path';
import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { logRequest } from '../lib/http/problem';
import { pageRoute } from '../lib/http/routes';
import { serveWebFile } from '../lib/http/webFiles';

/** Where Vite puts the built console: dist/web, beside this file's dist/functions. */
const WEB_ROOT = join(__dirname, '..', 'web');

/**
 * The maker's web console (docs/console.md): its files and, for any other
 * path, its page. Every route of the API is more specific than this one, so
 * the host tries them all first.
 */
export async function webConsole(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const started = Date.now();
  const response = await serveWebFile(WEB_ROOT, request.params.path);
  logRequest(request, context, response, started);
  return response;
}

pageRoute('webConsole', {
  // HEAD as well, as any web server answers it (`curl -I`): the same headers, no body.
  methods: ['GET', 'HEAD'],
  route: '{*path}',
  handler: webConsole,
});
