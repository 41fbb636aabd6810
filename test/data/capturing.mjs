// A module function that uses an import (it closes over `inc`): its pure keys must still be the
// same in every process and thread.
import { inc } from './ops.mjs';

export const twice = (x) => inc(inc(x));
