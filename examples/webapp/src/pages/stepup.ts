/**
 * Step-up before a sensitive change: GET says what the change does and asks for a current code;
 * POST checks the code (`verifyCode`) and hands the single-use step-up token to the change, which
 * otpkit checks again. A new sensitive change is one more `stepUp(...)`.
 * @module
 */
import { normalizeToken } from 'otpkit';
import { codeFailed, codeField, form, type Html, html, page } from '../layout.js';
import { get, post, type Route, type UserCtx } from '../router.js';

/** The step-up page: what the change does, its button, its own fields (a device name, an address). */
export interface StepUp {
  readonly title: string;
  readonly intro: string;
  readonly button: string;
  readonly fields?: Html | undefined;
  readonly danger?: boolean | undefined;
}

export interface StepUpSpec {
  /** The page, or `null` when the change does not apply (back to the account page). */
  page(c: UserCtx): Promise<StepUp | null>;
  /** The change's own fields, checked before the code is spent: a message, or `null`. */
  check?(c: UserCtx): string | null;
  perform(c: UserCtx, stepUpToken: string): Promise<void>;
  /** A field carried from the page's query string through the form (an id, a kind). */
  readonly carry?: string | undefined;
}

export function stepUp(path: string, spec: StepUpSpec): Route[] {
  const carried = (c: UserCtx): Record<string, string> =>
    spec.carry === undefined ? {} : { [spec.carry]: c.field(spec.carry) };
  return [
    get(path, 'user', async (c) => {
      const s = await spec.page(c);
      if (s === null) return c.redirect('/');
      c.render((v) =>
        page(
          s.title,
          html`<p>${s.intro}</p>
            ${form(v, path, 'step-up', s.button, {
              hidden: carried(c),
              fields: html`${s.fields ?? ''}
                <p class="muted">Confirm it is you: enter a current code.</p>
                ${codeField('step-up-code')}`,
              cls: s.danger === true ? 'danger' : '',
              after: html` <a href="/">Cancel</a>`,
            })}`,
        ),
      );
    }),
    post(path, 'user', async (c) => {
      const problem = spec.check?.(c) ?? null;
      const r =
        problem === null
          ? await c.app.tf.verifyCode({
              userId: c.user.id,
              code: normalizeToken(c.field('code', 64)),
            })
          : null;
      if (r?.ok === true) return spec.perform(c, r.stepUpToken);
      c.flash('error', problem ?? codeFailed(r ?? { reason: 'invalid' }));
      const query = new URLSearchParams(carried(c)).toString();
      c.redirect(query === '' ? path : `${path}?${query}`);
    }),
  ];
}
