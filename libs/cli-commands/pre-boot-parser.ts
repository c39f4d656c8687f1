import { createRequire } from 'node:module';
import type { CommandRunner } from 'nest-commander';
import type { CliCommandDefinition } from './cli-command.js';

/** The commander release nest-commander itself builds on, so both print the same help and refuse the same input. */
type Commander = Parameters<CommandRunner['setCommand']>[0];
type CommanderModule = { Command: new (name?: string) => Commander };
type CommanderError = Error & { code: string; exitCode: number };

export interface PreBootProgram {
  name: string;
  version?: string;
  description?: string;
  commands: readonly CliCommandDefinition[];
  /** Where help and errors go; stdout and stderr unless given. */
  output?: { writeOut(text: string): void; writeErr(text: string): void };
}

/** Either the parser answered (help, version, a usage error) and the process exits with `code`, or a command runs. */
export type PreBootDecision = { kind: 'answered'; code: number } | { kind: 'run'; command: string[] };

let commanderModule: CommanderModule | undefined;

function loadCommander(): CommanderModule {
  if (!commanderModule) {
    const fromHere = createRequire(import.meta.url);
    commanderModule = createRequire(fromHere.resolve('nest-commander'))('commander') as CommanderModule;
  }
  return commanderModule;
}

/**
 * Parses the arguments against the command catalogue before anything boots: `--help`, `--version`, `help <command>`,
 * a command group without its sub-command, an unknown command or option and a missing required argument or option
 * are answered here, with no configuration read, no secret written and no database opened.
 */
export function parseBeforeBoot(argv: readonly string[], program: PreBootProgram): PreBootDecision {
  const { Command } = loadCommander();
  let selected: string[] | undefined;

  const configure = (command: Commander): Commander => {
    command.exitOverride().showSuggestionAfterError(true);
    return program.output ? command.configureOutput(program.output) : command;
  };

  const build = (definition: CliCommandDefinition, path: string[]): Commander => {
    const command = configure(new Command(definition.name));
    const here = [...path, definition.name];
    if (definition.arguments) for (const argument of definition.arguments.split(' ')) command.argument(argument);
    command.description(definition.description);
    for (const option of Object.values(definition.options)) {
      command.addOption(command.createOption(option.flags, option.description).makeOptionMandatory(!!option.required));
    }
    if (definition.helpAfter) command.addHelpText('after', definition.helpAfter);
    const subCommands = definition.subCommands ?? [];
    for (const sub of subCommands) command.addCommand(build(sub, here));
    // A group without arguments of its own has no action: commander then prints its help as a usage error.
    if (definition.arguments !== undefined || subCommands.length === 0) {
      command.action((...received: unknown[]) => {
        const given = received.slice(0, definition.arguments?.split(' ').length ?? 0);
        if (subCommands.length > 0 && given.every((value) => value === undefined)) command.help({ error: true });
        selected = here;
      });
    }
    return command;
  };

  const root = configure(new Command(program.name));
  if (program.description) root.description(program.description);
  if (program.version) root.version(program.version);
  for (const definition of program.commands) root.addCommand(build(definition, []));
  try {
    root.parse([...argv], { from: 'user' });
  } catch (error) {
    if (isCommanderError(error)) return { kind: 'answered', code: error.exitCode };
    throw error;
  }
  return selected ? { kind: 'run', command: selected } : { kind: 'answered', code: 1 };
}

function isCommanderError(error: unknown): error is CommanderError {
  return error instanceof Error && typeof (error as CommanderError).exitCode === 'number' && 'code' in error;
}
