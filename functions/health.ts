import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { problem } from '../lib/http/problem';
import { ok } from '../lib/http/response';
import { services } from '../lib/services';
import { httpRoute } from '../lib/http/routes';

/** 200 when storage answers, 503 otherwise. Anonymous: a probe has no token. */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const result = await services().health.check();
  if (result.healthy) return ok({ status: 'healthy', checks: result.checks });
  context.warn('health check failed:', JSON.stringify(result.checks));
  return problem(
    'StorageUnavailable',
    'Storage cannot be reached right now.',
    { checks: result.checks },
    {
      'Retry-After': '5',
    },
  );
}

httpRoute('health', {
  methods: ['GET'],
  route: 'health',
  handler: health,
  doc: {
    summary: 'Whether storage answers',
    who: 'anyone',
    anonymous: true,
    ok: { status: 200, schema: 'Health' },
    problems: ['StorageUnavailable'],
  },
});
