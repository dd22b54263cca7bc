// What a target's text must be for the kernel and for HTTP to take it at all. The edge
// (config) rejects what breaks these rules, and the executors check again after `${NAME}`
// expansion: a value that can never be sent would otherwise fail every retry the same way.

/**
 * Linux MAX_ARG_STRLEN (32 pages of 4 KiB): the most one argv string or one `NAME=value`
 * environment entry may take, its terminating NUL included; execve fails with E2BIG past it.
 */
export const MAX_ARG_BYTES = 131_072;

/** Why `text` cannot be one argument or environment entry of a process, or undefined. */
export function argProblem(text: string): string | undefined {
  if (text.includes('\0')) return 'contains a NUL byte, which no process argument or environment can hold';
  const bytes = Buffer.byteLength(text);
  if (bytes + 1 > MAX_ARG_BYTES) {
    return `is ${bytes} bytes, more than the ${MAX_ARG_BYTES - 1} the kernel takes in one argument or environment entry (Linux MAX_ARG_STRLEN)`;
  }
  return undefined;
}

/** RFC 9110 token. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const FIELD_VALUE_RULE = 'a header value holds visible characters, with spaces and tabs only between them (RFC 9110)';

const NOT_FIELD_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const EDGE_SPACE = /^[\t ]|[\t ]$/;

/** RFC 9110 field-value: VCHAR or obs-text, SP and HTAB only inside. Node refuses the rest with ERR_INVALID_CHAR. */
export function isFieldValue(value: string): boolean {
  return !NOT_FIELD_CHAR.test(value) && !EDGE_SPACE.test(value);
}

/** Why `value` is not a field-value, naming the first offending character, or undefined. */
export function headerValueProblem(value: string): string | undefined {
  const bad = value.search(NOT_FIELD_CHAR);
  if (bad >= 0) return `has the character ${describeChar(value.charCodeAt(bad))} at position ${bad + 1}; ${FIELD_VALUE_RULE}`;
  if (EDGE_SPACE.test(value)) return `starts or ends with a space or tab; ${FIELD_VALUE_RULE}`;
  return undefined;
}

function describeChar(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
