// Task functions for the scripts beside this file.
export const inc = (x) => x + 1;
export const hang = () => new Promise(() => {});
export function spin(ms) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 1000; i++) x = (x * 31 + i) % 1000003;
  return x;
}
