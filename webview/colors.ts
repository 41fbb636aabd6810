/**
 * Colours from the VS Code theme (CSS variables, with fallbacks for the exported HTML page).
 */
import type { State } from './model.js';

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v.length > 0 ? v : fallback;
}

export function stateColors(): Record<State, string> {
  return {
    waiting: cssVar('--vscode-disabledForeground', '#8b8b8b'),
    ready: cssVar('--vscode-charts-yellow', '#cca700'),
    running: cssVar('--vscode-charts-blue', '#3794ff'),
    memory: cssVar('--vscode-charts-green', '#89d185'),
    released: cssVar('--vscode-charts-purple', '#b180d7'),
    erred: cssVar('--vscode-charts-red', '#f14c4c'),
  };
}

export function themeColors(): { fg: string; bg: string; line: string; accent: string; muted: string } {
  return {
    fg: cssVar('--vscode-editor-foreground', '#cccccc'),
    bg: cssVar('--vscode-editor-background', '#1e1e1e'),
    line: cssVar('--vscode-editorIndentGuide-background1', '#404040'),
    accent: cssVar('--vscode-focusBorder', '#007fd4'),
    muted: cssVar('--vscode-descriptionForeground', '#9d9d9d'),
  };
}

/**
 * A canvas font of `px` pixels in the theme's font family. A canvas cannot read CSS variables
 * (`'12px var(--vscode-font-family)'` is ignored and it draws 10px sans-serif): the variable is
 * resolved first.
 */
export function canvasFont(px: number): string {
  return `${px}px ${cssVar('--vscode-font-family', 'system-ui, sans-serif')}`;
}

/** A stable colour per key group. */
export function groupColor(group: string): string {
  let h = 0;
  for (let i = 0; i < group.length; i++) h = (h * 31 + group.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360}, 55%, 55%)`;
}

/** Execution order as a colour: early blue to late red. */
export function orderColor(position: number, total: number): string {
  const f = total > 1 ? position / (total - 1) : 0;
  return `hsl(${Math.round(220 - 220 * f)}, 65%, 55%)`;
}
