import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { problems } from '#shared/http/problem';

export type ShopperVerifier = (authorization: string | undefined) => Promise<Record<string, string | number | boolean | string[]>>;

/**
 * The local stand-in for API Gateway's JWT authorizer: same checks (signature, issuer, audience,
 * expiry), HS256 with a shared secret for local use or a JWKS URL for a real identity provider.
 * `alg: none` and unexpected algorithms are refused by pinning the allowed algorithms.
 */
export function createShopperVerifier(env: NodeJS.ProcessEnv): ShopperVerifier {
  const issuer = env.SHOPPER_JWT_ISSUER || undefined;
  const audience = env.SHOPPER_JWT_AUDIENCE || undefined;
  // Like the AWS authorizer, which always has both: without them any token of the key would pass.
  if (!issuer || !audience) throw new Error('shopper tokens need SHOPPER_JWT_ISSUER and SHOPPER_JWT_AUDIENCE');
  const jwksUrl = env.SHOPPER_JWKS_URL;
  const secret = env.SHOPPER_JWT_SECRET;
  const key = jwksUrl ? createRemoteJWKSet(new URL(jwksUrl)) : secret ? new TextEncoder().encode(secret) : undefined;
  const algorithms = jwksUrl ? ['RS256', 'ES256', 'PS256', 'EdDSA'] : ['HS256'];
  return async (authorization) => {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token || !key) throw problems.unauthorized();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], {
        issuer,
        audience,
        algorithms,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch {
      throw problems.unauthorized('The shopper token is missing, expired or not valid for this API.');
    }
    return payload as Record<string, string | number | boolean | string[]>;
  };
}
