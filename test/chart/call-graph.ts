// Who calls a function, read with TypeScript's parser (syntax only: no type checker, which
// would cost seconds). Enough to follow a namespace from the function that takes it as a
// parameter up to the call site that decides it; anything this reader can't follow is
// reported, never skipped.
import { dirname, join } from 'node:path';
import ts from 'typescript';
import type { Source } from './code-calls.js';

export interface Site {
  path: string;
  line: number;
  /** The nearest named function, method or function-valued property around the call. */
  within: string;
  /** That function's text, for the evidence of how it passes the namespace. */
  withinText: string;
}

const parsed = new Map<string, ts.SourceFile>();
function parse({ path, text }: Source): ts.SourceFile {
  let file = parsed.get(path);
  if (file?.text !== text) {
    file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    parsed.set(path, file);
  }
  return file;
}

function nameOf(node: ts.Node): string | undefined {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) return node.name.getText();
  if ((ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && (ts.isVariableDeclaration(node.parent) || ts.isPropertyAssignment(node.parent))) return node.parent.name.getText();
  return undefined;
}

function siteOf(file: ts.SourceFile, node: ts.Node): Site {
  let around: ts.Node | undefined = node;
  while (around && !nameOf(around)) around = around.parent;
  return {
    path: file.fileName,
    line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1,
    within: around ? (nameOf(around) as string) : '(module)',
    withinText: around ? around.getText() : file.text,
  };
}

/** The site of the code at `index` in a source (a KubeCall literal found by code-calls.ts). */
export function siteAt(source: Source, index: number): Site {
  const file = parse(source);
  const find = (node: ts.Node): ts.Node => node.getChildren().find((c) => c.getStart() <= index && index < c.getEnd()) ?? node;
  let node: ts.Node = file;
  for (let next = find(node); next !== node; next = find(node)) node = next;
  return siteOf(file, node);
}

/** `../kube/jobs.js` imported from src/models/x.ts → src/kube/jobs.ts. */
function importedPath(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return join(dirname(from), specifier).split('\\').join('/').replace(/\.js$/, '.ts');
}

const REGEXP_RECEIVER = (e: ts.Expression) =>
  ts.isRegularExpressionLiteral(e) || /^[A-Z][A-Z0-9_]*$/.test(e.getText().split('.').pop() ?? '') || (ts.isPropertyAccessExpression(e) && e.name.text === 'pattern');

/**
 * Every call of `fn`, as a function declared in `path`, or (method) as a KubeClient method
 * called on something named kube (`kube.exec(`, `ctx.services.kube().exec(`).
 */
export function callersOf(sources: readonly Source[], target: { path: string; fn: string; method?: boolean }): { sites: Site[]; unreadable: string[] } {
  const sites: Site[] = [];
  const unreadable: string[] = [];
  for (const source of sources) {
    const file = parse(source);
    const at = (n: ts.Node) => `${source.path}:${file.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    if (target.method) {
      const visit = (node: ts.Node) => {
        if (ts.isPropertyAccessExpression(node) && node.name.text === target.fn) {
          const receiver = node.expression.getText();
          const called = ts.isCallExpression(node.parent) && node.parent.expression === node;
          if (/(^|\.)kube(\(\))?$/.test(receiver) && called) sites.push(siteOf(file, node.parent));
          else if (!(source.path === target.path && receiver === 'this.execApi') && !REGEXP_RECEIVER(node.expression)) {
            unreadable.push(`${at(node)}: ${receiver}.${target.fn} is neither a KubeClient (named kube) nor a RegExp: teach test/chart/call-graph.ts`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
      continue;
    }
    // The names `fn` goes by in this file: its own, or what it was imported as.
    const local = new Set<string>();
    if (source.path === target.path) local.add(target.fn);
    for (const statement of file.statements) {
      if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
        if (importedPath(source.path, statement.moduleSpecifier.text) !== target.path) continue;
        if (ts.isExportDeclaration(statement)) {
          unreadable.push(`${at(statement)}: re-exports from ${target.path}: import from it directly`);
          continue;
        }
        const bindings = statement.importClause?.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) unreadable.push(`${at(statement)}: import * from ${target.path}: import ${target.fn} by name`);
        if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) if ((el.propertyName ?? el.name).text === target.fn) local.add(el.name.text);
      }
    }
    if (local.size === 0) continue;
    const visit = (node: ts.Node) => {
      if (ts.isIdentifier(node) && local.has(node.text)) {
        const parent = node.parent;
        const declaration = (ts.isFunctionDeclaration(parent) || ts.isImportSpecifier(parent)) && parent.name === node;
        const property = (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node) || ts.isImportSpecifier(parent);
        if (ts.isCallExpression(parent) && parent.expression === node) sites.push(siteOf(file, parent));
        else if (!declaration && !property) unreadable.push(`${at(node)}: ${node.text} used other than by a call: this reader can't follow where its namespace comes from`);
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return { sites, unreadable };
}
