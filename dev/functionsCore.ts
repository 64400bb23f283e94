// Stands in for the Azure Functions Node worker. `@azure/functions` registers
// every app.http(...) / app.storageQueue(...) with the module
// `@azure/functions-core`, which only the worker provides; in plain Node it is
// missing and the library skips registrations ("test mode"). Providing that
// module here gives the local host the very metadata and handlers Azure gets.
import Module from 'node:module';

export interface BindingMetadata {
  type: string;
  direction?: string;
  name?: string;
  route?: string;
  methods?: string[];
  authLevel?: string;
  queueName?: string;
  connection?: string;
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, BindingMetadata>;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  handler: FunctionCallback;
}

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

export interface FunctionsCoreRegistry {
  functions: RegisteredFunction[];
  hooks: Map<string, FunctionCallback[]>;
}

class Disposable {
  constructor(private readonly onDispose: () => void) {}
  dispose(): void {
    this.onDispose();
  }
}

const CORE_MODULE = '@azure/functions-core';
const registry: FunctionsCoreRegistry = { functions: [], hooks: new Map() };
let installed = false;
let systemLog: (level: LogLevel, category: string, message: string) => void = () => undefined;

/**
 * Makes `require('@azure/functions-core')` resolve to this host's registry.
 * Must run before the first function file is loaded.
 */
export function installFunctionsCore(
  log?: (level: LogLevel, category: string, message: string) => void,
): FunctionsCoreRegistry {
  if (log) systemLog = log;
  if (installed) return registry;
  installed = true;

  const api = {
    version: 'flowshare-local-host',
    Disposable,
    setProgrammingModel(_model: unknown): void {
      // The worker asks the model for invocation adapters; this host calls
      // handlers directly with real HttpRequest/InvocationContext objects.
    },
    registerFunction(metadata: FunctionMetadata, handler: FunctionCallback): Disposable {
      const entry = { metadata, handler };
      registry.functions.push(entry);
      return new Disposable(() => registry.functions.splice(registry.functions.indexOf(entry), 1));
    },
    registerHook(hookName: string, callback: FunctionCallback): Disposable {
      const callbacks = registry.hooks.get(hookName) ?? [];
      callbacks.push(callback);
      registry.hooks.set(hookName, callbacks);
      return new Disposable(() => callbacks.splice(callbacks.indexOf(callback), 1));
    },
    log(level: LogLevel, category: string, message: string): void {
      systemLog(level, category, message);
    },
  };

  // A module id no file has; Node finds it in the cache before looking on disk.
  const virtualPath = `/__flowshare_local_host__/${CORE_MODULE}.js`;
  const coreModule = new Module(virtualPath);
  coreModule.filename = virtualPath;
  coreModule.loaded = true;
  coreModule.exports = api;
  require.cache[virtualPath] = coreModule;

  // Module._resolveFilename is internal but has been stable for a decade; the
  // worker itself injects this module in a similar way.
  const internals = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
  };
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === CORE_MODULE ? virtualPath : resolve.call(this, request, ...rest);
  };
  return registry;
}
