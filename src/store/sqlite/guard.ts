// Refusing a store file that someone other than tock's own user could have written or could
// swap (SPEC §8), before anything is created or opened. tock runs the jobs its store holds
// with its own rights, so a store another user can change is a shell handed to that user;
// the rules are those OpenSSH's StrictModes and cron apply to the files they trust.

import fs from 'node:fs';
import path from 'node:path';
import { refused } from './failure.js';

/** S_ISVTX: only an entry's owner may remove or rename it; not in fs.constants. */
const STICKY = 0o1000;

/**
 * Checks the store's directory, creates the store (0600 in a 0700 directory) on first use,
 * and checks the file and its WAL companions: a symlink, anything but a regular file, or
 * something owned by another user or writable by group or others is a store error (exit 2)
 * and nothing is created beside it.
 */
export function prepareStoreFile(file: string): void {
  const dir = path.dirname(file);
  if (!statOf(dir, fs.statSync)) createDirectory(dir);
  checkDirectory(dir);
  if (!statOf(file, fs.lstatSync)) createFile(file);
  checkFile(file, 'the store');
  // SQLite opens these by name too; a planted link or another's file there is as bad.
  for (const companion of [`${file}-wal`, `${file}-shm`]) {
    if (statOf(companion, fs.lstatSync)) checkFile(companion, "the store's companion file");
  }
}

/** The directory may be shared with root (/var/lib), never writable by another user, even sticky (/tmp). */
function checkDirectory(dir: string): void {
  const st = statOf(dir, fs.statSync)!;
  if (!st.isDirectory()) throw refused(`cannot create the store in ${dir}: it is not a directory`);
  const me = euid();
  if (st.uid !== me && st.uid !== 0) {
    throw refused(`the store's directory ${dir} belongs to uid ${st.uid}, not to uid ${me} that runs tock: keep the store in a directory of your own`);
  }
  if (st.mode & 0o022) {
    const fix = st.mode & STICKY ? '' : `run \`chmod go-w ${shellWord(dir)}\`, or `;
    throw refused(
      `the store's directory ${dir} is writable by ${writers(st.mode)} (mode ${octal(st.mode)}), who could swap in a store of their own: ${fix}keep the store in a directory only you can write to`,
    );
  }
}

function checkFile(file: string, what: string): void {
  const st = statOf(file, fs.lstatSync)!;
  if (st.isSymbolicLink()) {
    throw refused(`${what} ${file} is a symbolic link, which tock does not follow: if you trust its target, pass it instead (--db "$(realpath ${shellWord(file)})")`);
  }
  if (!st.isFile()) throw refused(`${what} ${file} is ${kindOf(st)}, not a regular file: point --db (or TOCK_DB) at a file`);
  const me = euid();
  if (st.uid !== me) {
    throw refused(
      `${what} ${file} belongs to uid ${st.uid}, not to uid ${me} that runs tock: run tock as its owner, or, if you trust the jobs in it, \`chown ${me} ${shellWord(file)}\``,
    );
  }
  if (st.mode & 0o022) {
    throw refused(`${what} ${file} is writable by ${writers(st.mode)} (mode ${octal(st.mode)}): run \`chmod go-w ${shellWord(file)}\``);
  }
}

function createDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw refused(`cannot create the store's directory ${dir}: ${(err as Error).message}`);
  }
}

function createFile(file: string): void {
  try {
    // 'wx' (O_EXCL) creates a new file or fails: it never follows a link planted meanwhile.
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') return; // another process created it first; checked next
    throw refused(`cannot create the store ${file}: ${e.message}`);
  }
}

/** The entry's status, undefined when there is none; any other failure is a store error. */
function statOf(p: string, stat: typeof fs.lstatSync): fs.Stats | undefined {
  try {
    return stat(p, { throwIfNoEntry: false });
  } catch (err) {
    throw refused(`cannot open the store at ${p} (${(err as Error).message}); check the path and its permissions`);
  }
}

function euid(): number {
  return process.geteuid!();
}

function writers(mode: number): string {
  if ((mode & 0o022) === 0o022) return 'group and others';
  return mode & 0o020 ? 'its group' : 'others';
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'of an unknown kind';
}

/** A path as one word a user can paste into a shell. */
function shellWord(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}
