// A module that takes 400 ms to import (top-level work), with a quick task function.
const end = performance.now() + 400;
while (performance.now() < end) {
  // the kind of start-up some libraries do: the first task on each worker waits for it
}
export const quick = (x) => x + 1;
