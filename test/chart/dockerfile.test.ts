// The Dockerfile can't be built on these machines; these checks hold it to what the chart and
// the code expect: the user the chart runs as, the files the image needs, and no runtime import
// of a package `npm ci --omit=dev` leaves out.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
const values = parse(readFileSync(join(ROOT, 'charts/vlinders-ops/values.yaml'), 'utf8')) as {
  podSecurityContext: { runAsUser: number; runAsGroup: number };
  ops: { port: number };
};

/** Instructions, with line continuations joined. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('is multi-stage on a Node 22 slim base', () => {
    const base = /^ARG NODE_IMAGE=(\S+)/m.exec(dockerfile)?.[1];
    expect(base).toMatch(/^node:22-(bookworm|trixie)-slim$/);
    expect(instructions.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('runs as the chart’s numeric non-root user, and starts serve from the compiled dist/', () => {
    const user = instructions.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBe(`USER ${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`);
    expect(values.podSecurityContext.runAsUser).toBeGreaterThan(0);
    expect(dockerfile).toMatch(new RegExp(`useradd [^\\n]*--uid ${values.podSecurityContext.runAsUser}\\b`));
    expect(instructions.at(-1)).toBe('CMD ["node", "dist/src/main.js", "serve"]');
    // dist/ is made in the image's build stage by the same script a developer runs.
    expect(dockerfile).toMatch(/^RUN npm run build( && rm -rf [^\n]+)?$/m);
    expect(pkg.scripts.build).toMatch(/tsc -p tsconfig\.build\.json/);
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).toMatch(new RegExp(`EXPOSE ${values.ops.port}\\b`));
  });

  it('installs the PostgreSQL client for the direct backup transport', () => {
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends [^\n]*postgresql-client/);
  });

  it('copies what the bot needs, and .dockerignore keeps none of it out', () => {
    for (const path of ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'tsconfig.build.json', 'commands', 'src']) {
      expect(dockerfile, path).toContain(path);
      expect(dockerignore, path).not.toContain(path);
    }
    for (const kept of ['.git', 'node_modules', 'dist', 'test', '.tools', 'vlinders-ops.yaml']) expect(dockerignore).toContain(kept);
  });
});

describe('the image’s node_modules', () => {
  /** Bare imports of every module src/main.ts can load (type-only imports are erased). */
  /** The development-only trees: the image's build stage deletes them from dist/. */
  const DEV_ONLY = ['src/sandbox/', 'src/console/'];
  const devOnly = (file: string) => DEV_ONLY.some((d) => file.slice(ROOT.length + 1).startsWith(d));

  /**
   * Bare imports of every module src/main.ts can load in the image. A dynamic import into a
   * development-only tree (the console, --sandbox) is where the image stops; a static one is
   * recorded in `staticIntoDev`, since the image could not even load the module holding it.
   */
  function runtimeImports(): Map<string, string> & { staticIntoDev?: string[] } {
    const found: Map<string, string> & { staticIntoDev?: string[] } = new Map<string, string>();
    found.staticIntoDev = [];
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      const specifiers = [
        ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)].map((m) => ({ spec: m[1] as string, dynamic: false })),
        ...[...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => ({ spec: m[1] as string, dynamic: true })),
      ];
      for (const { spec, dynamic } of specifiers) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
          if (devOnly(target) && !devOnly(file)) {
            if (!dynamic) found.staticIntoDev?.push(`${file.slice(ROOT.length + 1)} → ${spec}`);
            continue;
          }
          visit(target);
        } else if (!spec.startsWith('node:')) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
          if (!found.has(name)) found.set(name, file.slice(ROOT.length + 1));
        }
      }
    };
    visit(join(ROOT, 'src', 'main.ts'));
    return found;
  }

  it('leaves the sandbox and the console out of the image, and the bot reaches them only by dynamic import', () => {
    expect(dockerfile).toMatch(new RegExp(`^RUN npm run build && rm -rf ${DEV_ONLY.map((d) => `dist/${d.replace(/\/$/, '')}`).join(' ')}$`, 'm'));
    expect(runtimeImports().staticIntoDev).toEqual([]);
  });

  it('holds every package the running bot imports (no devDependency on the runtime path)', () => {
    const imports = runtimeImports();
    expect(imports.size).toBeGreaterThan(3);
    const missing = [...imports].filter(([name]) => !(name in pkg.dependencies)).map(([name, from]) => `${name} (imported by ${from})`);
    expect(missing).toEqual([]);
  });
});
