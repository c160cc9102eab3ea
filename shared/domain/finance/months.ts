/** Calendar months in UTC, spelled `YYYY-MM` everywhere (API, keys, report). */
export const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

export const monthOf = (iso: string | Date): string => (typeof iso === 'string' ? new Date(iso) : iso).toISOString().slice(0, 7);

export function monthStart(month: string): Date {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1, 1));
}

export function addMonths(month: string, delta: number): string {
  const start = monthStart(month);
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + delta, 1)).toISOString().slice(0, 7);
}

export const monthEnd = (month: string): Date => monthStart(addMonths(month, 1));

/** Inclusive list of months from `first` to `last`. */
export function monthsBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let m = first; m <= last; m = addMonths(m, 1)) out.push(m);
  return out;
}
