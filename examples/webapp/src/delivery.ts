/**
 * otpkit's `deliver` hook: codes by email through an SMTP server (nodemailer, loaded only when an
 * SMTP URL is given), by SMS to an HTTP API shaped like Twilio's Messages resource (`POST
 * …/Messages.json`, form-encoded `To`, `From`, `Body`, HTTP Basic auth). It throws when a message
 * could not be handed over; otpkit then clears the code, and the page says it couldn't send.
 * @module
 */
import { OtpkitError, type Delivery, type OobChannel } from 'otpkit';

export interface DeliveryOptions {
  /** The SMTP server, e.g. `smtp://127.0.0.1:2525` (`smtps://user:password@host` with TLS and login). */
  readonly smtpUrl?: string | undefined;
  /** The SMS API's Messages endpoint with its credentials, `https://SID:TOKEN@host/2010-04-01/Accounts/SID/Messages.json`. */
  readonly smsUrl?: string | undefined;
  /** @defaultValue 'otpkit demo <no-reply@localhost>' */
  readonly emailFrom?: string | undefined;
  /** @defaultValue '+15005550006' */
  readonly smsFrom?: string | undefined;
  /** Longest wait for the SMTP server or the SMS API (otpkit's `delivery.timeoutMs`). @defaultValue 10000 */
  readonly timeoutMs?: number | undefined;
  /** otpkit's wait between two sends to one user. @defaultValue 60000 */
  readonly cooldownMs?: number | undefined;
}

/** The channels these options can send on. */
export const channelsOf = (o: DeliveryOptions): OobChannel[] => [
  ...(o.smtpUrl === undefined ? [] : ['email' as const]),
  ...(o.smsUrl === undefined ? [] : ['sms' as const]),
];

const text = (d: Delivery): string =>
  d.purpose === 'verify'
    ? `Your otpkit demo code to confirm this ${d.channel === 'email' ? 'address' : 'number'} is ${d.code}.`
    : `Your otpkit demo sign-in code is ${d.code}. Never share it: we will never ask you for it.`;

export function createDeliver(o: DeliveryOptions): (d: Delivery) => Promise<void> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  let mailer: Promise<{ sendMail(m: object): Promise<unknown> }> | undefined;
  // fetch takes no credentials in a URL: they go to the Authorization header.
  const sms = o.smsUrl === undefined ? undefined : new URL(o.smsUrl);
  const auth =
    sms === undefined
      ? ''
      : `Basic ${Buffer.from(`${decodeURIComponent(sms.username)}:${decodeURIComponent(sms.password)}`).toString('base64')}`;
  if (sms !== undefined) sms.username = sms.password = '';
  return async (d) => {
    if (d.channel === 'email') {
      if (o.smtpUrl === undefined) throw new Error('no SMTP server is configured');
      mailer ??= import('nodemailer').then((m) =>
        m.default.createTransport(
          {
            url: o.smtpUrl,
            connectionTimeout: timeoutMs,
            greetingTimeout: timeoutMs,
            socketTimeout: timeoutMs,
          },
          { from: o.emailFrom ?? 'otpkit demo <no-reply@localhost>' },
        ),
      );
      await (
        await mailer
      ).sendMail({ to: d.destination, subject: 'Your otpkit demo code', text: text(d) });
      return;
    }
    if (sms === undefined) throw new Error('no SMS API is configured');
    const res = await fetch(sms, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        To: d.destination,
        From: o.smsFrom ?? '+15005550006',
        Body: text(d),
      }),
      signal: d.signal, // aborted when otpkit stops waiting (delivery.timeoutMs)
    });
    if (!res.ok) throw new Error(`the SMS API answered ${res.status}`);
  };
}

/** The result of a send, or `null` when the provider failed it (otpkit cleared the code; why goes to the log, never a code). */
export async function delivered<T>(
  send: Promise<T>,
  log: (line: string) => void,
): Promise<T | null> {
  try {
    return await send;
  } catch (e) {
    if (!(e instanceof OtpkitError) || e.code !== 'ERR_DELIVERY') throw e;
    log(`error: ${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}`);
    return null;
  }
}
