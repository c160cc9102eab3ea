/**
 * `npx tsx local/shopper-token.ts <memberId> [minutes]`: prints a shopper token signed with the local
 * HS256 secret, issuer and audience (the same variables `npm start` uses), for trying /v1/me with curl.
 * A stand-in for the shop's identity provider; never used in AWS.
 */
import { SignJWT } from 'jose';
import { memberIdSchema } from '#shared/domain/member-id';
import { applyLocalDefaults } from './defaults';

applyLocalDefaults(process.env);
const [memberId, minutes = '60'] = process.argv.slice(2);
if (!memberId || !memberIdSchema.safeParse(memberId).success) {
  console.error('usage: npx tsx local/shopper-token.ts <memberId> [minutes]   (memberId: 1-128 of A-Z a-z 0-9 _ . : -)');
  process.exit(2);
}
const token = await new SignJWT({})
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(memberId)
  .setIssuer(process.env.SHOPPER_JWT_ISSUER!)
  .setAudience(process.env.SHOPPER_JWT_AUDIENCE!)
  .setIssuedAt()
  .setExpirationTime(`${Number(minutes)}m`)
  .sign(new TextEncoder().encode(process.env.SHOPPER_JWT_SECRET!));
console.log(token);
