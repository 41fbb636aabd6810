// Imported first by firstResult.mjs: ES modules run in import order, so this marks the moment
// the script starts, before Skein's modules load (the process's own start is not counted).
globalThis.scriptStart = performance.now();
