/**
 * The graph panel's page (webview/page.html, copied to dist/webview/page.html by the build),
 * filled in: the VS Code webview and the exported HTML file differ only in their CSP, what they
 * load in <head>, and the scripts at the end of <body>.
 */
import { readFileSync } from 'node:fs';

export interface PageParts {
  readonly csp: string;
  readonly title: string;
  readonly head: string;
  readonly scripts: string;
}

/** The page template from a folder holding the panel's built files (dist/webview). */
export function readPageTemplate(dir: URL | string): string {
  return readFileSync(typeof dir === 'string' ? `${dir}/page.html` : new URL('page.html', dir), 'utf8');
}

/** `template` with its slots filled (the title escaped for HTML). */
export function panelPage(template: string, parts: PageParts): string {
  const slots: Record<string, string> = { ...parts, title: parts.title.replace(/&/g, '&amp;').replace(/</g, '&lt;') };
  return template.replace(/\{\{(csp|title|head|scripts)\}\}/g, (_, name: string) => slots[name]!);
}
