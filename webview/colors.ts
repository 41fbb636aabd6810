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

export function themeColors(): { fg: string; bg: string; line: string; accent: string; muted: string; breakpoint: string } {
  return {
    fg: cssVar('--vscode-editor-foreground', '#cccccc'),
    bg: cssVar('--vscode-editor-background', '#1e1e1e'),
    line: cssVar('--vscode-editorIndentGuide-background1', '#404040'),
    accent: cssVar('--vscode-focusBorder', '#007fd4'),
    muted: cssVar('--vscode-descriptionForeground', '#9d9d9d'),
    breakpoint: cssVar('--vscode-debugIcon-breakpointForeground', '#e51400'),
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

/** A colour as [r, g, b] (0-255), as the canvas reads it; undefined if it cannot. */
function rgbOf(ctx: CanvasRenderingContext2D, color: string): [number, number, number] | undefined {
  ctx.fillStyle = '#000';
  ctx.fillStyle = color;
  const normal = String(ctx.fillStyle);
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(normal);
  if (hex) return [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16), parseInt(hex[3]!, 16)];
  const rgb = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(normal);
  return rgb ? [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])] : undefined;
}

/** WCAG relative luminance. */
function luminance([r, g, b]: readonly [number, number, number]): number {
  const lin = (c: number): number => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio of two luminances. */
export function contrast(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/**
 * Black or white, whichever reads better on `fill` (the better of the two is at least 4.5:1 on
 * any colour), with the ratio; cached per colour.
 */
export function textOn(ctx: CanvasRenderingContext2D, fill: string, cache: Map<string, { color: string; ratio: number }>): { color: string; ratio: number } {
  let known = cache.get(fill);
  if (known === undefined) {
    const rgb = rgbOf(ctx, fill);
    const l = rgb === undefined ? 0.5 : luminance(rgb);
    const onBlack = contrast(l, 0);
    const onWhite = contrast(l, 1);
    known = onBlack >= onWhite ? { color: '#000000', ratio: onBlack } : { color: '#ffffff', ratio: onWhite };
    cache.set(fill, known);
  }
  return known;
}
