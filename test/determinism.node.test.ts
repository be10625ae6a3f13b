/**
 * DESIGN §4: numeric paths use only + − × ÷ and Math.sqrt, never Math.pow / ** / Math.exp /
 * Math.log (not bit-identical across JavaScript engines). A static check of src/ (Node only: it
 * reads the source files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const FORBIDDEN = [/Math\.pow\s*\(/, /\*\*(?!\/)/, /Math\.exp\s*\(/, /Math\.expm1\s*\(/, /Math\.log\w*\s*\(/, /Math\.hypot\s*\(/, /Math\.cbrt\s*\(/];

/** Source with comments and string literals removed (good enough for this check). */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/`(?:\\[\s\S]|\$\{[^}]*\}|[^`\\])*`/g, '``')
    .replace(/'(?:\\.|[^'\\])*'/g, "''")
    .replace(/"(?:\\.|[^"\\])*"/g, '""');
}

describe('no engine-dependent Math on numeric paths in src/', () => {
  const files = readdirSync(SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('.generated.ts'));
  it('src/ has TypeScript files', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  it.each(files)('%s', (file) => {
    const lines = code(readFileSync(join(SRC, file), 'utf8')).split('\n');
    const hits: string[] = [];
    lines.forEach((line, i) => {
      for (const re of FORBIDDEN) if (re.test(line)) hits.push(`${file}:${i + 1}: ${line.trim()}`);
    });
    expect(hits).toEqual([]);
  });
});
