// A class whose method is a delayed method (Dask's test_delayed_decorator_on_method): exported,
// so its instances travel to threads and processes.
import { delayed } from 'skein';

export class Adder {
  BASE = 100;

  @delayed
  addmethod(a: number, b: number): number {
    return this.BASE + a + b;
  }
}
