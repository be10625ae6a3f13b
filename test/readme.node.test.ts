// The README's quick start, run as a user would: the code block, importing the built package.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function quickStart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README has no ```js block after "## Quick start"');
  return m[1];
}

describe('README', () => {
  it('starts with the two set-up commands', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme);
    expect(firstBlock).not.toBeNull();
    const commands = firstBlock![1].split('\n').filter((l) => l.trim()).map((l) => l.split('#')[0].trim());
    expect(commands[0]).toBe('npm install');
    expect(commands).toContain('npm test');
  });

  it('quick start runs against the built package and prints what it says', () => {
    const code = quickStart();
    const entry = pathToFileURL(join(root, 'dist', 'index.js')).href;
    const rewritten = code.replace(/from 'empirical-fisher'/g, `from '${entry}'`);
    expect(rewritten).not.toBe(code);
    const dir = join(root, 'build', 'readme-test');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'quick-start.mjs');
    writeFileSync(file, rewritten);
    const stdout = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    // every `console.log(...);   // expected` comment in the block is checked against the output
    const expected = [...code.matchAll(/console\.log\(.*\);\s*\/\/\s*(.*)$/gm)].map((m) => m[1].trim());
    const lines = stdout.trim().split('\n').map((l) => l.trim());
    expect(lines).toEqual(expected);
  });
});

/** The section of the README under `## title`, up to the next `## ` heading. */
function section(title: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 3);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Runs a README code block against the built package; returns its stdout and the expected lines. */
function runBlock(code: string, name: string): { lines: string[]; expected: string[] } {
  const entry = pathToFileURL(join(root, 'dist', 'index.js')).href;
  const rewritten = code.replace(/from 'empirical-fisher'/g, `from '${entry}'`);
  expect(rewritten).not.toBe(code);
  const dir = join(root, 'build', 'readme-test');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, rewritten);
  const stdout = execFileSync(process.execPath, [file], { encoding: 'utf8' });
  const expected = [...code.matchAll(/console\.log\(.*\);\s*\/\/\s*(.*)$/gm)].map((m) => m[1].trim());
  return { lines: stdout.trim().split('\n').map((l) => l.trim()), expected };
}

describe('README: Getting G from your model', () => {
  it('each js block (a hand-written model, the layer kit) runs and prints what it says', () => {
    const blocks = [...section('Getting G from your model').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBe(2);
    blocks.forEach((code, k) => {
      const { lines, expected } = runBlock(code, `getting-g-${k}`);
      expect(expected.length, `block ${k} checks what it prints`).toBeGreaterThanOrEqual(2);
      expect(lines, `block ${k}`).toEqual(expected);
    });
  });

  it('the TensorFlow.js excerpt is the code of examples/tfjs/model.ts, which the README links', () => {
    const text = section('Getting G from your model');
    expect(text).toMatch(/\]\(examples\/tfjs\/model\.ts\)/);
    const excerpt = /```ts\n([\s\S]*?)```/.exec(text)![1];
    const code = (line: string) => line.replace(/\/\/.*$/, '').trim();
    const source = new Set(readFileSync(join(root, 'examples', 'tfjs', 'model.ts'), 'utf8').split('\n').map(code));
    const lines = excerpt.split('\n').map(code).filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(source.has(line), `README excerpt line not in model.ts: ${line}`).toBe(true);
  });
});

describe('package entry points', () => {
  it('the ESM bundle imports nothing (no Node built-ins, no bare specifiers)', () => {
    const esm = readFileSync(join(root, 'dist', 'index.js'), 'utf8');
    expect(esm).not.toMatch(/^\s*import\s/m);
    expect(esm).not.toMatch(/\bimport\(/);
    expect(esm).not.toMatch(/\brequire\(/);
    expect(esm).not.toMatch(/node:/);
  });

  it('CommonJS require works', () => {
    const script = `const ef = require(${JSON.stringify(join(root, 'dist', 'index.cjs'))});
      ef.initSync();
      const L = ef.linalg.cholesky(new Float64Array([4, 2, 2, 5]), 2);
      console.log(Array.from(L).join(','));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
    expect(out).toBe('2,0,1,2');
  });

  it('type declarations exist for the exports map', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const types = pkg.exports['.'].types as string;
    const dts = readFileSync(join(root, types), 'utf8');
    expect(dts).toMatch(/EmpiricalFisher/);
    expect(dts).toMatch(/linalg/);
  });
});
