// Sends a provider request and reads its answer, within the egress rules
// (docs/limits.md, Connector calls):
// - a redirect is answered as it is, never followed, so the credential goes
//   to the connector's origin alone (node:http follows none);
// - every address the provider's name resolves to is checked before the
//   connection is made to one of those very addresses (the `lookup` below), so
//   no DNS answer can turn a call inward; loopback is allowed only for the
//   origins configured (the local stack's providers), nothing else ever;
// - the whole exchange has a time limit (ConnectorTimeout) and the answer a
//   size limit, counted as it streams in (ResponseTooLarge).
// node:http rather than fetch: Node's fetch takes its connection settings
// only from an undici dispatcher, and undici is not a dependency here.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { DomainError } from '../domain/errors';
import { CONNECTOR_CALL_TIMEOUT_MS, MAX_CONNECTOR_RESPONSE_BYTES } from '../domain/limits';
import { addressAllowed } from './addresses';
import type { ProviderRequest } from './providerRequest';

export interface ProviderResponse {
  status: number;
  contentType?: string;
  /** The answer's bytes as they came (at most the size limit). */
  body: Buffer;
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface EgressOptions {
  /** Origins that may be plain http and resolve to loopback: GATEWAY_ALLOWED_LOOPBACK_ORIGINS. */
  allowedLoopbackOrigins: readonly string[];
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** Name resolution: every address of a name (dns.lookup), unless a test gives another. */
  resolve?: Resolver;
}

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/** Why the exchange stopped before an answer: told apart from network errors. */
class Stopped extends Error {
  constructor(readonly outcome: DomainError) {
    super(outcome.message);
  }
}

const refusedAddress = () =>
  new DomainError(
    'ConnectorCallFailed',
    "The provider's address is not one flowshare calls: it is in a loopback, private, link-local or reserved range.",
  );

export class ConnectorEgress {
  private readonly allowed: ReadonlySet<string>;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly resolve: Resolver;
  // Agents of their own: their pooled connections were all made through the checks below.
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });

  constructor(options: EgressOptions) {
    this.allowed = new Set(options.allowedLoopbackOrigins);
    this.timeoutMs = options.timeoutMs ?? CONNECTOR_CALL_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_CONNECTOR_RESPONSE_BYTES;
    this.resolve = options.resolve ?? systemResolver;
  }

  /**
   * Makes the request and answers the provider's status, content type and
   * body, whatever the status (a 3xx, 4xx or 5xx included). Throws
   * DomainError ConnectorTimeout, ResponseTooLarge, or ConnectorCallFailed
   * when the address is refused or the provider cannot be reached.
   */
  async send(request: ProviderRequest): Promise<ProviderResponse> {
    const { url } = request;
    const loopbackAllowed = this.allowed.has(url.origin);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackAllowed)) {
      throw new DomainError('ConnectorCallFailed', 'A connector call goes over https only.');
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    // An address literal is connected to without a lookup: judged here.
    if (isIP(host) && !addressAllowed(host, loopbackAllowed)) throw refusedAddress();
    try {
      return await this.exchange(request, host, loopbackAllowed);
    } catch (error) {
      if (error instanceof Stopped) throw error.outcome;
      const code = (error as NodeJS.ErrnoException).code;
      throw new DomainError(
        'ConnectorCallFailed',
        `The provider could not be reached${typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? ` (${code})` : ''}.`,
      );
    }
  }

  /** Lets go of pooled connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Resolves every address of a name, refuses the lookup if any one is refused, else hands them all to connect. */
  private lookupFor(loopbackAllowed: boolean): LookupFunction {
    return (hostname, options, callback) => {
      this.resolve(hostname).then(
        (found) => {
          const addresses = found.filter((a) => !options.family || a.family === options.family);
          if (addresses.length === 0) {
            callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
          } else if (addresses.some((a) => !addressAllowed(a.address, loopbackAllowed))) {
            callback(new Stopped(refusedAddress()), '');
          } else if (options.all) {
            callback(null, addresses);
          } else {
            callback(null, addresses[0]!.address, addresses[0]!.family);
          }
        },
        (error: NodeJS.ErrnoException) => callback(error, ''),
      );
    };
  }

  private exchange(request: ProviderRequest, host: string, loopbackAllowed: boolean): Promise<ProviderResponse> {
    const { url } = request;
    const secure = url.protocol === 'https:';
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) headers['Content-Length'] = Buffer.byteLength(request.body);
    return new Promise<ProviderResponse>((resolve, reject) => {
      const call = (secure ? https : http).request({
        protocol: url.protocol,
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers,
        agent: secure ? this.httpsAgent : this.httpAgent,
        lookup: this.lookupFor(loopbackAllowed),
      });
      let settled = false;
      const settle = (error: unknown, answer?: ProviderResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (answer) resolve(answer);
        else reject(error);
      };
      // Ends the exchange with this outcome; whatever the torn-down connection says after it is ignored.
      const stop = (outcome: DomainError) => {
        settle(new Stopped(outcome));
        call.destroy();
      };
      const timer = setTimeout(
        () =>
          stop(
            new DomainError('ConnectorTimeout', `The provider did not answer within ${this.timeoutMs / 1000} seconds.`),
          ),
        this.timeoutMs,
      );
      const tooLarge = () =>
        new DomainError('ResponseTooLarge', `The provider's answer is larger than ${this.maxResponseBytes} bytes.`);
      call.on('error', (error) => settle(error));
      call.on('response', (response) => {
        response.on('error', (error) => settle(error));
        response.on('aborted', () =>
          settle(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })),
        );
        const declared = Number(response.headers['content-length']);
        if (Number.isFinite(declared) && declared > this.maxResponseBytes) {
          stop(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxResponseBytes) stop(tooLarge());
          else chunks.push(chunk);
        });
        response.on('end', () =>
          settle(undefined, {
            status: response.statusCode ?? 502,
            ...(response.headers['content-type'] ? { contentType: response.headers['content-type'] } : {}),
            body: Buffer.concat(chunks),
          }),
        );
      });
      call.end(request.body);
    });
  }
}
