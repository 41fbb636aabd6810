// A top-level await on a run whose task never settles: Node ends it with exit code 13.
import { get } from 'skein';
import { hang, inc } from './tasks.mjs';

await get({ a: [inc, 1], h: [hang, 'a'] }, 'h', { scheduler: 'sync' });
