// Terminal colours: the five SGR pairs tock uses, on only when useColor() says so (a TTY,
// no NO_COLOR, no --no-color). Replaces chalk, whose import cost ~10 ms of every command's
// start-up, for the same escape codes.

let enabled = false;

export function setColor(on: boolean): void {
  enabled = on;
}

function sgr(open: number, close: number): (text: string) => string {
  return (text) => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text);
}

export const color = {
  bold: sgr(1, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
};
