// The device authorization grant (RFC 8628) at the local issuer, as Entra ID
// offers it to `flowshare login` (MSAL's device code flow). MSAL asks for a
// code at the token endpoint's path with `/token` replaced by `/devicecode`
// (msal-common's Authority.deviceCodeEndpoint), prints the answer's message,
// and polls the token endpoint with the device code grant, which answers
// `authorization_pending` until the person approves the code on the issuer's
// page. There is no password: the page asks which user is signing in.
//   POST /devicecode   {client_id, scope} -> device_code, user_code, verification_uri, interval, expires_in, message
//   GET  /device       the page where a user code is entered
//   POST /device       {user_code, user}: that user approves the code (tests post it over HTTP)
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** RFC 8628's grant type, and the short one MSAL sends (Entra ID takes both). */
export const DEVICE_CODE_GRANTS = new Set(['urn:ietf:params:oauth:grant-type:device_code', 'device_code']);

/** How long a code may be approved and redeemed, and how often MSAL is told to poll (Entra ID says 5 s; 1 s keeps tests short). */
const EXPIRES_IN_SECONDS = 900;
const INTERVAL_SECONDS = 1;
/** Letters and digits no one mistakes for one another, as user codes are read off a screen. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ23456789';

interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scope: string;
  expiresAt: number;
  /** Who approved it; undefined while pending. */
  user?: string;
}

export type FormBody = Record<string, string>;

export class DeviceCodes {
  private readonly byDeviceCode = new Map<string, DeviceAuthorization>();
  private readonly byUserCode = new Map<string, DeviceAuthorization>();

  constructor(private readonly issuerUrl: () => string) {}

  /** Serves /devicecode and /device; false for every other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/devicecode') {
      if (req.method !== 'POST') res.writeHead(405).end();
      else void readForm(req).then((form) => this.authorize(form, res), refuse(res));
      return true;
    }
    if (path === '/device') {
      if (req.method === 'GET') page(res, 200, codeForm());
      else if (req.method === 'POST') void readForm(req).then((form) => this.approve(form, res), refuse(res));
      else res.writeHead(405).end();
      return true;
    }
    return false;
  }

  /**
   * A token request with the device code grant: answered here while the code
   * is pending, expired or unknown (undefined is answered); once approved, the
   * user it was approved by (the code is used up).
   */
  redeem(form: FormBody, res: ServerResponse): string | undefined {
    const found = form.device_code ? this.byDeviceCode.get(form.device_code) : undefined;
    if (!found || found.clientId !== form.client_id) {
      tokenError(res, 'invalid_grant', 'The device code is unknown, used, or of another client.');
      return undefined;
    }
    if (Date.now() > found.expiresAt) {
      this.forget(found);
      tokenError(res, 'expired_token', 'The device code expired: sign in again.');
      return undefined;
    }
    if (!found.user) {
      tokenError(res, 'authorization_pending', 'The user has not approved the code yet.');
      return undefined;
    }
    this.forget(found);
    return found.user;
  }

  private authorize(form: FormBody, res: ServerResponse): void {
    if (!form.client_id) return tokenError(res, 'invalid_request', 'client_id is required.');
    const userCode = Array.from(randomBytes(9), (byte) => USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length]).join(
      '',
    );
    const authorization: DeviceAuthorization = {
      deviceCode: randomUUID(),
      userCode,
      clientId: form.client_id,
      scope: form.scope ?? '',
      expiresAt: Date.now() + EXPIRES_IN_SECONDS * 1000,
    };
    this.byDeviceCode.set(authorization.deviceCode, authorization);
    this.byUserCode.set(userCode, authorization);
    const verificationUri = `${this.issuerUrl()}/device`;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(
      JSON.stringify({
        device_code: authorization.deviceCode,
        user_code: userCode,
        verification_uri: verificationUri,
        expires_in: EXPIRES_IN_SECONDS,
        interval: INTERVAL_SECONDS,
        message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
      }),
    );
  }

  private approve(form: FormBody, res: ServerResponse): void {
    const userCode = (form.user_code ?? '').trim().toUpperCase();
    const found = this.byUserCode.get(userCode);
    const user = form.user ?? '';
    if (!/^[A-Za-z0-9._@-]{1,100}$/.test(user)) return page(res, 400, codeForm('Give a user name.'));
    if (!found || found.user || Date.now() > found.expiresAt) {
      return page(res, 400, codeForm('That code is unknown, used or expired.'));
    }
    found.user = user;
    page(res, 200, `<h1>Signed in</h1><p>You signed in as ${escapeHtml(user)}. Go back to your device.</p>`);
  }

  private forget(authorization: DeviceAuthorization): void {
    this.byDeviceCode.delete(authorization.deviceCode);
    this.byUserCode.delete(authorization.userCode);
  }
}

function codeForm(problem?: string): string {
  return `<h1>Enter the code</h1><p>The local provider of flowshare's development stack. Enter the code your device shows, and sign in as any user name; there is no password.</p>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}<form method="post" action="/device"><p><label>Code <input name="user_code" required autofocus autocomplete="off"></label></p>
<p><label>User <input name="user" required pattern="[A-Za-z0-9._@\\-]{1,100}"></label></p><button type="submit">Sign in</button></form>`;
}

function page(res: ServerResponse, status: number, content: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  });
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Device sign-in - local provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;line-height:1.5}input,button{font:inherit;padding:.3rem .5rem}</style></head>
<body>${content}</body></html>
`);
}

/** An OAuth error answer of the token endpoint (RFC 6749 5.2, RFC 8628 3.5). */
function tokenError(res: ServerResponse, error: string, description: string): void {
  res.writeHead(400, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify({ error, error_description: description }));
}

function refuse(res: ServerResponse): (error: unknown) => void {
  return () => {
    if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_request' }));
  };
}

/** A form-encoded request body, whole (at most 64 KiB); a name given twice keeps its last value. */
export async function readForm(req: IncomingMessage): Promise<FormBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 65_536) throw new Error('the form is too large');
    chunks.push(chunk as Buffer);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
