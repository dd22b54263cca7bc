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
