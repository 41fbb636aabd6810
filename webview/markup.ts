/**
 * The panel's page body, shared by the VS Code webview and the exported HTML file. A plain
 * string: the extension builds its HTML from it without touching the DOM.
 */
export const PANEL_BODY = `
<header>
  <h1 id="title">Skein</h1>
  <span id="summary"></span>
  <span class="tabs">
    <button id="tab-graph" title="Graph structure and task states"><span class="codicon codicon-type-hierarchy"></span> Graph</button>
    <button id="tab-workers" title="A lane per worker: when each task ran"><span class="codicon codicon-server-process"></span> Workers</button>
    <button id="tab-overhead" title="Compute against overhead, per key group"><span class="codicon codicon-dashboard"></span> Overhead</button>
  </span>
  <label>Colour by <select id="color-by"><option value="state">state</option><option value="group">key group</option><option value="order">execution order</option></select></label>
  <input id="search" type="search" placeholder="Find a key or group (Enter)" aria-label="Find a key" />
  <button id="fit" title="Fit the graph"><span class="codicon codicon-screen-full"></span></button>
  <span id="collapse-note"></span>
</header>
<div id="legend"></div>
<main>
  <section class="view" id="view-graph"><canvas id="graph-canvas" aria-label="Task graph"></canvas><div id="details" hidden></div></section>
  <section class="view" id="view-workers" hidden><canvas id="stream-canvas" aria-label="Task stream"></canvas></section>
  <section class="view" id="view-overhead" hidden></section>
</main>
<div id="tooltip" hidden></div>`;

/**
 * The whole panel page around PANEL_BODY: the VS Code webview and the exported file differ only
 * in their CSP, what they load in <head>, and the scripts at the end of <body>.
 */
export function panelPage(parts: { csp: string; title: string; head: string; scripts: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${parts.csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${parts.title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</title>
${parts.head}
</head>
<body>${PANEL_BODY}
${parts.scripts}
</body>
</html>
`;
}
