/**
 * Printing authenticator-compatibility warnings and terminal QR codes, shared by `uri`,
 * `inspect` and `demo`.
 * @module
 * @internal
 */
import { checkAuthenticatorCompatibility } from '../compat.js';
import type { OtpauthParams } from '../uri.js';

/** @internal One warning per line: `warning: <message> (<code>; <apps>)`. */
export function compatibilityLines(params: OtpauthParams | string): string[] {
  return checkAuthenticatorCompatibility(params).map(
    (w) => `${w.message} (${w.code}${w.apps.length > 0 ? `; ${w.apps.join(', ')}` : ''})`,
  );
}
