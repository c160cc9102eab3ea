/**
 * Where a member lives, for the law that applies to them: the country (ISO 3166-1 alpha-2) of the
 * billing address, and the state in the United States. Taken from the latest Checkout Session's
 * `customer_details.address` or the Stripe customer's `address`, whichever Stripe reported last, so
 * any delivery order of those events ends with the same jurisdiction (like the email).
 */

export interface Jurisdiction {
  /** ISO 3166-1 alpha-2, upper case (`DE`, `US`). */
  country: string;
  /** US state or territory code (`CA`), only for the United States; null when unknown. */
  state: string | null;
}

/** What the membership record keeps: the jurisdiction, where it came from and the version of that fact. */
export interface StoredJurisdiction extends Jurisdiction {
  source: 'checkout' | 'customer';
  /** `<event created, 12 digits>#<object id>`: the greatest version wins, whatever the delivery order. */
  version: string;
}

/** A billing address as Stripe gives it (every field optional and nullable). */
export interface BillingAddress {
  country?: string | null;
  state?: string | null;
}

// Stripe's address form takes the two-letter code for US states, but an address typed elsewhere (the
// Dashboard, the API) can carry the name: both are understood.
const US_STATES: Record<string, string> = {
  ALABAMA: 'AL',
  ALASKA: 'AK',
  ARIZONA: 'AZ',
  ARKANSAS: 'AR',
  CALIFORNIA: 'CA',
  COLORADO: 'CO',
  CONNECTICUT: 'CT',
  DELAWARE: 'DE',
  'DISTRICT OF COLUMBIA': 'DC',
  FLORIDA: 'FL',
  GEORGIA: 'GA',
  HAWAII: 'HI',
  IDAHO: 'ID',
  ILLINOIS: 'IL',
  INDIANA: 'IN',
  IOWA: 'IA',
  KANSAS: 'KS',
  KENTUCKY: 'KY',
  LOUISIANA: 'LA',
  MAINE: 'ME',
  MARYLAND: 'MD',
  MASSACHUSETTS: 'MA',
  MICHIGAN: 'MI',
  MINNESOTA: 'MN',
  MISSISSIPPI: 'MS',
  MISSOURI: 'MO',
  MONTANA: 'MT',
  NEBRASKA: 'NE',
  NEVADA: 'NV',
  'NEW HAMPSHIRE': 'NH',
  'NEW JERSEY': 'NJ',
  'NEW MEXICO': 'NM',
  'NEW YORK': 'NY',
  'NORTH CAROLINA': 'NC',
  'NORTH DAKOTA': 'ND',
  OHIO: 'OH',
  OKLAHOMA: 'OK',
  OREGON: 'OR',
  PENNSYLVANIA: 'PA',
  'RHODE ISLAND': 'RI',
  'SOUTH CAROLINA': 'SC',
  'SOUTH DAKOTA': 'SD',
  TENNESSEE: 'TN',
  TEXAS: 'TX',
  UTAH: 'UT',
  VERMONT: 'VT',
  VIRGINIA: 'VA',
  WASHINGTON: 'WA',
  'WEST VIRGINIA': 'WV',
  WISCONSIN: 'WI',
  WYOMING: 'WY',
  'PUERTO RICO': 'PR',
  GUAM: 'GU',
  'AMERICAN SAMOA': 'AS',
  'NORTHERN MARIANA ISLANDS': 'MP',
  'U.S. VIRGIN ISLANDS': 'VI',
};
const STATE_CODES = new Set(Object.values(US_STATES));

/** The jurisdiction of an address, or null when it names no country. */
export function jurisdictionOf(address: BillingAddress | null | undefined): Jurisdiction | null {
  const country = address?.country?.trim().toUpperCase() ?? '';
  if (!/^[A-Z]{2}$/.test(country)) return null;
  if (country !== 'US') return { country, state: null };
  const raw = address?.state?.trim().toUpperCase().replace(/\s+/g, ' ') ?? '';
  const state = STATE_CODES.has(raw) ? raw : (US_STATES[raw] ?? null);
  return { country, state };
}

/** `US-CA`, `DE`: how the rules table names a jurisdiction. */
export const jurisdictionKey = (j: Jurisdiction) => (j.state ? `${j.country}-${j.state}` : j.country);

/**
 * The record's jurisdiction after a fact about the member's address: the newer fact (by version)
 * wins, an address without a country changes nothing. Returns the previous value when nothing changes.
 */
export function trackJurisdiction(
  previous: StoredJurisdiction | null | undefined,
  fact: { address: BillingAddress | null | undefined; source: StoredJurisdiction['source']; version: string },
): StoredJurisdiction | null {
  const found = jurisdictionOf(fact.address);
  if (!found) return previous ?? null;
  if (previous && previous.version >= fact.version) return previous;
  return { ...found, source: fact.source, version: fact.version };
}
