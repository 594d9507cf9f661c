/** Debian's Chromium, as every browser test launches it (never a downloaded browser). */
export const CHROMIUM: string = process.env.OTPKIT_CHROMIUM ?? '/usr/bin/chromium';
/** Headless, no sandbox (CI runs as root), and nothing that reaches the network on its own. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
