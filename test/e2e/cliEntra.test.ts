// `flowshare login` with MSAL's device code flow (docs/cli.md, Signing in),
// against the local issuer named by --authority as another OpenID Connect
// authority: the command prints the device code message, a user approves the
// code on the issuer's page (over HTTP here), MSAL's cache lands owner-only in
// the configuration folder, later commands get their tokens silently from it
// (renewed with its refresh token), nothing it printed holds a token, and
// logout removes the cache.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, startCli, tempHome } from '../support/cli';
import { setTokenLifetime, tokenRequestCounts } from '../support/providers';
import { stack, unique } from '../support/stack';
import { cast, sharedFlow } from './people';

/** The flowshare command's app registration at the authority (a public client: no secret). */
const CLIENT_ID = 'flowshare-cli-device';

afterEach(async () => {
  await setTokenLifetime(CLIENT_ID, null);
});

/** The user approves the code on the issuer's device page, as they would in a browser. */
async function approve(userCode: string, user: string): Promise<Response> {
  return fetch(`${stack().issuerUrl}/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: userCode, user }),
  });
}

/** Every token the issuer issued to `user`. */
async function tokensOf(user: string): Promise<string[]> {
  const response = await fetch(`${stack().issuerUrl}/dev/users/${encodeURIComponent(user)}/tokens`);
  return ((await response.json()) as { tokens: string[] }).tokens;
}

describe('flowshare login with the device code flow', () => {
  it('signs in once the user approves the code, renews silently from the owner-only cache, and logs out', async () => {
    const people = await cast();
    const flowName = unique('Device');
    await sharedFlow(people, { name: flowName });
    const home = tempHome();
    await setTokenLifetime(CLIENT_ID, 120);
    const args = [
      'login',
      ...['--tenant', 'contoso.example', '--client-id', CLIENT_ID],
      ...['--scope', `${stack().audience}/user_impersonation`, '--authority', stack().issuerUrl],
    ];
    const login = startCli(args, { home });
    await login.waitFor(/enter the code ([A-Z0-9]+) to authenticate/);
    const [, userCode] = /enter the code ([A-Z0-9]+)/.exec(login.stdout)!;
    expect(login.stdout).toContain(`${stack().issuerUrl}/device`);
    // MSAL polls and is told to wait while the code is not approved.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await tokensOf(people.user.id)).toEqual([]);
    expect((await approve('NOTACODE1', people.user.id)).status).toBe(400);
    expect((await approve(userCode!, people.user.id)).status).toBe(200);
    const signedIn = await login.ended;
    expect(signedIn.code, signedIn.stderr).toBe(0);
    expect(signedIn.stdout).toContain(`Signed in to ${stack().apiUrl} as ${people.user.id}.`);
    // The code is used up.
    expect((await approve(userCode!, people.stranger.id)).status).toBe(400);

    const folder = join(home, '.config', 'flowshare');
    const cacheFile = join(folder, 'msal-cache.json');
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    const session = JSON.parse(readFileSync(join(folder, 'sessions.json'), 'utf8'))[stack().apiUrl];
    expect(session).toMatchObject({ kind: 'entra', clientId: CLIENT_ID, authority: stack().issuerUrl });
    expect(JSON.stringify(session)).not.toMatch(/eyJ/); // no token: those are in MSAL's cache
    const issuedAtLogin = await tokensOf(people.user.id);
    expect(issuedAtLogin.length).toBeGreaterThanOrEqual(3); // access, ID and refresh token
    const cache = readFileSync(cacheFile, 'utf8');
    for (const token of issuedAtLogin) expect(cache).toContain(token);

    // MSAL renews an access token with less than five minutes to live: login's lives two, so each command renews.
    const counts = async () => (await tokenRequestCounts(people.user.id)).byClient[CLIENT_ID];
    expect(await counts()).toEqual({ authorization_code: 1, refresh_token: 0, refused: 0 });
    const listed = await cli(['flows', '--json'], { home });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).value.map((f: { name: string }) => f.name)).toEqual([flowName]);
    expect(await counts()).toEqual({ authorization_code: 1, refresh_token: 1, refused: 0 });
    // The issuer rotated the refresh token: the next renewal works only with the one written back to the cache.
    await setTokenLifetime(CLIENT_ID, null);
    const renewed = await cli(['flows'], { home });
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(await counts()).toEqual({ authorization_code: 1, refresh_token: 2, refused: 0 });
    // That one lives an hour: the next command takes it from the cache, asking the issuer nothing.
    const cached = await cli(['flows'], { home });
    expect(cached.code, cached.stderr).toBe(0);
    expect(cached.stdout).toContain(flowName);
    expect(await counts()).toEqual({ authorization_code: 1, refresh_token: 2, refused: 0 });
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);

    const outputs = [signedIn, listed, renewed, cached].flatMap((result) => [result.stdout, result.stderr]);
    for (const token of await tokensOf(people.user.id)) {
      for (const text of outputs) expect(text).not.toContain(token.split('.').pop()!);
    }

    const out = await cli(['logout'], { home });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`Signed out of ${stack().apiUrl}.`);
    expect(existsSync(cacheFile)).toBe(false);
    expect(existsSync(join(folder, 'sessions.json'))).toBe(false);
    const after = await cli(['flows'], { home });
    expect(after.code).toBe(4);
  });
});
