/**
 * DESIGN §4: numeric paths use only + − × ÷ and Math.sqrt, never Math.pow / ** / Math.exp /
 * Math.log (not bit-identical across JavaScript engines). A static check of every .ts file under
 * src/ and assembly/, recursively (Node only: it reads the source files).
 *
 * The files are parsed with the TypeScript parser and the check walks the syntax tree, so strings,
 * template text, comments and regular expressions never hide code and are never taken for code.
 *
 * src/ (JavaScript): `**`, `**=` and every Math member outside EXACT_MATH are flagged, as is Math
 * used other than as `Math.member` (aliased, destructured, computed key).
 *
 * assembly/ (AssemblyScript): its Math is compiled into the module (deterministic wasm), so
 * `**`, Math.exp etc. are fine there. Flagged: what takes results from the engine or the host:
 * Math.random (seeded by the host), JSMath (JavaScript's Math, imported), relaxed SIMD
 * (implementation-defined results) and host imports (`declare`, `@external`).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

type Mode = 'js' | 'assembly';
interface Hit {
  line: number;
  rule: string;
  text: string;
}

/** Math members whose values ECMAScript specifies exactly; the rest are approximated (or random). */
const EXACT_MATH = new Set([
  'sqrt', 'abs', 'max', 'min', 'floor', 'ceil', 'round', 'trunc', 'sign', 'fround', 'imul', 'clz32',
  'E', 'LN10', 'LN2', 'LOG10E', 'LOG2E', 'PI', 'SQRT1_2', 'SQRT2',
]);
/** AssemblyScript's Math objects (compiled in; only `random` depends on the host). */
const AS_MATH = new Set(['Math', 'Mathf', 'NativeMath', 'NativeMathf']);

const GLOBALS = /^(globalThis|self|window|global)$/;

/** Identifier used as a name (x.Math, { Math: 1 }, a declaration, a type), not as a value. */
function isNameOnly(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isShorthandPropertyAssignment(p)) return false;
  if ((p as { name?: ts.Node }).name === id || (p as { propertyName?: ts.Node }).propertyName === id) return true;
  return ts.isTypeReferenceNode(p) || ts.isQualifiedName(p) || ts.isTypeQueryNode(p);
}

/**
 * If `node` is one of `objects` used as a value (`Math`, `globalThis.Math`), the member read from
 * it, or '' when the object itself escapes (alias, destructuring, argument, computed key).
 */
function memberOf(node: ts.Node, objects: Set<string>): string | undefined {
  const is =
    (ts.isIdentifier(node) && objects.has(node.text) && !isNameOnly(node)) ||
    (ts.isPropertyAccessExpression(node) && objects.has(node.name.text) && GLOBALS.test(node.expression.getText()));
  if (!is) return undefined;
  const p = node.parent;
  if (ts.isPropertyAccessExpression(p) && p.expression === node) return p.name.text;
  if (ts.isElementAccessExpression(p) && p.expression === node && ts.isStringLiteralLike(p.argumentExpression)) {
    return p.argumentExpression.text;
  }
  return '';
}

function hasDeclare(node: ts.Node): boolean {
  return (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)) === true;
}

