/**
 * Values a record was kept without: a bad value of a field the product can do without (today `dateLastModified`)
 * is ignored instead of dropping the whole record, and reported once per entity and run with a count. Values are
 * described by their shape only (digits as 9, letters as a), never quoted: they may be student data.
 */
export interface OneRosterIgnoredValue {
  field: string;
  /** What the value is not, after the field's name: `is not an ISO 8601 date-time`. */
  problem: string;
  /** `shapeOf(value)`. */
  shape: string;
}

const MAX_SHAPE_LENGTH = 32;
const SHAPES_NAMED = 3;

/** A value's shape: `1/05/2023` → `9/99/9999`, `Jan 5` → `aaa 9`; long values are cut short. */
export function shapeOf(value: unknown): string {
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'a JSON array' : 'a JSON object';
  const text = String(value).trim();
  const shape = text
    .slice(0, MAX_SHAPE_LENGTH)
    .replace(/\p{Nd}/gu, '9')
    .replace(/\p{L}/gu, 'a');
  return text.length > MAX_SHAPE_LENGTH ? `${shape}…` : shape;
}

/** Ignored values of one entity's pull, summed per field. */
export class IgnoredValueTally {
  private readonly byField = new Map<string, { problem: string; count: number; shapes: Set<string> }>();

  add(ignored: readonly OneRosterIgnoredValue[] | undefined): void {
    if (ignored === undefined) return;
    for (const { field, problem, shape } of ignored) {
      let entry = this.byField.get(field);
      if (!entry) this.byField.set(field, (entry = { problem, count: 0, shapes: new Set() }));
      entry.count += 1;
      entry.shapes.add(shape);
    }
  }

  /**
   * One summary per field with ignored values, e.g. `3 users.csv rows have a dateLastModified that is not an ISO
   * 8601 date-time (shaped like 9/99/9999): the dateLastModified was ignored and the records kept`.
   */
  summaries([one, many]: readonly [string, string]): { field: string; count: number; message: string }[] {
    return [...this.byField].map(([field, { problem, count, shapes }]) => {
      const named = [...shapes].slice(0, SHAPES_NAMED);
      const others = shapes.size - named.length;
      const shapeList = named.join(', ') + (others > 0 ? ` and ${others} other shape${others === 1 ? '' : 's'}` : '');
      return {
        field,
        count,
        message:
          `${count} ${count === 1 ? `${one} has` : `${many} have`} a ${field} that ${problem} (shaped like ` +
          `${shapeList}): the ${field} was ignored and the record${count === 1 ? '' : 's'} kept`,
      };
    });
  }
}
