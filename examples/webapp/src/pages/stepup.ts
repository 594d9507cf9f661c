/**
 * Step-up before a sensitive change: GET says what the change does and asks for a current code;
 * POST checks the code (`verifyCode`) and hands the single-use step-up token to the change, which
 * otpkit checks again. A new sensitive change is one more `stepUp(...)`.
 * @module
 */
import { normalizeToken } from 'otpkit';
import { html, type Html } from '../html.js';
import { codeField, csrfField } from '../layout.js';
import { codeFailed } from '../messages.js';
import { get, post, type Route, type UserCtx } from '../router.js';

export interface StepUp {
  readonly title: string;
  readonly intro: string;
  readonly button: string;
  /** The change's own fields (a device name). */
  readonly fields?: Html | undefined;
  readonly danger?: boolean | undefined;
}

export interface StepUpSpec {
  /** The page, or `null` when the change does not apply (back to the account page). */
  page(c: UserCtx): Promise<StepUp | null>;
  /** The change's own fields, checked before the code is spent: a message, or `null`. */
  check?(c: UserCtx): string | null;
  perform(c: UserCtx, stepUpToken: string): Promise<void>;
  /** A field carried from the page's query string through the form (an id). */
  readonly carry?: string | undefined;
}

export function stepUp(path: string, spec: StepUpSpec): Route[] {
  const back = (c: UserCtx): string => (spec.carry === undefined ? path : `${path}?${new URLSearchParams({ [spec.carry]: c.field(spec.carry) })}`);
  return [
    get(path, 'user', async (c) => {
      const s = await spec.page(c);
      if (s === null) return c.redirect('/');
      const carried = spec.carry === undefined ? '' : html`<input type="hidden" name="${spec.carry}" value="${c.field(spec.carry)}">`;
      c.render((v) => ({
        title: s.title,
        body: html`<div class="card"><h1>${s.title}</h1><p>${s.intro}</p>
<form method="post" action="${path}" id="step-up">${csrfField(v)}${carried}${s.fields ?? ''}
<p class="muted">Confirm it is you: enter a current code.</p>${codeField('step-up-code', true)}
<div><button type="submit" class="${s.danger === true ? 'danger' : ''}">${s.button}</button> <a href="/">Cancel</a></div></form></div>`,
      }));
    }),
    post(path, 'user', async (c) => {
      const problem = spec.check?.(c) ?? null;
      const r = problem === null ? await c.app.tf.verifyCode({ userId: c.user.id, code: normalizeToken(c.field('code', 64)) }) : null;
      if (r?.ok === true) return spec.perform(c, r.stepUpToken);
      c.flash('error', problem ?? codeFailed(r ?? { reason: 'invalid' }));
      c.redirect(back(c));
    }),
  ];
}
