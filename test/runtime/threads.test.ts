import { behaviourSuite } from './behaviour.js';

behaviourSuite('threads');
