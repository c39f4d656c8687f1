/**
 * A piece of SQL with its `?` parameters in order, so that conditional filters and CTEs compose without
 * miscounting placeholders. Values become parameters (an array becomes a comma-separated list, for
 * `ARRAY[${values}]`); nested fragments are spliced in with their own parameters.
 */
export class SqlFragment {
  constructor(
    readonly text: string,
    readonly params: readonly unknown[],
  ) {}

  static readonly empty = new SqlFragment('', []);

  get isEmpty(): boolean {
    return this.text.trim() === '';
  }
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlFragment {
  let text = strings[0];
  const params: unknown[] = [];
  values.forEach((value, index) => {
    if (value instanceof SqlFragment) {
      text += value.text;
      params.push(...value.params);
    } else {
      if (value === undefined) throw new Error('An SQL parameter is undefined');
      text += '?';
      params.push(value);
    }
    text += strings[index + 1];
  });
  return new SqlFragment(text, params);
}

export function joinSql(fragments: readonly SqlFragment[], separator: string): SqlFragment {
  const present = fragments.filter((fragment) => !fragment.isEmpty);
  return new SqlFragment(
    present.map((fragment) => fragment.text).join(separator),
    present.flatMap((fragment) => fragment.params),
  );
}
