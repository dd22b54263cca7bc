// ${NAME} substitution from the daemon's environment in the text tock itself sends: `env:`
// values, URLs, headers and bodies. Done only at execution time, so that secrets reach the
// target but never the store. `$${NAME}` escapes to a literal `${NAME}`; every other `$`
// is left as it is. A shell command is never expanded here: /bin/sh does that itself, from
// the environment, so a value is never parsed as code nor shown in `ps`.

export class UnsetVariableError extends Error {
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set`);
    this.name = 'UnsetVariableError';
  }
}

const REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function expand(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(REFERENCE, (_match, escape: string, name: string) => {
    if (escape) return `\${${name}}`;
    const value = env[name];
    if (value === undefined) throw new UnsetVariableError(name);
    return value;
  });
}

/** The names `text` takes a value from (escaped ones excluded), in order of first use. */
export function references(text: string): string[] {
  const names = new Set<string>();
  for (const [, escape, name] of text.matchAll(REFERENCE)) if (!escape) names.add(name);
  return [...names];
}

/** Values shorter than this are no secret, and putting names in their place would garble a line (a port `80`). */
const CONCEALED_LENGTH = 4;

/**
 * `line` with the value of every variable `template` references written back as its
 * `${NAME}`: an error line quotes what a library saw (a host name), which may be expanded.
 */
export function conceal(line: string, template: string, env: NodeJS.ProcessEnv): string {
  const values = references(template)
    .map((name) => [name, env[name] ?? ''] as const)
    .filter(([, value]) => value.length >= CONCEALED_LENGTH)
    .sort((a, b) => b[1].length - a[1].length);
  return values.reduce((text, [name, value]) => text.split(value).join(`\${${name}}`), line);
}

/** Expands `text`, or returns the one-line error naming what referenced the unset variable. */
export function tryExpand(
  text: string,
  env: NodeJS.ProcessEnv,
  where: string,
): { value: string } | { error: string } {
  try {
    return { value: expand(text, env) };
  } catch (err) {
    if (err instanceof UnsetVariableError) return { error: `${err.message} (referenced by ${where})` };
    throw err;
  }
}
