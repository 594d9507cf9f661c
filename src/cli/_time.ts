/**
 * Time arguments (`--now`, `--t0`/`--start-time`), in the forms oathtool's `-N`/`-S` and
 * scripts use: unix seconds (`1700000000`), `@<unix>` (GNU date syntax, which oathtool takes
 * too), or an ISO 8601 date-time (`2031-06-01T12:00:00Z`, `2031-06-01 12:00:00+02:00`).
 *
 * Deliberately not `Date.parse`: it accepts many non-ISO forms and differs between engines.
 * As in ISO 8601 (and oathtool), a date or date-time without an offset is local time.
 * @module
 * @internal
 */
import { UsageError } from './_io.js';

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?))?$/;

/** Latest time `Date` represents, ms (the library's limit too). */
const MAX_MS = 8.64e15;

/**
 * @internal Parses a time argument into milliseconds since the epoch (whole seconds).
 * @throws UsageError for anything else, or a time before 1970.
 */
export function parseTimeArg(text: string, flag: string, command: string): number {
  const bad = (): UsageError =>
    new UsageError(`${flag} expects unix seconds, @<unix seconds>, or an ISO 8601 date-time`, command);
  let ms: number;
  const unix = /^@?(\d{1,16})$/.exec(text);
  if (unix !== null) ms = Number(unix[1]) * 1000;
  else {
    const m = ISO.exec(text);
    if (m === null) throw bad();
    const [y, mo, d, h = 0, mi = 0, s = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) =>
      v === undefined ? undefined : Number(v),
    ) as [number, number, number, number?, number?, number?];
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) throw bad();
    const zone = m[8];
    if (zone === undefined) {
      const local = new Date(y, mo - 1, d, h, mi, s);
      if (local.getFullYear() !== y || local.getMonth() !== mo - 1 || local.getDate() !== d) throw bad();
      ms = local.getTime();
    } else {
      const utc = Date.UTC(y, mo - 1, d, h, mi, s);
      if (new Date(utc).getUTCDate() !== d) throw bad(); // 2031-02-30
      let offsetMin = 0;
      if (zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
        const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
        if (z === null) throw bad();
        const oh = Number(z[2]);
        const om = Number(z[3] ?? '0');
        if (oh > 23 || om > 59) throw bad();
        offsetMin = (z[1] === '-' ? -1 : 1) * (oh * 60 + om);
      }
      ms = utc - offsetMin * 60_000;
    }
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS)
    throw new UsageError(`${flag} is out of range (1970-01-01 .. year 275760)`, command);
  return ms;
}
