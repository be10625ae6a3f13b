#!/usr/bin/env node
// The learning-rate (and damping) sweep behind the demo's defaults: node scripts/sweep.mjs --help
import { bundleAndRun } from './demo.mjs';

process.exitCode = await bundleAndRun('examples/mnist/sweep.ts', 'sweep', process.argv.slice(2));
