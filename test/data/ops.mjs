// Plain JavaScript task functions for scripts run without a TypeScript loader.
export const inc = (x) => x + 1;
export const sum = (...xs) => xs.reduce((a, b) => a + b, 0);
