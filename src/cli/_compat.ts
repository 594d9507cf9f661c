/**
 * Printing authenticator-compatibility warnings and terminal QR codes, shared by `uri`,
 * `inspect` and `demo`.
 * @module
 * @internal
 */
import { checkAuthenticatorCompatibility } from '../compat.js';
import { renderQRCodeText } from '../qr.js';
import type { OtpauthParams } from '../uri/params.js';
import { UsageError, type CliContext } from './_io.js';

/** @internal One warning per line: `warning: <message> (<code>; <apps>)`. */
export function compatibilityLines(params: OtpauthParams | string): string[] {
  return checkAuthenticatorCompatibility(params).map(
    (w) => `${w.message} (${w.code}${w.apps.length > 0 ? `; ${w.apps.join(', ')}` : ''})`,
  );
}

/** @internal `parseArgs` options of the terminal QR code. */
export const QR_OPTIONS = {
  color: { type: 'string' },
  invert: { type: 'boolean' },
} as const;

/** @internal Help lines for {@link QR_OPTIONS}, aligned at `column`. */
export function qrHelp(column: number): string {
  const row = (flag: string, ...text: string[]): string =>
    text.map((t, i) => `  ${(i === 0 ? flag : '').padEnd(column - 2)}${t}`).join('\n');
  return [
    row(
      '--color WHEN',
      'QR colours: auto (default), always or never. Coloured, the code is black on',
      'white (ANSI colours) and scans on dark and light terminals alike; auto colours',
      'it when stdout is a terminal, unless NO_COLOR is set or TERM is dumb',
    ),
    row(
      '--invert',
      'uncoloured, for a light-on-dark terminal: draw the light modules, not the dark',
      'ones (an uncoloured code without --invert scans only on dark-on-light)',
    ),
  ].join('\n');
}

/** @internal The values of {@link QR_OPTIONS}. */
export interface QRValues {
  readonly color?: string | undefined;
  readonly invert?: boolean | undefined;
}

/**
 * @internal Checks the QR options and returns the renderer for them: coloured when asked or when
 * stdout is a terminal, else plain text, which belongs in a file or a pipe but scans only on a
 * dark-on-light screen. `hidden` is the usage error to give when no QR code is printed at all.
 */
export function terminalQR(
  ctx: CliContext,
  values: QRValues,
  hidden: string | undefined,
  command: string,
): (uri: string) => string {
  const when = values.color ?? 'auto';
  if (when !== 'auto' && when !== 'always' && when !== 'never')
    throw new UsageError('--color expects auto, always or never', command);
  if (hidden !== undefined && (values.color !== undefined || values.invert === true))
    throw new UsageError(hidden, command);
  const invert = values.invert === true;
  if (invert && when === 'always')
    throw new UsageError(
      '--invert draws an uncoloured code; it excludes --color always, whose code scans on any terminal',
      command,
    );
  const env = ctx.io.env ?? {};
  // NO_COLOR (no-color.org): present and not empty disables colours that are not asked for.
  const auto = ctx.io.stdout.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
  const ansi = !invert && (when === 'always' || (when === 'auto' && auto));
  return (uri) => renderQRCodeText(uri, ansi ? { ansi: true } : { invert });
}
