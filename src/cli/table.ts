// Borderless, aligned tables in the manner of `systemctl list-timers`: a header row, then
// one line per row, columns left-aligned and two spaces apart. Widths are display widths
// (colour codes count zero, East Asian wide characters and emoji count two). Linear in the
// number of cells: `tock list` prints 100,000 jobs in well under a second.

const SGR = /\u001b\[(?:\d*;){0,5}\d*m/g;
const ANSI = /[\u001b\u009b][[\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~]))/g;
const EMOJI = /\p{Extended_Pictographic}\ufe0f?/gu;
const PLAIN = /^[\x20-\x7e]*$/;

interface Line {
  text: string;
  width: number;
}

export function table(head: string[], rows: string[][]): string {
  const grid = [head, ...rows].map((row) => row.map(cellLines));
  const widths: number[] = [];
  for (const row of grid) {
    row.forEach((lines, c) => {
      for (const l of lines) widths[c] = Math.max(widths[c] ?? 0, l.width);
    });
  }
  const out: string[] = [];
  for (const row of grid) {
    let height = 1;
    for (const lines of row) height = Math.max(height, lines.length);
    for (let l = 0; l < height; l++) {
      let line = '';
      for (let c = 0; c < widths.length; c++) {
        const cell = row[c]?.[l];
        const text = cell?.text ?? '';
        line += (c ? '  ' : '') + text + ' '.repeat(Math.max(0, widths[c] - (cell?.width ?? 0)));
      }
      out.push(line.trimEnd());
    }
  }
  return out.join('\n');
}

function cellLines(cell: string): Line[] {
  return String(cell ?? '')
    .split('\n')
    .map((text) => ({ text, width: displayWidth(text) }));
}

/** Columns a string takes on a terminal. */
export function displayWidth(text: string): number {
  const visible = text.replace(SGR, '');
  if (PLAIN.test(visible)) return visible.length;
  let width = 0;
  for (const ch of visible.replace(ANSI, '').replace(EMOJI, '  ')) {
    const code = ch.codePointAt(0)!;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f) || (code >= 0x300 && code <= 0x36f)) continue;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

/** East Asian Wide and Fullwidth code points (the ranges string-width uses). */
function isWide(c: number): boolean {
  return (
    c >= 0x1100 &&
    (c <= 0x115f ||
      c === 0x2329 ||
      c === 0x232a ||
      (c >= 0x2e80 && c <= 0x3247 && c !== 0x303f) ||
      (c >= 0x3250 && c <= 0x4dbf) ||
      (c >= 0x4e00 && c <= 0xa4c6) ||
      (c >= 0xa960 && c <= 0xa97c) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe10 && c <= 0xfe19) ||
      (c >= 0xfe30 && c <= 0xfe6b) ||
      (c >= 0xff01 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1b000 && c <= 0x1b001) ||
      (c >= 0x1f200 && c <= 0x1f251) ||
      (c >= 0x20000 && c <= 0x3fffd))
  );
}

export function clip(text: string, width: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length <= width ? one : `${one.slice(0, width - 1)}…`;
}
