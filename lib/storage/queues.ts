// Queue messages as the Functions host reads them (host.json messageEncoding
// base64): JSON, base64-encoded. Messages name ids, never secrets.

export function encodeMessage(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

export function decodeMessage(text: string): unknown {
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  try {
    return JSON.parse(decoded) as unknown;
  } catch {
    return decoded;
  }
}
