import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The folder graph of src/, read from the import statements themselves (value and type imports
 * alike, static and dynamic), so that the architecture the README draws is checked, not hoped.
 */
const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The top folder of src/ a file is in; files directly in src/ (the entry point) are `(root)`. */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : '(root)';
}

interface Edge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = (match[1] ?? match[2])!;
      const target = normalize(join(dirname(file), specifier));
      edges.push({ from: folderOf(file), to: folderOf(target), file: relative(SRC, file), specifier });
    }
  }
  return edges;
}

/** Folder -> the folders it imports (itself excluded). */
function folderGraph(edges: readonly Edge[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!graph.has(from)) graph.set(from, new Set());
    if (from !== to) graph.get(from)!.add(to);
  }
  return graph;
}

/** Every cycle found by depth-first search, each as the list of folders around it. */
function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

describe('the folder graph of src/', () => {
  const edges = importEdges();

  it('reads the imports it checks (the parser is not blind)', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges.some((e) => e.from === 'mesh' && e.to === 'core')).toBe(true);
  });

  it('src/core imports nothing else of trellis', () => {
    const outward = edges.filter((e) => e.from === 'core' && e.to !== 'core');
    expect(outward.map((e) => `${e.file} imports ${e.specifier}`)).toEqual([]);
  });

  it('has no cycle between folders', () => {
    expect(cycles(folderGraph(edges)).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('has no cycle between the files of src/mesh (the builder does not import the mesh back)', () => {
    const meshEdges = edges.filter((e) => e.from === 'mesh' && e.to === 'mesh');
    const graph = new Map<string, Set<string>>();
    for (const { file, specifier } of meshEdges) {
      const target = relative(SRC, normalize(join(SRC, dirname(file), specifier))).replace(/\.js$/, '.ts');
      if (!graph.has(file)) graph.set(file, new Set());
      graph.get(file)!.add(target);
    }
    expect(cycles(graph).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('the cycle finder finds a cycle when there is one', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
