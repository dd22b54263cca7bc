// Terminal colours, on only when useColor() says so (a TTY, no NO_COLOR, no --no-color).
// chalk is loaded only then: output to a pipe or a file, what scripts and benchmarks see,
// never pays for its import.

type Paint = (text: string) => string;
interface Palette {
  bold: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
}

const plain: Paint = (text) => text;
const none: Palette = { bold: plain, red: plain, green: plain, yellow: plain, cyan: plain };
let palette: Palette = none;

export async function setColor(on: boolean): Promise<void> {
  if (!on) {
    palette = none;
    return;
  }
  const { Chalk, default: detected } = await import('chalk');
  palette = new Chalk({ level: detected.level || 1 });
}

export const color: Palette = {
  bold: (t) => palette.bold(t),
  red: (t) => palette.red(t),
  green: (t) => palette.green(t),
  yellow: (t) => palette.yellow(t),
  cyan: (t) => palette.cyan(t),
};
