import { describe, expect, it } from 'vitest';
import { CLI_COMMANDS } from './cli-catalogue.js';
import { parseBeforeBoot, type PreBootDecision } from './pre-boot-parser.js';

function parse(...argv: string[]): { decision: PreBootDecision; out: string; err: string } {
  let out = '';
  let err = '';
  const decision = parseBeforeBoot(argv, {
    name: 'homeroom',
    version: '9.9.9',
    commands: CLI_COMMANDS,
    output: { writeOut: (text) => (out += text), writeErr: (text) => (err += text) },
  });
  return { decision, out, err };
}

describe('parseBeforeBoot', () => {
  it('answers --help, -h and help <command> with usage and status 0', () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const { decision, out } = parse(...argv);
      expect(decision, argv.join(' ')).toEqual({ kind: 'answered', code: 0 });
      expect(out).toContain('Usage: homeroom');
      for (const command of ['migrate', 'users', 'sync', 'runs', 'audit']) expect(out).toContain(command);
    }
    const sync = parse('help', 'sync');
    expect(sync.decision).toEqual({ kind: 'answered', code: 0 });
    expect(sync.out).toContain('Usage: homeroom sync');
  });

  it('answers <command> --help, even with other arguments, and documents the sync exit statuses', () => {
    const { decision, out } = parse('sync', 'some-connection', '--full', '--help');
    expect(decision).toEqual({ kind: 'answered', code: 0 });
    expect(out).toMatch(
      /Exit status:[\s\S]*0 {2}the run succeeded[\s\S]*1 {2}the run failed[\s\S]*2 {2}the run is held/,
    );
    expect(out).toMatch(/3 {2}the run was cancelled/);
    const runs = parse('runs', 'approve', '--help');
    expect(runs.decision).toEqual({ kind: 'answered', code: 0 });
    expect(runs.out).toContain('--reason <text>');
  });

  it('answers --version with the version', () => {
    const { decision, out } = parse('--version');
    expect(decision).toEqual({ kind: 'answered', code: 0 });
    expect(out.trim()).toBe('9.9.9');
  });

  it('refuses unknown commands and options, and missing arguments and required options, with status 1', () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['runs', 'list', '--colour'], /unknown option '--colour'/],
      [['runs', 'show'], /missing required argument 'runId'/],
      [['users', 'create-admin'], /required option '--email <email>' not specified/],
      [['sync', 'import'], /missing required argument 'zip'/],
    ];
    for (const [argv, message] of cases) {
      const { decision, err } = parse(...argv);
      expect(decision, argv.join(' ')).toEqual({ kind: 'answered', code: 1 });
      expect(err).toMatch(message);
    }
  });

  it('prints the help of a command group given without its sub-command, as a usage error', () => {
    for (const argv of [[], ['runs'], ['users'], ['audit'], ['sync']]) {
      const { decision, err } = parse(...argv);
      expect(decision, argv.join(' ')).toEqual({ kind: 'answered', code: 1 });
      expect(err).toContain('Usage: homeroom');
    }
  });

  it('lets a well-formed command through to boot, naming it', () => {
    expect(parse('migrate').decision).toEqual({ kind: 'run', command: ['migrate'] });
    expect(parse('sync', 'import', 'x.zip', '--dry-run', '--json').decision).toEqual({
      kind: 'run',
      command: ['sync', 'import'],
    });
    expect(parse('sync', 'c0ffee', '--full').decision).toEqual({ kind: 'run', command: ['sync'] });
    expect(parse('runs', 'list', '--state', 'held', '--limit', '5', '--json').decision).toEqual({
      kind: 'run',
      command: ['runs', 'list'],
    });
    expect(parse('audit', 'verify', '--bundle', 'dir', '--public-key', 'a', '--public-key', 'b').decision).toEqual({
      kind: 'run',
      command: ['audit', 'verify'],
    });
  });
});
