/**
 * One operator command as plain data: what `homeroom --help` prints and what the arguments are checked against
 * before anything boots. The Nest command classes take their decorator metadata from the same objects, so the
 * two cannot drift apart (`cli-catalogue.spec.ts` checks every class against its entry).
 */
export interface CliOptionDefinition {
  /** Commander flags: `--json`, `--limit <n>`. */
  flags: string;
  description: string;
  required?: boolean;
}

export interface CliCommandDefinition {
  name: string;
  /** Commander positional arguments: `<runId>`, `[connectionId]`. */
  arguments?: string;
  description: string;
  /** Printed after the command's own help: exit codes, examples. */
  helpAfter?: string;
  options: Readonly<Record<string, CliOptionDefinition>>;
  subCommands?: readonly CliCommandDefinition[];
}

/** The part of a definition nest-commander's `@Command` / `@SubCommand` takes (it wants classes as sub-commands). */
export function commandMetadata(definition: CliCommandDefinition): {
  name: string;
  arguments?: string;
  description: string;
} {
  const { name, arguments: args, description } = definition;
  return args === undefined ? { name, description } : { name, arguments: args, description };
}

/** Every command that reports something takes it. */
export const JSON_OPTION: CliOptionDefinition = {
  flags: '--json',
  description: 'print the result as one JSON document on stdout (errors stay on stderr)',
};
