// The log of one request, for the services it calls: its invocation, and the
// caller and flow once they are known.
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { authenticatedCaller } from '../auth/authenticate';
import { invocationLog, type Log } from '../log';

export function requestLog(request: HttpRequest, context: InvocationContext): Log {
  return invocationLog(context, { caller: authenticatedCaller(request), flowId: request.params.flowId });
}
