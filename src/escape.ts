// How text that tock did not write itself reaches a person: a job's output, its name,
// description and command, an HTTP reason phrase, input echoed back in an error. Control
// characters are shown as escapes (`\x1b`, `\r`) so that such text cannot drive the
// terminal of whoever reads it (an OSC 52 sequence writing their clipboard, a `\r` hiding
// what came before it on the line). The store and --json keep the exact text.

// C0, DEL and C1 (U+0080-U+009F, which some terminals obey like ESC sequences).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// The same but for \n and \t, which lay out captured output.
const CONTROL_IN_OUTPUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visible(ch: string): string {
  return NAMED[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** A one-line field (name, description, command, error, log line): every control character escaped, \n too. */
export function escapeLine(text: string): string {
  return text.replace(CONTROL, visible);
}

/** Captured output: as escapeLine, but its lines and tabs stay as they are. */
export function escapeOutput(text: string): string {
  return text.replace(CONTROL_IN_OUTPUT, visible);
}

/** Input echoed in an error is cut to this many characters: the line stays readable whatever was typed. */
export const ECHO_LIMIT = 60;

/** Input echoed in a message, escaped, and cut with its length said: `aaaa… (100000 characters)`. */
export function echo(text: string, limit = ECHO_LIMIT): string {
  return text.length <= limit ? escapeLine(text) : `${escapeLine(head(text, limit))}… (${text.length} characters)`;
}

/** As echo, in quotes: `"61 * * * *"`, `"aaaa…" (100000 characters)`. */
export function quote(text: string, limit = ECHO_LIMIT): string {
  return text.length <= limit ? `"${escapeLine(text)}"` : `"${escapeLine(head(text, limit))}…" (${text.length} characters)`;
}

/** The first `n` UTF-16 units, one fewer rather than half of a surrogate pair. */
function head(text: string, n: number): string {
  const last = text.charCodeAt(n - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? n - 1 : n);
}
