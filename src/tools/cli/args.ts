/**
 * Command-line parsing on `node:util` parseArgs (strict), with its errors turned into one-line
 * usage errors that name the flag and the command.
 */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { didYouMean } from '../../config/schema/did-you-mean.ts';
import { type CommandContext, UsageError } from './io.ts';
import { OUTPUT_FORMATS_LIST, type OutputFormat } from './output-format.ts';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
}

export interface CommandSpec {
  /** `get`, `explain`, …: for messages. */
  readonly name: string;
  /** The `--help` text. */
  readonly help: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
}

/** Flags every command accepts after its name too (`lanes get deploy --state DIR`). */
const COMMON: Readonly<Record<string, OptionSpec>> = {
  state: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
  /** `--state` after the command, else before it. */
  readonly state: string | undefined;
}

/** Parses a command's arguments; undefined when `--help` was asked for (and printed). */
export function parseCommand(spec: CommandSpec, ctx: CommandContext): Parsed | undefined {
  const options = { ...spec.options, ...COMMON };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...ctx.args],
      options: options as ParseArgsOptionsConfig,
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(parseErrorMessage(spec, options, error as Error));
  }
  const values = parsed.values as Parsed['values'];
  if (values.help === true) {
    ctx.io.stdout.write(spec.help.endsWith('\n') ? spec.help : `${spec.help}\n`);
    return undefined;
  }
  const state = values.state as string | undefined;
  if (state === '') throw new UsageError('--state needs a directory');
  return { values, positionals: parsed.positionals, state: state ?? ctx.globalState };
}

function parseErrorMessage(
  spec: CommandSpec,
  options: Readonly<Record<string, OptionSpec>>,
  error: Error,
): string {
  const code = (error as NodeJS.ErrnoException).code;
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  const see = `see \`lanes ${spec.name} --help\``;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = quoted.split('=', 1)[0] ?? quoted;
    const names = Object.entries(options).flatMap(([long, o]) =>
      o.short ? [`--${long}`, `-${o.short}`] : [`--${long}`],
    );
    const guess = flag.startsWith('--') ? didYouMean(flag, names) : undefined;
    return `unknown flag ${flag} for \`lanes ${spec.name}\`${guess ? ` (did you mean ${guess}?)` : ''}; ${see}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // parseArgs names the option as '-f, --filename <value>' or '--detach'.
    const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
    if (error.message.includes('does not take an argument')) return `flag ${flag} takes no value`;
    if (error.message.includes('ambiguous')) {
      return `flag ${flag} needs a value; to give a value that starts with '-', write ${flag}=VALUE`;
    }
    return `flag ${flag} needs a value; ${see}`;
  }
  return `${error.message.split('\n', 1)[0]}; ${see}`;
}

/** The last value of a string flag. */
export function stringFlag(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function listFlag(p: Parsed, name: string): readonly string[] {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function boolFlag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

/** `-o table|json|yaml`, table by default. */
export function outputFlag(p: Parsed): OutputFormat {
  const v = stringFlag(p, 'output');
  if (v === undefined) return 'table';
  if ((OUTPUT_FORMATS_LIST as readonly string[]).includes(v)) return v as OutputFormat;
  throw new UsageError(
    `unknown output format ${JSON.stringify(v)} for -o; use one of ${OUTPUT_FORMATS_LIST.join(', ')}`,
  );
}

export const OUTPUT_OPTION: Readonly<Record<string, OptionSpec>> = {
  output: { type: 'string', short: 'o' },
};

/** A whole number within bounds, for `--port`, `--instance`. */
export function intFlag(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`,
    );
  }
  return Number(v);
}

/** No positional arguments beyond `max`. */
export function maxPositionals(spec: CommandSpec, p: Parsed, max: number, what: string): void {
  if (p.positionals.length > max) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(p.positionals[max])} for \`lanes ${spec.name}\` (it takes ${what}); see \`lanes ${spec.name} --help\``,
    );
  }
}

/** `name` → `default/name`; `ns/name` as given. */
export function namespacedName(text: string, what: string, namespace = 'default'): string {
  const parts = text.split('/');
  if (parts.length === 1 && parts[0] !== '') return `${namespace}/${text}`;
  if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return text;
  throw new UsageError(`${what} must be NAME or NAMESPACE/NAME, got ${JSON.stringify(text)}`);
}
