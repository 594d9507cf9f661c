/**
 * Time arguments (`-N`/`--now`, `-S`/`--t0`/`--start-time`). oathtool reads them with GNU
 * parse_datetime (the grammar of `date -d`, see the oathtool(1) manual); otpkit accepts a
 * documented subset of that grammar in which every string means exactly what it means to oathtool,
 * and refuses everything else:
 *
 * - `@<unix seconds>`: `@1700000000` (decimal, 1..16 digits);
 * - `YYYY-MM-DD`: midnight, local time, or UTC when followed by `Z` or `UTC`;
 * - `YYYY-MM-DD[T| ]hh:mm[:ss[.fraction]]` with an optional zone `Z`, `UTC`, `±hh`, `±hhmm` or
 *   `±hh:mm` (hours 00..23, minutes 00..59), optionally after one space; without a zone the time
 *   is local. A fraction of a second is dropped, as oathtool drops it.
 *
 * Refused, each with a usage error saying what to write instead:
 * - a bare number: `1000` is 10:00 today to oathtool and `20310601` a date, never unix seconds;
 * - a year before 1970 or not written with four digits (`Date.UTC` would turn year 80 into 1980);
 * - a local time that a daylight-saving change skips (oathtool refuses it too) or repeats (which
 *   of the two is meant is up to the C library): add an offset;
 * - a zone after a date without a time (`2031-06-01+02:00`, which oathtool refuses), and all of
 *   GNU's other forms (`next Thursday`, `10:00`, month names, ...).
 *
 * Deliberately not `Date.parse`: it accepts many non-ISO forms and differs between engines.
 * @module
 * @internal
 */
import { UsageError } from './_io.js';

/** The date, then either a time with an optional zone, or only `Z`/`UTC` (oathtool refuses an offset after a bare date). */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?: ?(Z|z|UTC|[+-]\d{2}(?::?\d{2})?))?| ?(Z|z|UTC))?$/;

/** Latest time `Date` represents, ms (the library's limit too). */
const MAX_MS = 8.64e15;

const FORMS =
  '@<unix seconds> (e.g. @1700000000) or an ISO 8601 date-time (e.g. 2031-06-01T12:00:00Z)';

/**
 * @internal Parses a time argument into milliseconds since the epoch (whole seconds).
 * @throws UsageError for anything outside the documented subset, or a time before 1970.
 */
export function parseTimeArg(text: string, flag: string, command: string): number {
  const bad = (why: string): UsageError => new UsageError(`${flag} ${why}`, command);
  let ms: number;
  const unix = /^@(\d{1,16})$/.exec(text);
  if (unix !== null) ms = Number(unix[1]) * 1000;
  else if (/^\d+$/.test(text))
    // Not echoed: a mistaken argument could be a code.
    throw bad(
      'got a bare number, which oathtool (GNU date) reads as a time of day (1000 = 10:00 today) or a date, ' +
        `not as unix seconds: write @<unix seconds> (e.g. @1700000000) or an ISO 8601 date-time`,
    );
  else {
    const m = DATE_TIME.exec(text);
    if (m === null) {
      if (/^\d{4}-\d{2}-\d{2} ?[+-]/.test(text))
        throw bad('takes a UTC offset only after a time, e.g. 2031-06-01T00:00:00+02:00');
      if (/^[+-]?(\d{1,3}|\d{5,})-\d/.test(text))
        throw bad('expects a four-digit year 1970..9999 (YYYY-MM-DD)');
      throw bad(`expects ${FORMS}`);
    }
    const [y, mo, d, h = 0, mi = 0, s = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) =>
      v === undefined ? undefined : Number(v),
    ) as [number, number, number, number?, number?, number?];
    if (y < 1970) throw bad('expects a year 1970..9999 (times before 1970 are not supported)');
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59)
      throw bad(`is not a valid date-time; expects ${FORMS}`);
    const zone = m[7] ?? m[8];
    // The fields as if they were UTC; Date.UTC maps years 0..99 to 19xx, which y >= 1970 rules out.
    const utc = Date.UTC(y, mo - 1, d, h, mi, s);
    if (zone === undefined) ms = localTime(utc, flag, command);
    else if (zone === 'Z' || zone === 'z' || zone === 'UTC') ms = utc;
    else {
      const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
      const oh = Number(z?.[2]);
      const om = Number(z?.[3] ?? '0');
      if (z === null || oh > 23 || om > 59)
        throw bad('expects a UTC offset ±hh, ±hhmm or ±hh:mm (hours 00..23, minutes 00..59)');
      ms = utc - (z[1] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
    }
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS)
    throw new UsageError(`${flag} is out of range (1970-01-01T00:00:00Z .. year 275760)`, command);
  return ms;
}

function daysInMonth(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/**
 * The instant whose local wall-clock time is `fields` (given as if UTC). Every offset the zone
 * uses within a day of it is tried; exactly one must reproduce the fields.
 */
function localTime(fields: number, flag: string, command: string): number {
  const day = 86_400_000;
  const offsetAt = (t: number): number => -new Date(t).getTimezoneOffset() * 60_000;
  const wallClock = (t: number): number => t + offsetAt(t);
  const found = new Set<number>();
  for (const probe of [fields - day, fields, fields + day]) {
    const t = fields - offsetAt(probe);
    if (wallClock(t) === fields) found.add(t);
  }
  if (found.size === 1) return [...found][0] as number;
  throw new UsageError(
    `${flag} is a local time that a daylight-saving change ${found.size === 0 ? 'skips' : 'repeats'}; ` +
      'add a UTC offset (e.g. +02:00) or Z',
    command,
  );
}
