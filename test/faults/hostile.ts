// Hostile targets, all run by one real daemon at once: a shell job printing gigabytes, one
// whose children ignore SIGTERM, one whose child escapes into its own session, and HTTP
// endpoints that never answer, answer byte by byte, stall in the body, redirect in a loop,
// return a huge body, or reset the connection. The daemon's memory must stay bounded,
// output must be truncated and marked, every process of a timed-out target must die, and
// every occurrence must end with a clear outcome while the daemon keeps running.


import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import {
  Sandbox,
  iso,
  pidAlive,
  records,
  row,
  rssBytes,
  sleep,
  taggedPids,
  waitFor,
  type Ctx,
  type HistoryOcc,
  type Row,
} from './lib.js';

const S = 'hostile';
const MiB = 1024 * 1024;

interface Servers {
  base: string;
  silent: string;
  dribble: string;
  requests: Map<string, number>;
  close(): Promise<void>;
}

export async function hostile(ctx: Ctx): Promise<Row[]> {
  const sb = new Sandbox(S);
  const servers = await startServers(ctx.short ? 512 * MiB : 2048 * MiB);
  let ok = false;
  try {
    const flood = ctx.short ? 1024 * MiB : 4096 * MiB;
    const pids = sb.path('pids');
    const escaped = sb.path('escaped');
    const jobs: [string, Record<string, unknown>][] = [
      ['flood', { shell: `(yes 'tock stdout flood' | head -c ${flood / 2}) & (yes 'tock stderr flood' | head -c ${flood / 2} >&2) & wait`, timeout: '10m' }],
      [
        'forker',
        {
          shell:
            `for i in 1 2 3 4; do sh -c 'trap "" TERM; echo $$ >> ${pids}; while :; do sleep 1; done' & done; ` +
            `(sh -c 'trap "" TERM; echo $$ >> ${pids}; exec sleep 1000' &); trap "" TERM; echo $$ >> ${pids}; sleep 1000`,
          timeout: '2s',
        },
      ],
      ['escapee', { shell: `setsid sh -c 'trap "" TERM; echo $$ >> ${escaped}; exec sleep 1000' & sleep 1000`, timeout: '2s' }],
      ['http-silent', { http: servers.silent, timeout: '2s' }],
      ['http-dribble-head', { http: servers.dribble, timeout: '3s' }],
      ['http-dribble-body', { http: `${servers.base}/dribble-body`, timeout: '3s' }],
      ['http-redirect-loop', { http: `${servers.base}/loop`, timeout: '30s' }],
      ['http-huge', { http: `${servers.base}/huge`, timeout: '10m' }],
      ['http-reset', { http: `${servers.base}/reset`, timeout: '30s' }],
    ];
    // One `tock apply` (JSON is YAML), not one `tock add` each: on a loaded machine nine CLI
    // processes took longer than the lead time, and a job created after its `at` instant
    // never fires.
    const at = iso(Math.ceil((Date.now() + 6_000) / 1000) * 1000);
    const file = sb.path('jobs.json');
    fs.writeFileSync(file, JSON.stringify({ jobs: jobs.map(([name, fields]) => ({ name, at, retries: 0, ...fields })) }));
    await sb.ok(['apply', file]);
    const d = sb.daemon(['--concurrency', '16']);
    await d.ready();
    await sleep(1_500);
    const baseline = rssBytes(d.pid) ?? 0;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(d.pid) ?? 0)), 100);
    let history: HistoryOcc[] = [];
    const settled = await waitFor(async () => {
      history = await sb.history();
      return history.length === jobs.length && history.every((o) => !['pending', 'running'].includes(o.state));
    }, ctx.short ? 120_000 : 300_000, 1_000);
    clearInterval(sampler);
    await sleep(500);
    const leftovers = taggedPids(sb.tag).filter((p) => p !== d.pid);
    const alive = d.alive;
    const stopCode = await d.stop();
    const by = (name: string) => history.find((o) => o.job === name);
    const first = (name: string) => by(name)?.attempts[0];
    const rows: Row[] = [];
    const growth = peak - baseline;

    {
      const a = first('flood');
      const logs = by('flood') ? await sb.tock(['logs', String(by('flood')!.id), '--json']) : undefined;
      const out = logs?.status === 0 ? (JSON.parse(logs.stdout).attempts[0]?.output as string) : '';
      const marked = /^\[tock: \d+ earlier bytes not kept\]/.test(out);
      const good = a?.outcome === 'succeeded' && a.output_bytes === flood && a.output_truncated && marked && out.length <= 66 * 1024 && growth < 100 * MiB;
      rows.push(
        row(S, 'output flood', `shell job writing ${flood / MiB} MiB to stdout+stderr`,
          `${a?.outcome ?? 'no attempt'}; ${a?.output_bytes ?? 0} bytes counted, ${out.length} kept, ` +
            `${marked ? 'marked "[tock: N earlier bytes not kept]"' : 'NOT marked'}; daemon RSS ${mb(baseline)} -> peak ${mb(peak)} MiB`,
          good),
      );
    }
    {
      const a = first('forker');
      const list = records(pids).map((l) => Number(l[0]));
      const survivors = list.filter(pidAlive);
      const good = a?.outcome === 'timeout' && list.length >= 6 && survivors.length === 0;
      rows.push(
        row(S, 'children ignoring SIGTERM', 'shell job with 5 children/grandchildren trapping TERM, timeout 2s',
          `${a?.outcome ?? 'no attempt'} (${a?.error ?? '-'}) after ${dur(a)}; ${list.length} processes, ${survivors.length} still alive`,
          good),
      );
    }
    {
      const a = first('escapee');
      const list = records(escaped).map((l) => Number(l[0]));
      const survivors = list.filter(pidAlive);
      rows.push(
        row(S, 'child escaping by setsid', 'shell job whose child leaves the process group (setsid) and traps TERM, timeout 2s',
          `${a?.outcome ?? 'no attempt'} after ${dur(a)}; ${list.length} escaped process, ${survivors.length} still alive after the attempt`,
          a?.outcome === 'timeout' && list.length === 1 && survivors.length === 0),
      );
    }
    const httpRow = (name: string, kase: string, tried: string, want: (a: HistoryOcc['attempts'][number] | undefined) => boolean) => {
      const a = first(name);
      rows.push(row(S, kase, tried, `${a?.outcome ?? 'no attempt'}${a?.http_status ? ` HTTP ${a.http_status}` : ''} after ${dur(a)}: ${a?.error ?? '-'}`, want(a)));
    };
    const within = (a: HistoryOcc['attempts'][number] | undefined, ms: number) => a?.finished_at !== null && a !== undefined && Date.parse(a.finished_at!) - Date.parse(a.started_at) < ms;
    httpRow('http-silent', 'HTTP never answers', 'server accepts and never answers, timeout 2s', (a) => a?.outcome === 'timeout' && within(a, 4_000));
    httpRow('http-dribble-head', 'HTTP answers byte by byte', 'status line and headers one byte per 200 ms, timeout 3s', (a) => a?.outcome === 'timeout' && within(a, 5_000));
    httpRow('http-dribble-body', 'HTTP body never ends', 'headers at once, then one body byte per 100 ms forever, timeout 3s', (a) => a?.outcome === 'timeout' && within(a, 5_000));
    {
      const a = first('http-redirect-loop');
      const n = servers.requests.get('/loop') ?? 0;
      rows.push(
        row(S, 'HTTP redirect loop', '302 to itself forever', `${a?.outcome ?? 'no attempt'} after ${n} requests: ${a?.error ?? '-'}; attempts ${by('http-redirect-loop')?.attempts.length ?? 0}`,
          a?.outcome === 'failed' && n <= 21 && /redirect/i.test(a?.error ?? '')),
      );
    }
    {
      const a = first('http-huge');
      const size = servers.requests.has('/huge') ? (ctx.short ? 512 : 2048) * MiB : 0;
      rows.push(
        row(S, 'HTTP huge body', `200 with a ${size / MiB} MiB body`,
          `${a?.outcome ?? 'no attempt'}; ${a?.output_bytes ?? 0} bytes counted, truncated: ${a?.output_truncated}; daemon RSS peak ${mb(peak)} MiB`,
          a?.outcome === 'succeeded' && a.output_bytes === size && a.output_truncated && growth < 100 * MiB),
      );
    }
    httpRow('http-reset', 'HTTP connection reset', 'connection destroyed in the middle of the body', (a) => a?.outcome === 'failed' && Boolean(a.error));
    rows.push(
      row(S, 'daemon', `${jobs.length} hostile targets at once`,
        `${settled ? 'every occurrence ended' : 'occurrences still running after the deadline'}; daemon ${alive ? 'alive' : 'DIED'}; ` +
          `RSS growth ${mb(growth)} MiB; leftover processes ${leftovers.length}; SIGTERM exit ${stopCode}`,
        Boolean(settled) && alive && growth < 100 * MiB && leftovers.length === 0 && stopCode === 0),
    );
    ok = rows.every((r) => r.verdict === 'PASS');
    return rows;
  } finally {
    await servers.close();
    sb.cleanup(ctx.keep || !ok);
  }
}

