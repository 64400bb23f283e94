// The one log line each request leaves (lib/http/problem.ts): its fields, in
// their order, and never the query string.
import { HttpRequest, InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { noteCaller } from '../../lib/auth/authenticate';
import { logRequest, problem } from '../../lib/http/problem';

function logged(request: HttpRequest, response: Parameters<typeof logRequest>[2]) {
  const lines: Array<{ level: string; text: string }> = [];
  const context = new InvocationContext({
    invocationId: 'inv-1',
    functionName: 'getFlow',
    logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(' ') }),
  });
  logRequest(request, context, response, Date.now());
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('the request log line', () => {
  it('names what ran, for whom, on which flow and how it went, in that order', () => {
    const request = new HttpRequest({
      method: 'GET',
      url: 'http://localhost:7071/api/flows/f1?code=secret-code#x',
      params: { flowId: 'f1' },
    });
    noteCaller(request, { tenantId: 't1', principalId: 'p1' });
    const { level, text } = logged(request, problem('NotFound', 'The flow does not exist.'));
    expect(level).toBe('information');
    expect(text).toMatch(
      /^\{"event":"request","function":"getFlow","invocationId":"inv-1","method":"GET","path":"\/api\/flows\/f1","tenantId":"t1","callerId":"p1","flowId":"f1","status":404,"code":"NotFound","durationMs":\d+\}$/,
    );
    expect(text).not.toContain('secret-code');
  });

  it('leaves out what a request did not have, and logs a failure as an error', () => {
    const request = new HttpRequest({ method: 'POST', url: 'http://localhost:7071/api/flows', params: {} });
    const ok = logged(request, { status: 201 });
    expect(ok.text).toMatch(
      /^\{"event":"request","function":"getFlow","invocationId":"inv-1","method":"POST","path":"\/api\/flows","status":201,"durationMs":\d+\}$/,
    );
    expect(logged(request, { status: 503 }).level).toBe('error');
  });
});
