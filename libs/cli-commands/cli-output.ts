/**
 * A command's result: one JSON document on stdout with `--json`, otherwise the human text. Errors never come
 * through here; they go to stderr.
 */
export function printResult(json: boolean | undefined, document: unknown, human: () => void): void {
  if (json) process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  else human();
}
