#!/usr/bin/env node
// npx empirical-fisher demo [options] | bench [options] | --help
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const HELP = `Usage: empirical-fisher <command> [options]

Commands:
  demo    train logistic regression and an MLP on MNIST digits with SGD, Adam and the
          empirical Fisher optimizer; prints a table, writes demo-output/mnist.svg and .json
          (empirical-fisher demo --help for its options; --quick for a 20-second run)
  bench   GFLOP/s of the kernels on this machine, with plain TypeScript, ml-matrix and the
          TF.js wasm backend measured in the same run (--json <file> writes the results;
          --threads 2: two worker threads against one; empirical-fisher bench --help)

Options:
  -h, --help   this help
`;

const SCRIPTS = { demo: join(root, 'scripts', 'demo.mjs'), bench: join(root, 'bench', 'run.mjs') };

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
  process.stdout.write(HELP);
  process.exitCode = command === undefined ? 1 : 0;
} else if (!Object.hasOwn(SCRIPTS, command)) {
  process.stderr.write(`empirical-fisher: unknown command '${command}'\n\n${HELP}`);
  process.exitCode = 2;
} else {
  const script = SCRIPTS[command];
  if (!existsSync(script)) {
    process.stderr.write(`empirical-fisher: ${command} needs ${script}, which is not in this installation (run it from a clone of the repository)\n`);
    process.exitCode = 1;
  } else {
    const { status, signal } = spawnSync(process.execPath, [script, ...rest], { stdio: 'inherit' });
    process.exitCode = status ?? (signal ? 1 : 0);
  }
}
