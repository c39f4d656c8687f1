import { z } from 'zod';
import { emptyAsUndefined, listFromEnv, parseEnv } from './env-parsing.js';

/** `alerts@district.org` or `Homeroom <alerts@district.org>`. */
const MAILBOX = /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;
const mailbox = z.string().trim().regex(MAILBOX, 'an email address such as alerts@district.org');

const httpUrl = z
  .string()
  .trim()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'an http(s) URL');

const alertsSchema = z.object({
  ALERT_WEBHOOK_URL: z.preprocess(emptyAsUndefined, httpUrl.optional()),
  ALERT_WEBHOOK_SECRET: z.preprocess(
    emptyAsUndefined,
    z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
  ),
  SMTP_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .trim()
      .refine((value) => URL.canParse(value) && /^smtps?:$/.test(new URL(value).protocol), 'an smtp:// or smtps:// URL')
      .optional(),
  ),
  ALERT_EMAIL_FROM: z.preprocess(emptyAsUndefined, mailbox.optional()),
  ALERT_EMAIL_TO: z.preprocess(emptyAsUndefined, listFromEnv.pipe(z.array(mailbox).min(1)).optional()),
  ALERT_CONSECUTIVE_FAILURES: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(2).max(1000).default(3)),
  ALERT_LINK_BASE_URL: z.preprocess(emptyAsUndefined, httpUrl.optional()),
});

/**
 * Alerts by webhook and by email: sync alerts (failed runs, held runs, a streak of failures) and a failed
 * scheduled verification of the audit chain (`audit.verification-failed`). Both channels are off until configured.
 *
 * `ALERT_WEBHOOK_URL` receives a JSON POST per alert, signed with `ALERT_WEBHOOK_SECRET` (required with the
 * URL): header `X-Homeroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. `SMTP_URL`
 * (`smtp://user:pass@host:587`, `smtps://…:465`) sends a plain-text email from `ALERT_EMAIL_FROM` to every
 * address in `ALERT_EMAIL_TO` (comma-separated); both are required with the URL. A connection whose runs fail
 * `ALERT_CONSECUTIVE_FAILURES` times in a row (default 3) raises one extra alert per streak.
 * `ALERT_LINK_BASE_URL` (e.g. `https://homeroom.district.org`) makes the links in alerts absolute.
 */
export abstract class AlertsConfig {
  /** Null when webhook alerts are off. The URL may itself carry a token: never log it. */
  abstract readonly webhook: { readonly url: string; readonly secret: string } | null;
  /** Null when email alerts are off. The SMTP URL may carry a password: never log it. */
  abstract readonly email: { readonly smtpUrl: string; readonly from: string; readonly to: readonly string[] } | null;
  /** Failed runs in a row (no success in between) that raise a "consecutive failures" alert. */
  abstract readonly consecutiveFailures: number;
  /** Prefix for the links in alerts (`/api/v1/sis/runs/…`); null leaves them relative. */
  abstract readonly linkBaseUrl: string | null;
}

export function loadAlertsConfig(source: NodeJS.ProcessEnv, options: { isProduction: boolean }): AlertsConfig {
  const env = parseEnv('alerts', alertsSchema, source);
  const problems: string[] = [];
  if (env.ALERT_WEBHOOK_URL && !env.ALERT_WEBHOOK_SECRET) {
    problems.push('ALERT_WEBHOOK_SECRET: required when ALERT_WEBHOOK_URL is set (receivers verify the signature)');
  }
  if (env.ALERT_WEBHOOK_URL && options.isProduction && new URL(env.ALERT_WEBHOOK_URL).protocol !== 'https:') {
    problems.push('ALERT_WEBHOOK_URL: must be https in production');
  }
  if (env.SMTP_URL) {
    if (!env.ALERT_EMAIL_FROM) problems.push('ALERT_EMAIL_FROM: required when SMTP_URL is set');
    if (!env.ALERT_EMAIL_TO) problems.push('ALERT_EMAIL_TO: required when SMTP_URL is set');
  } else {
    if (env.ALERT_EMAIL_FROM) problems.push('SMTP_URL: required when ALERT_EMAIL_FROM is set');
    else if (env.ALERT_EMAIL_TO) problems.push('SMTP_URL: required when ALERT_EMAIL_TO is set');
  }
  if (problems.length > 0) {
    throw new Error(`Invalid alerts configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  return {
    webhook:
      env.ALERT_WEBHOOK_URL && env.ALERT_WEBHOOK_SECRET
        ? { url: env.ALERT_WEBHOOK_URL, secret: env.ALERT_WEBHOOK_SECRET }
        : null,
    email:
      env.SMTP_URL && env.ALERT_EMAIL_FROM && env.ALERT_EMAIL_TO
        ? { smtpUrl: env.SMTP_URL, from: env.ALERT_EMAIL_FROM, to: env.ALERT_EMAIL_TO }
        : null,
    consecutiveFailures: env.ALERT_CONSECUTIVE_FAILURES,
    linkBaseUrl: env.ALERT_LINK_BASE_URL ? env.ALERT_LINK_BASE_URL.replace(/\/+$/, '') : null,
  };
}
