import type { Principal } from './handler';
import { problems } from './problem';

/** The memberId of a shopper route's caller: the verified token's `sub`, and nothing else. */
export function shopperId(principal: Principal): string {
  if (principal.kind !== 'shopper') throw problems.unauthorized();
  return principal.memberId;
}
