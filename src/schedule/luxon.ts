// One luxon for the whole program, loaded on first use. cron-parser requires luxon's
// CommonJS build; an ESM `import ... from 'luxon'` would load luxon's ES build beside it, a
// second copy costing ~8 ms of every start-up and keeping Settings of its own. And most
// runs of the CLI, with UTC jobs on a UTC machine, never need luxon at all.

import { createRequire } from 'node:module';
import type * as Luxon from 'luxon';

export type DateTime = Luxon.DateTime;
export type Zone = Luxon.Zone;

let loaded: typeof Luxon | undefined;

export function luxon(): typeof Luxon {
  if (!loaded) {
    loaded = createRequire(import.meta.url)('luxon') as typeof Luxon;
    // tock prints English (`Mon 2026-11-23 02:30:00 UTC`, like systemctl) whatever LANG says;
    // naming the locale also spares luxon's probe of the system's (~15 ms of ICU loading).
    loaded.Settings.defaultLocale = 'en-US';
  }
  return loaded;
}
