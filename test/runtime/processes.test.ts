import { behaviourSuite } from './behaviour.js';

behaviourSuite('processes');
