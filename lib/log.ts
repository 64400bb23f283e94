// What services say about what they did, one JSON line per event, carrying
// the invocation, the caller and the flow as the request lines do (see
// lib/http/problem.ts), so a warning is found beside the request that caused
// it. Handlers make one from their invocation context and pass it down; code
// that runs outside an invocation (tests, scripts) gets the console's.
// Never a secret: callers pass ids and reasons, not values.
import type { InvocationContext } from '@azure/functions';
import type { Caller } from './domain/caller';

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Log {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LogScope {
  caller?: Caller;
  flowId?: string;
}

/** A log whose lines go through the invocation's context, with its id, function, caller and flow. */
export function invocationLog(context: InvocationContext, scope: LogScope = {}): Log {
  const line = (level: string, message: string, fields: LogFields = {}) =>
    JSON.stringify({
      event: 'log',
      level,
      function: context.functionName,
      invocationId: context.invocationId,
      ...(scope.caller ? { tenantId: scope.caller.tenantId, callerId: scope.caller.principalId } : {}),
      ...(scope.flowId ? { flowId: scope.flowId } : {}),
      ...fields,
      message,
    });
  return {
    info: (message, fields) => context.log(line('information', message, fields)),
    warn: (message, fields) => context.warn(line('warning', message, fields)),
    error: (message, fields) => context.error(line('error', message, fields)),
  };
}

/** Outside an invocation: the same lines, on the console. */
export const consoleLog: Log = {
  info: (message, fields) => console.log(JSON.stringify({ event: 'log', level: 'information', ...fields, message })),
  warn: (message, fields) => console.warn(JSON.stringify({ event: 'log', level: 'warning', ...fields, message })),
  error: (message, fields) => console.error(JSON.stringify({ event: 'log', level: 'error', ...fields, message })),
};
