// A task function that says what it was called on: Skein calls task functions as plain
// functions (`this` undefined), never as methods of the task array.
export function receiver(this: unknown, x: number): string {
  return this === undefined ? `undefined ${x}` : Array.isArray(this) ? 'the task array' : typeof this;
}

export default {
  x: 1,
  r: [receiver, 'x'],
};
