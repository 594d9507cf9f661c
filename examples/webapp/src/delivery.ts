/** otpkit's `deliver` hook: codes by email through an SMTP server, with nodemailer. @module */
import { OtpkitError, type Delivery } from 'otpkit';

export function emailer(url: string, timeoutMs: number): (d: Delivery) => Promise<void> {
  const t = { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs };
  const from = 'otpkit demo <no-reply@localhost>';
  let mailer: Promise<{ sendMail(m: object): Promise<unknown> }> | undefined;
  return async (d) => {
    mailer ??= import('nodemailer').then((m) => m.default.createTransport({ url, ...t }, { from }));
    const what = d.purpose === 'verify' ? 'code to confirm this address' : 'sign-in code';
    const text = `Your otpkit demo ${what} is ${d.code}. Never share it: we will never ask for it.`;
    await (await mailer).sendMail({ to: d.destination, subject: 'Your otpkit demo code', text });
  };
}
/** The result of a send, or `null` if the SMTP server failed it (why goes to the log, no code). */
export const delivered = <T>(send: Promise<T>, log: (s: string) => void): Promise<T | null> =>
  send.catch((e: unknown) => {
    if (!(e instanceof OtpkitError) || e.code !== 'ERR_DELIVERY') throw e;
    log(`error: ${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}`);
    return null;
  });
