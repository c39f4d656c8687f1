import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PROMTOOL = process.env['PROMTOOL'] ?? 'promtool';
const hasPromtool = spawnSync(PROMTOOL, ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasPromtool) {
  console.warn(
    `SKIPPED the alert rule checks: ${PROMTOOL} is not installed (apt-get install -y prometheus, or set PROMTOOL)`,
  );
}

const PROMETHEUS_DIR = join(import.meta.dirname, '../../docker/prometheus');

function promtool(args: string[], cwd = PROMETHEUS_DIR): { status: number | null; output: string } {
  const result = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The Prometheus configuration, alert rules and their unit tests shipped in docker/prometheus. */
describe.skipIf(!hasPromtool)('shipped Prometheus alert rules (promtool)', () => {
  it('are valid rules, loaded by a valid configuration', () => {
    const rules = promtool(['check', 'rules', 'alerts.yml']);
    expect(rules.status, rules.output).toBe(0);
    expect(rules.output).toMatch(/SUCCESS: \d+ rules found/);
    // As compose mounts them: the configuration and the rules side by side in /etc/prometheus.
    const etc = mkdtempSync(join(tmpdir(), 'homeroom-prometheus-'));
    try {
      copyFileSync(join(PROMETHEUS_DIR, '../prometheus.yml'), join(etc, 'prometheus.yml'));
      copyFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), join(etc, 'alerts.yml'));
      const config = promtool(['check', 'config', 'prometheus.yml'], etc);
      expect(config.status, config.output).toBe(0);
      expect(config.output).toContain('1 rule files found');
    } finally {
      rmSync(etc, { recursive: true, force: true });
    }
  });

  it('pass their unit tests (alerts.test.yml)', () => {
    const tests = promtool(['test', 'rules', 'alerts.test.yml']);
    expect(tests.status, tests.output).toBe(0);
    expect(tests.output).toContain('SUCCESS');
  });

  it('have a unit test each', () => {
    const alerts = [...readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)];
    const tested = new Set(
      [...readFileSync(join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8').matchAll(/alertname: (\w+)/g)].map(
        (match) => match[1],
      ),
    );
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    expect(alerts.map((match) => match[1]).filter((alert) => !tested.has(alert))).toEqual([]);
  });
});
