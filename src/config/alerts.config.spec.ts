import { describe, expect, it } from 'vitest';
import { loadAlertsConfig } from './alerts.config.js';
import { loadConfiguration } from './configuration.module.js';

const jwt = 'j'.repeat(40);
const secret = 'webhook-signing-secret-0123456789';
const dev = { isProduction: false };

describe('alerts configuration', () => {
  it('is off by default, with a streak threshold of 3', () => {
    expect(loadConfiguration({ JWT_SECRET: jwt }).alerts).toEqual({
      webhook: null,
      email: null,
      consecutiveFailures: 3,
      linkBaseUrl: null,
    });
    expect(loadAlertsConfig({ ALERT_WEBHOOK_URL: '', SMTP_URL: '', ALERT_EMAIL_TO: '' }, dev).webhook).toBeNull();
  });

  it('reads both channels', () => {
    expect(
      loadAlertsConfig(
        {
          ALERT_WEBHOOK_URL: 'https://hooks.district.org/homeroom',
          ALERT_WEBHOOK_SECRET: secret,
          SMTP_URL: 'smtp://user:pass@mail.district.org:587',
          ALERT_EMAIL_FROM: 'Homeroom <homeroom@district.org>',
          ALERT_EMAIL_TO: 'it@district.org, sis-team@district.org',
          ALERT_CONSECUTIVE_FAILURES: '5',
          ALERT_LINK_BASE_URL: 'https://homeroom.district.org/',
        },
        dev,
      ),
    ).toEqual({
      webhook: { url: 'https://hooks.district.org/homeroom', secret },
      email: {
        smtpUrl: 'smtp://user:pass@mail.district.org:587',
        from: 'Homeroom <homeroom@district.org>',
        to: ['it@district.org', 'sis-team@district.org'],
      },
      consecutiveFailures: 5,
      linkBaseUrl: 'https://homeroom.district.org',
    });
  });

  it('needs the signing secret with the webhook URL, and https in production', () => {
    expect(() => loadAlertsConfig({ ALERT_WEBHOOK_URL: 'https://hooks.district.org/x' }, dev)).toThrow(
      /ALERT_WEBHOOK_SECRET: required when ALERT_WEBHOOK_URL is set/,
    );
    expect(() =>
      loadAlertsConfig(
        { ALERT_WEBHOOK_URL: 'http://hooks.district.org/x', ALERT_WEBHOOK_SECRET: secret },
        {
          isProduction: true,
        },
      ),
    ).toThrow(/ALERT_WEBHOOK_URL: must be https in production/);
    expect(() => loadAlertsConfig({ ALERT_WEBHOOK_URL: 'ftp://x', ALERT_WEBHOOK_SECRET: secret }, dev)).toThrow(
      /ALERT_WEBHOOK_URL/,
    );
  });

  it('refuses a short secret without echoing it', () => {
    const attempt = () =>
      loadAlertsConfig({ ALERT_WEBHOOK_URL: 'https://hooks.district.org/x', ALERT_WEBHOOK_SECRET: 'tiny-secret' }, dev);
    expect(attempt).toThrow(/ALERT_WEBHOOK_SECRET: must be at least 16 characters/);
    expect(attempt).not.toThrow(/tiny-secret/);
  });

  it('needs sender and recipients with SMTP_URL, and SMTP_URL with them', () => {
    expect(() => loadAlertsConfig({ SMTP_URL: 'smtp://mail.district.org' }, dev)).toThrow(
      /ALERT_EMAIL_FROM: required[\s\S]*ALERT_EMAIL_TO: required/,
    );
    expect(() => loadAlertsConfig({ ALERT_EMAIL_TO: 'it@district.org' }, dev)).toThrow(/SMTP_URL: required/);
    expect(() =>
      loadAlertsConfig(
        {
          SMTP_URL: 'smtp://mail.district.org',
          ALERT_EMAIL_FROM: 'homeroom@district.org',
          ALERT_EMAIL_TO: 'not-an-address',
        },
        dev,
      ),
    ).toThrow(/ALERT_EMAIL_TO/);
    expect(() => loadAlertsConfig({ SMTP_URL: 'http://mail.district.org' }, dev)).toThrow(/SMTP_URL/);
  });

  it('keeps the streak threshold sensible', () => {
    expect(() => loadAlertsConfig({ ALERT_CONSECUTIVE_FAILURES: '1' }, dev)).toThrow(/ALERT_CONSECUTIVE_FAILURES/);
    expect(() => loadAlertsConfig({ ALERT_CONSECUTIVE_FAILURES: 'three' }, dev)).toThrow(/ALERT_CONSECUTIVE_FAILURES/);
  });
});
