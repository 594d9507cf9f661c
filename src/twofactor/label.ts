/**
 * The names users give their factors and devices: what is accepted, as a verdict for forms and as
 * the check every operation applies.
 * @module
 */
import { kind } from '../_assert.js';
import { rangeError, typeError } from '../errors.js';
import { FORBIDDEN_NAME_CHAR, LONE_SURROGATE } from '../uri/_rules.js';

/**
 * Tells whether a name a user typed for a factor or device would be refused, without throwing:
 * the same rule `beginEnrollment`, `renameFactor` and `trustDevice` apply (1..64 characters once
 * trimmed; no control, bidi-control or lone-surrogate character, the rule of names in
 * `otpauth://` URIs). Check form input with it, then pass the label on.
 *
 * @param label - the name as typed.
 * @returns `undefined` if the label is accepted (it is stored trimmed), else why not:
 *   `'empty'`, `'too-long'` or `'forbidden-character'`.
 * @throws TypeError `ERR_OPTION_TYPE` if `label` is not a string.
 * @example
 * ```ts
 * factorLabelProblem('  Work phone '); // undefined
 * factorLabelProblem('evil\u202Eexe'); // 'forbidden-character'
 * ```
 */
export function factorLabelProblem(
  label: string,
): 'empty' | 'too-long' | 'forbidden-character' | undefined {
  if (typeof label !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"label" expected string, got ${kind(label)}`);
  const t = label.trim();
  if (t.length === 0) return 'empty';
  if (t.length > 64) return 'too-long';
  if (FORBIDDEN_NAME_CHAR.test(t) || LONE_SURROGATE.test(t)) return 'forbidden-character';
  return undefined;
}

/** @internal A factor label: {@link factorLabelProblem}'s rule, as a throw; the label trimmed. */
export function alabel(v: unknown): string {
  const problem = factorLabelProblem(v as string);
  if (problem === 'forbidden-character')
    throw rangeError(
      'ERR_OPTION_INVALID',
      '"label" contains a control, bidi or lone surrogate character',
    );
  if (problem !== undefined)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"label" expected 1..64 characters after trimming, got ${(v as string).trim().length}`,
    );
  return (v as string).trim();
}
