export type OneRosterVersion = '1.1' | '1.2';

export function isOneRosterVersion(value: unknown): value is OneRosterVersion {
  return value === '1.1' || value === '1.2';
}
