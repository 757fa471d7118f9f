// A clone holds everything the project reads: no tracked file names a path outside the
// repository. Relative paths are resolved from the file that holds them (as import.meta.url and
// Markdown links are); absolute paths into the workplace are refused outright.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TEXT = /\.(ts|js|mjs|cjs|json|ya?ml|md|tpl|txt|sh|toml)$|(^|\/)(Dockerfile|run|\.[\w-]+ignore|\.npmrc)$/;

function trackedTextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\0').filter((f) => f && TEXT.test(f) && !f.startsWith('test/fixtures/captured/') && f !== 'package-lock.json');
}

/** Paths in a file's text that leave the repository, with their line numbers. */
export function outsideReferences(file: string, text: string, root = ROOT): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    for (const m of line.matchAll(/(?:^|[\s'"`(=[,])((?:\.\.\/)+[\w.@-][\w./@-]*)/g)) {
      const target = resolve(root, dirname(file), m[1]!);
      const rel = relative(root, target);
      if (rel === '..' || rel.startsWith(`..${sep}`)) found.push(`${file}:${i + 1}: ${m[1]}`);
    }
    for (const m of line.matchAll(/(?:^|[\s'"`(=])(\/work\/[\w./-]*)/g)) found.push(`${file}:${i + 1}: ${m[1]}`);
  }
  return found;
}

describe('the repository stands on its own', () => {
  it('finds a reach outside in the forms it looks for (so the scan itself can fail)', () => {
    // Built from parts, so this file's own text names no outside path.
    const up = (n: number) => '../'.repeat(n);
    const sibling = ['elsewhere', 'data'].join('/');
    const absolute = ['', 'work', 'elsewhere', 'data'].join('/');
    expect(outsideReferences('src/sandbox/kube/world/fixtures.ts', `new URL('${up(5)}${sibling}/', import.meta.url)`)).toHaveLength(1);
    expect(outsideReferences('README.md', `See [notes](${up(1)}${sibling}/NOTES.md).`)).toHaveLength(1);
    expect(outsideReferences('test/x.ts', `// captures in ${absolute}/slack`)).toHaveLength(1);
    expect(outsideReferences('test/fixtures/captured.ts', "new URL('./captured/', import.meta.url)")).toEqual([]);
    expect(outsideReferences('test/e2e/x.ts', "import { y } from '../fixtures/captured.js'")).toEqual([]);
  });

  it('no tracked file names a path outside the repository', () => {
    const files = trackedTextFiles();
    expect(files.length).toBeGreaterThan(100);
    const reaches = files.flatMap((f) => outsideReferences(f, readFileSync(resolve(ROOT, f), 'utf8')));
    expect(reaches).toEqual([]);
  });
});
