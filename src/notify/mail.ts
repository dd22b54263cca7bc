// The mail an email channel sends: headers sendmail -t reads the recipient from, a subject
// that says what happened, and a plain-text body. Nothing from the event can add a header:
// CR, LF and other control characters are removed from every header value, and text that
// is not ASCII is encoded (RFC 2047) rather than sent raw.

import { VERSION } from '../types.js';
import { iso, outputTail, type NotificationEvent } from './event.js';

const SUBJECT_REASON_CHARS = 120;

export function formatMail(e: NotificationEvent, to: string): string {
  const headers: [string, string][] = [
    ['To', to],
    ['Subject', subject(e)],
    ['Auto-Submitted', 'auto-generated'],
    ['MIME-Version', '1.0'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Transfer-Encoding', '8bit'],
    ['X-Mailer', `tock/${VERSION}`],
    ['X-Tock-Job', e.job],
    ['X-Tock-Event', e.event],
    ['X-Tock-Notification-Key', e.key],
  ];
  const head = headers.map(([name, value]) => `${name}: ${headerValue(value)}`).join('\n');
  return `${head}\n\n${body(e)}`;
}

/** `tock: backup failed (exit status 3)`. */
export function subject(e: NotificationEvent): string {
  const reason = e.reason ? ` (${cut(e.reason, SUBJECT_REASON_CHARS)})` : '';
  return `tock: ${e.job} ${e.event}${reason}`;
}

function body(e: NotificationEvent): string {
  const rows: [string, string | number | undefined][] = [
    ['Job', e.job],
    ['Event', e.event],
    ['Occurrence', `${e.occurrenceId} (${e.occurrenceKey})`],
    ['Scheduled at', iso(e.scheduledAt)],
    ['Event at', iso(e.at)],
    ['State', e.state],
    ['Reason', e.reason],
    ['Attempts', e.attempts],
    ['Exit status', e.exitCode],
    ['Signal', e.signal],
    ['HTTP status', e.httpStatus],
    ['Consecutive failures', e.failures],
  ];
  const lines = rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(22)}${v}`);
  if (e.output !== undefined && e.output !== '') lines.push('', 'Output (the end of it):', '', outputTail(e.output).replace(/\n$/, ''));
  return `${lines.join('\n')}\n`;
}

/** One line of printable text: control characters (CR and LF first) become spaces; non-ASCII is RFC 2047-encoded. */
export function headerValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const line = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return /^[\x20-\x7e]*$/.test(line) ? line : encodeWord(line);
}

/** `=?UTF-8?B?...?=` words of at most 45 bytes each, split on character boundaries. */
function encodeWord(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(' ');
}

function cut(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars)}...` : text;
}
