import { behaviourSuite } from './behaviour.js';

behaviourSuite('sync');
