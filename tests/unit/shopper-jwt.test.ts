import { createServer, type Server } from 'node:http';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProblem } from '#shared/http/problem';
import { createShopperVerifier } from '../../local/shopper-jwt';

const ISSUER = 'https://idp.example/';
const AUDIENCE = 'membership-api';
let server: Server;
let jwksUrl = '';
let signingKey: CryptoKey;
let publicPem = '';

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  signingKey = pair.privateKey;
  publicPem = await exportSPKI(pair.publicKey);
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const token = (key: CryptoKey | Uint8Array, alg: string, claims: { iss?: string; aud?: string; exp?: number } = {}) =>
  new SignJWT({})
    .setProtectedHeader({ alg, kid: 'k1' })
    .setSubject('member-1')
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 300)
    .sign(key);

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return error instanceof HttpProblem ? error.status : 500;
  }
}

describe('shopper token verification with a JWKS (a real identity provider)', () => {
  const verifier = () => createShopperVerifier({ SHOPPER_JWKS_URL: jwksUrl, SHOPPER_JWT_ISSUER: ISSUER, SHOPPER_JWT_AUDIENCE: AUDIENCE });

  it('accepts an RS256 token of the provider and returns its claims', async () => {
    const claims = await verifier()(`Bearer ${await token(signingKey, 'RS256')}`);
    expect(claims).toMatchObject({ sub: 'member-1', iss: ISSUER, aud: AUDIENCE });
  });

  it('refuses the HS256 key-confusion trick (the public key used as an HMAC secret)', async () => {
    const forged = await token(new TextEncoder().encode(publicPem), 'HS256');
    expect(await status(verifier()(`Bearer ${forged}`))).toBe(401);
  });

  it('refuses another key, another issuer or audience, and expired tokens', async () => {
    const other = (await generateKeyPair('RS256')).privateKey;
    expect(await status(verifier()(`Bearer ${await token(other, 'RS256')}`))).toBe(401);
    expect(await status(verifier()(`Bearer ${await token(signingKey, 'RS256', { iss: 'https://other.example/' })}`))).toBe(401);
    expect(await status(verifier()(`Bearer ${await token(signingKey, 'RS256', { aud: 'other' })}`))).toBe(401);
    expect(await status(verifier()(`Bearer ${await token(signingKey, 'RS256', { exp: Math.floor(Date.now() / 1000) - 10 })}`))).toBe(401);
  });
});

describe('shopper verifier configuration', () => {
  it('fails closed without an issuer or an audience', () => {
    expect(() => createShopperVerifier({ SHOPPER_JWT_SECRET: 's'.repeat(40), SHOPPER_JWT_AUDIENCE: AUDIENCE })).toThrow(/ISSUER/);
    expect(() => createShopperVerifier({ SHOPPER_JWT_SECRET: 's'.repeat(40), SHOPPER_JWT_ISSUER: ISSUER })).toThrow(/AUDIENCE/);
  });

  it('refuses every token when no key is configured', async () => {
    const verify = createShopperVerifier({ SHOPPER_JWT_ISSUER: ISSUER, SHOPPER_JWT_AUDIENCE: AUDIENCE });
    expect(await status(verify(`Bearer ${await token(new TextEncoder().encode('x'.repeat(40)), 'HS256')}`))).toBe(401);
  });
});
