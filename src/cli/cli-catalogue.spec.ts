import { CLI_COMMANDS, type CliCommandDefinition } from '@app/cli-commands';
import type { Type } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../config/index.js';
import { CliModule } from './cli-app.js';

// nest-commander's metadata keys (src/constants.js): if a release renames them, this spec fails loudly.
const COMMAND_META = 'CommandBuilder:Command:Meta';
const SUB_COMMAND_META = 'CommandBuilder:Subcommand:Meta';
const OPTION_META = 'CommandBuilder:Option:Meta';

interface CommandMeta {
  name: string;
  arguments?: string;
  description?: string;
  subCommands?: Type[];
}

/** Every provider class reachable from a module definition (static or dynamic). */
function providerClasses(module: unknown, seen = new Set<unknown>()): Type[] {
  if (!module || seen.has(module)) return [];
  seen.add(module);
  const dynamic = module as { module?: Type; imports?: unknown[]; providers?: unknown[] };
  const metatype = typeof module === 'function' ? (module as Type) : dynamic.module;
  const imports = [
    ...(dynamic.imports ?? []),
    ...((metatype && (Reflect.getMetadata('imports', metatype) as unknown[])) ?? []),
  ];
  const providers = [
    ...(dynamic.providers ?? []),
    ...((metatype && (Reflect.getMetadata('providers', metatype) as unknown[])) ?? []),
  ].filter((provider): provider is Type => typeof provider === 'function');
  return [...providers, ...imports.flatMap((imported) => providerClasses(imported, seen))];
}

function optionFlags(command: Type): string[] {
  const flags = new Set<string>();
  for (let proto = command.prototype as object | null; proto && proto !== Object.prototype;) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const method = Object.getOwnPropertyDescriptor(proto, key)?.value as unknown;
      const meta =
        typeof method === 'function'
          ? (Reflect.getMetadata(OPTION_META, method) as { flags: string } | undefined)
          : undefined;
      if (meta) flags.add(meta.flags);
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return [...flags].sort();
}

function expectMatches(command: Type, definition: CliCommandDefinition, meta: CommandMeta): void {
  const where = `homeroom … ${definition.name}`;
  expect(meta.name, where).toBe(definition.name);
  expect(meta.arguments, where).toBe(definition.arguments);
  expect(meta.description, where).toBe(definition.description);
  expect(optionFlags(command), where).toEqual(
    Object.values(definition.options)
      .map((option) => option.flags)
      .sort(),
  );
  const subs = meta.subCommands ?? [];
  expect(subs.map((sub) => (Reflect.getMetadata(SUB_COMMAND_META, sub) as CommandMeta).name).sort(), where).toEqual(
    (definition.subCommands ?? []).map((sub) => sub.name).sort(),
  );
  for (const sub of subs) {
    const subMeta = Reflect.getMetadata(SUB_COMMAND_META, sub) as CommandMeta;
    expectMatches(
      sub,
      definition.subCommands!.find((candidate) => candidate.name === subMeta.name)!,
      subMeta,
    );
  }
}

describe('the CLI catalogue', () => {
  it('describes exactly the commands, arguments, options and sub-commands the Nest command classes declare', () => {
    const configuration = loadConfiguration({
      NODE_ENV: 'test',
      JWT_SECRET: 'catalogue-spec-secret-that-is-long-enough-0123',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/homeroom_test_unused',
    });
    const module = CliModule.forRuntime({
      configuration,
      databaseUrl: 'postgres://nobody@127.0.0.1:1/homeroom_test_unused',
      stop: () => Promise.resolve(),
    });
    const roots = [...new Set(providerClasses(module))].filter((provider) =>
      Reflect.hasOwnMetadata(COMMAND_META, provider),
    );
    expect(roots.map((root) => (Reflect.getMetadata(COMMAND_META, root) as CommandMeta).name).sort()).toEqual(
      CLI_COMMANDS.map((command) => command.name).sort(),
    );
    for (const root of roots) {
      const meta = Reflect.getMetadata(COMMAND_META, root) as CommandMeta;
      expectMatches(
        root,
        CLI_COMMANDS.find((command) => command.name === meta.name)!,
        meta,
      );
    }
  });
});
