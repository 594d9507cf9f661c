/**
 * otpkit's `deliver` hook: codes by email through an SMTP server (nodemailer, loaded when used).
 * A failed send is otpkit's `ERR_DELIVERY`, which {@link delivered} turns into "couldn't send".
 * @module
 */
import { OtpkitError, type Delivery } from 'otpkit';

/** Sends each code through `url` (`smtp://127.0.0.1:2525`; `smtps://user:password@host`). */
export function emailer(url: string, timeoutMs: number): (d: Delivery) => Promise<void> {
  const t = { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs };
  const from = 'otpkit demo <no-reply@localhost>';
  let mailer: Promise<{ sendMail(m: object): Promise<unknown> }> | undefined;
  return async (d) => {
    mailer ??= import('nodemailer').then((m) => m.default.createTransport({ url, ...t }, { from }));
    const text =
      d.purpose === 'verify'
        ? `Your otpkit demo code to confirm this address is ${d.code}.`
        : `Your otpkit demo sign-in code is ${d.code}. Never share it: we will never ask for it.`;
    await (await mailer).sendMail({ to: d.destination, subject: 'Your otpkit demo code', text });
  };
}

/** The result of a send, or `null` when the provider failed it (why goes to the log, never a code). */
export async function delivered<T>(
  send: Promise<T>,
  log: (line: string) => void,
): Promise<T | null> {
  return send.catch((e: unknown) => {
    if (!(e instanceof OtpkitError) || e.code !== 'ERR_DELIVERY') throw e;
    log(`error: ${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}`);
    return null;
  });
}
