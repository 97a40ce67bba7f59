import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * The folder rules of src/README.md, checked: each folder imports only the
 * folders its row names; knex only in src/storage/ and the composition root;
 * the whole service bag (`Services`) only in the composition roots. The table
 * in src/README.md is the one source; this test reads it.
 */

const SRC = path.resolve(__dirname, '../../src');

interface FolderRule {
  folder: string;
  mayImport: Set<string>;
  /** A composition root of its own (the CLI): may import anything in src/. */
  anything: boolean;
}

function rulesFromReadme(): FolderRule[] {
  const text = readFileSync(path.join(SRC, 'README.md'), 'utf8');
  const rows = text.split('\n').filter((line) => /^\| `[a-z]+\/` \|/.test(line));
  return rows.map((row) => {
    const cells = row.split('|').map((cell) => cell.trim());
    const folder = /`([a-z]+)\/`/.exec(cells[1])?.[1] as string;
    const mayImport = new Set([...cells[3].matchAll(/`([a-z]+)\/`/g)].map((m) => m[1]));
    return { folder, mayImport, anything: /any folder/.test(cells[3]) };
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative module specifiers of static and dynamic imports and re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'([^']+)'/gm)].map((m) => m[1]);
}

/** The top-level folder of src/ a file or module lies in, or '' for src/ itself and outside. */
function folderOf(file: string): string {
  const relative = path.relative(SRC, file);
  if (relative.startsWith('..')) return '';
  const parts = relative.split(path.sep);
  return parts.length > 1 ? parts[0] : '';
}

const COMPOSITION_ROOTS = ['services.ts', 'app.ts', 'admin-wiring.ts', 'server.ts'].map((name) => path.join(SRC, name));
const files = sourceFiles(SRC);

describe('folder boundaries (src/README.md)', () => {
  const rules = rulesFromReadme();

  it('has a row for every folder of src/ and no row for a folder that is not there', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(rules.map((r) => r.folder).sort()).toEqual(folders);
  });

  it.each(rulesFromReadme().map((rule) => [rule.folder, rule] as const))('%s/ imports only the folders its row names', (_name, rule) => {
    const strays: string[] = [];
    for (const file of files.filter((f) => folderOf(f) === rule.folder)) {
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = path.resolve(path.dirname(file), spec);
        const folder = folderOf(target);
        const allowed = rule.anything || folder === rule.folder || rule.mayImport.has(folder) || !target.startsWith(SRC);
        if (!allowed) strays.push(`${path.relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(strays).toEqual([]);
  });

  it('imports knex only in storage/ and the composition root', () => {
    const strays = files.filter((f) => importsOf(f).includes('knex') && folderOf(f) !== 'storage' && f !== path.join(SRC, 'services.ts'));
    expect(strays.map((f) => path.relative(SRC, f))).toEqual([]);
  });

  it('hands the whole service bag (Services) only to the composition roots and the CLI', () => {
    const bag = path.join(SRC, 'services');
    const strays = files.filter((f) => !COMPOSITION_ROOTS.includes(f) && folderOf(f) !== 'cli' && importsOf(f).some((s) => s.startsWith('.') && path.resolve(path.dirname(f), s) === bag));
    expect(strays.map((f) => path.relative(SRC, f))).toEqual([]);
  });
});
