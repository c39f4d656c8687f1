/**
 * An SIS server address from settings, as `origin + path` without a trailing slash (query and fragment dropped).
 * Refuses what is not an http(s) URL or carries credentials; `fail` turns the reason (`The {label} …`) into the
 * caller's own error.
 */
export function parseServerUrl(value: string, label: string, fail: (message: string) => Error): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail(`The ${label} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw fail(`The ${label} must be http(s)`);
  if (url.username || url.password) throw fail(`The ${label} must not contain credentials`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** `value` when it is a whole number of at least 1; a RangeError naming the setting otherwise. */
export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