const mb = (n: number) => (n / MiB).toFixed(0);
const dur = (a: HistoryOcc['attempts'][number] | undefined) =>
  a?.finished_at ? `${((Date.parse(a.finished_at) - Date.parse(a.started_at)) / 1000).toFixed(1)}s` : '-';

async function startServers(hugeBytes: number): Promise<Servers> {
  const requests = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const srv = http.createServer((req, res) => {
    const path = req.url ?? '/';
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (path === '/loop') {
      res.writeHead(302, { Location: '/loop' });
      res.end();
    } else if (path === '/dribble-body') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const t = setInterval(() => res.write('x'), 100);
      timers.add(t);
      res.on('close', () => clearInterval(t));
    } else if (path === '/huge') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(hugeBytes) });
      const chunk = Buffer.alloc(MiB, 'z');
      let sent = 0;
      const pump = () => {
        while (sent < hugeBytes) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else if (path === '/reset') {
      res.writeHead(200, { 'Content-Length': '100000' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 200);
    } else {
      res.end('ok');
    }
  });
  srv.on('connection', (s) => sockets.add(s));
  const silent = net.createServer((s) => {
    sockets.add(s);
    s.on('data', () => {}); // read the request, answer nothing, ever
  });
  const dribble = net.createServer((s) => {
    sockets.add(s);
    const text = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: ' + 'y'.repeat(10_000);
    let i = 0;
    const t = setInterval(() => (i < text.length && !s.destroyed ? s.write(text[i++]!) : clearInterval(t)), 200);
    timers.add(t);
    s.on('error', () => {});
    s.on('close', () => clearInterval(t));
  });
  const listen = (server: net.Server) => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)));
  const [p1, p2, p3] = [await listen(srv), await listen(silent), await listen(dribble)];
  return {
    base: `http://127.0.0.1:${p1}`,
    silent: `http://127.0.0.1:${p2}/`,
    dribble: `http://127.0.0.1:${p3}/`,
    requests,
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await Promise.all([srv, silent, dribble].map((s) => new Promise((r) => s.close(r))));
    },
  };
}



