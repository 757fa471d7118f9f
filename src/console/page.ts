// The page: plain HTML, CSS and JS files next to this one, served as they are (no bundler).
// Read once when the server starts; edit them and restart the console.
import { readFileSync } from 'node:fs';

const STATIC = new URL('./static/', import.meta.url);

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/blocks.js': { file: 'blocks.js', type: 'text/javascript; charset=utf-8' },
  // Browsers ask for /favicon.ico whatever the page links; the SVG is its source.
  '/favicon.ico': { file: 'favicon.ico', type: 'image/x-icon' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

export interface Asset {
  type: string;
  body: Buffer;
}

export function pageAssets(): Map<string, Asset> {
  return new Map(Object.entries(FILES).map(([path, { file, type }]) => [path, { type, body: readFileSync(new URL(file, STATIC)) }]));
}
