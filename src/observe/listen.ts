// `--listen ADDR:PORT`, checked before anything starts. Nothing is exposed beyond this
// machine by accident: `localhost`, `127.0.0.1` and `[::1]` are loopback; any other address
// must be an IP literal written out in full (`0.0.0.0:9464`, `[::]:9464`, `10.0.0.5:9464`),
// never implied (`:9464`, `*:9464`) or looked up (a host name other than localhost).

import net from 'node:net';
import { usageError } from '../errors.js';
import { quote } from '../escape.js';

export interface ListenAddress {
  /** The IP literal to bind. */
  host: string;
  /** 0: a free port, chosen by the system and logged. */
  port: number;
  loopback: boolean;
  /** As it is shown: `127.0.0.1:9464`, `[::1]:9464`. */
  text: string;
}

const FORM = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/;

export function parseListen(value: string): ListenAddress {
  const bad = (why: string) => usageError(`--listen ${quote(value)}: ${why}`);
  const m = FORM.exec(value);
  if (!m) throw bad('expected ADDR:PORT, e.g. 127.0.0.1:9464, localhost:9464 or [::1]:9464');
  const written = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65_535) throw bad('the port must be from 0 to 65535');
  if (written === '' || written === '*') {
    throw bad('give the address to bind: 127.0.0.1 for this machine only, or 0.0.0.0 (every interface) written out');
  }
  const host = written.toLowerCase() === 'localhost' ? '127.0.0.1' : written;
  const family = net.isIP(host);
  if (family === 0 || (m[1] !== undefined && family !== 6) || (m[2] !== undefined && family === 6)) {
    throw bad('the address must be localhost or an IP address (an IPv6 one in brackets: [::1]:9464)');
  }
  const loopback = family === 4 ? host.startsWith('127.') : host === '::1';
  return { host, port, loopback, text: family === 6 ? `[${host}]:${port}` : `${host}:${port}` };
}