/** The forbidden constructs in one source text. */
export function violations(fileName: string, text: string, mode: Mode): Hit[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const hits: Hit[] = [];
  const lines = text.split('\n');
  const hit = (pos: number, rule: string) => {
    const line = sf.getLineAndCharacterOfPosition(pos).line;
    hits.push({ line: line + 1, rule, text: lines[line].trim() });
  };
  // a file that does not parse cleanly may be walked incompletely: that is a failure too
  const parse = (sf as unknown as { parseDiagnostics?: readonly ts.Diagnostic[] }).parseDiagnostics;
  if (!Array.isArray(parse)) throw new Error('typescript no longer exposes parseDiagnostics: update this check');
  for (const d of parse) hit(d.start ?? 0, `syntax error: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);

  const visit = (node: ts.Node): void => {
    const at = () => node.getStart(sf);
    if (mode === 'js') {
      if (ts.isBinaryExpression(node)) {
        const op = node.operatorToken.kind;
        if (op === ts.SyntaxKind.AsteriskAsteriskToken) hit(at(), '**');
        if (op === ts.SyntaxKind.AsteriskAsteriskEqualsToken) hit(at(), '**=');
      }
      const m = memberOf(node, new Set(['Math']));
      if (m === '') hit(at(), 'Math used indirectly');
      else if (m !== undefined && !EXACT_MATH.has(m)) hit(at(), `Math.${m}`);
    } else {
      if (memberOf(node, AS_MATH) === 'random') hit(at(), `${node.getText(sf)}.random`);
      if (ts.isIdentifier(node) && node.text === 'JSMath') hit(at(), 'JSMath');
      if (ts.isIdentifier(node) && /relaxed/i.test(node.text)) hit(at(), 'relaxed SIMD');
      if (hasDeclare(node)) hit(at(), 'host import (declare)');
      if (ts.isDecorator(node) && /^external\b/.test(node.expression.getText(sf))) hit(at(), 'host import (@external)');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return hits;
}

/** Every .ts file under dir, recursively, but generated ones; paths relative to dir, with '/'. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.generated.ts')) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

const show = (file: string, hits: Hit[]) => hits.map((h) => `${file}:${h.line}: ${h.rule}: ${h.text}`);

describe('the checker itself', () => {
  const js = (src: string) => violations('snippet.ts', src, 'js').map((h) => `${h.line}: ${h.rule}`);
  const as = (src: string) => violations('snippet.ts', src, 'assembly').map((h) => `${h.line}: ${h.rule}`);

  it('an apostrophe in a double-quoted string hides nothing after it', () => {
    expect(js(`const s = "this precision's range";\nconst y = Math.exp(x);\n`)).toEqual(['2: Math.exp']);
    expect(js(`f("it's", 'a "b"');\nconst z = 2 ** 100;\n`)).toEqual(['2: **']);
  });

  it('** in code is flagged; in strings, comments, template text and regexes it is not', () => {
    expect(js('const a = x ** 2;\nb **= 3;\nconst t = `${a ** b}`;\n')).toEqual(['1: **', '2: **=', '3: **']);
    const quiet = [
      `const s = "x ** 2", q = 'Math.exp(x)';`,
      '// y ** 2 and Math.pow(y, 2)',
      '/* z ** 2 */ /** w ** 2, Math.log(w) */',
      'const t = `a ** b, Math.exp(c) ${d * e}`;',
      String.raw`const r = /a\*\*b|Math\.exp\(/;`,
      'const m = Math.sqrt(x) + Math.max(a, b) * Math.PI + Math.fround(Math.abs(c));',
    ].join('\n');
    expect(js(quiet)).toEqual([]);
  });

  it('Math members by any route', () => {
    expect(js('Math.tanh(x); Math.random(); Math["pow"](2, 3); globalThis.Math.log(x);')).toEqual(['1: Math.tanh', '1: Math.random', '1: Math.pow', '1: Math.log']);
    expect(js('const { exp } = Math;\nconst M = Math;\nf(Math);\nMath[k](x);')).toEqual(['1: Math used indirectly', '2: Math used indirectly', '3: Math used indirectly', '4: Math used indirectly']);
    expect(js('const o = { Math: 1 }; o.Math; let m: Math; type T = typeof Math;')).toEqual([]);
  });

  it('AssemblyScript: compiled-in Math passes; random, JSMath, relaxed SIMD and host imports do not', () => {
    const ok = '@inline function f(x: f64): f64 { return Math.exp(x) + x ** 2 + <f64>Mathf.log(<f32>x); }\nconst v: v128 = f32x4.add(a, b);\n';
    expect(as(ok)).toEqual([]);
    expect(as('let r = Math.random();\nlet s = NativeMathf.random();\nlet j = JSMath.sin(x);\n')).toEqual(['1: Math.random', '2: NativeMathf.random', '3: JSMath']);
    expect(as('const v = f32x4.relaxed_madd(a, b, c);\ndeclare function hostExp(x: f64): f64;\n@external("env", "exp") declare function e2(x: f64): f64;\n')).toEqual([
      '1: relaxed SIMD',
      '2: host import (declare)',
      '3: host import (declare)',
      '3: host import (@external)',
    ]);
  });

  it('a file that does not parse is a failure', () => {
    expect(js('const a = (1 + ;').map((h) => h.split(':')[1].trim())).toContain('syntax error');
  });

  describe('nested folders', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ef-determinism-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    it('are walked; generated files are skipped', () => {
      mkdirSync(join(dir, 'a', 'b'), { recursive: true });
      writeFileSync(join(dir, 'top.ts'), 'export const t = Math.sqrt(2);\n');
      writeFileSync(join(dir, 'a', 'b', 'deep.ts'), '// nested\nexport const d = 2 ** 0.5;\n');
      writeFileSync(join(dir, 'a', 'x.generated.ts'), 'export const g = Math.exp(1);\n');
      writeFileSync(join(dir, 'a', 'notes.md'), 'Math.exp\n');
      const files = sourceFiles(dir);
      expect(files).toEqual(['a/b/deep.ts', 'top.ts']);
      const found = files.flatMap((f) => show(f, violations(f, readFileSync(join(dir, f), 'utf8'), 'js')));
      expect(found).toEqual(['a/b/deep.ts:2: **: export const d = 2 ** 0.5;']);
    });
  });
});

/**
 * Files allowed to break the rules, with the rules they break, exactly. None: the example models'
 * exp, log and tanh run in wasm since issue 14 (assembly/models.ts).
 */
const KNOWN: Record<string, string[]> = {};

for (const [dir, mode] of [['src', 'js'], ['assembly', 'assembly']] as const) {
  describe(`${dir}/: ${mode === 'js' ? 'exact JavaScript arithmetic only' : 'nothing from the engine or the host'}`, () => {
    const files = sourceFiles(join(ROOT, dir)).map((f) => `${dir}/${f}`);
    it(`${dir}/ has TypeScript files, subfolders included`, () => {
      expect(files.length).toBeGreaterThan(dir === 'src' ? 10 : 5);
      if (dir === 'src') expect(files).toContain('src/models/mlp.ts');
    });
    it.each(files)('%s', (file) => {
      const hits = violations(file, readFileSync(join(ROOT, file), 'utf8'), mode);
      const known = KNOWN[file];
      if (known) expect(hits.map((h) => h.rule).sort(), show(file, hits).join('\n')).toEqual(known);
      else expect(show(file, hits)).toEqual([]);
    });
  });
}
