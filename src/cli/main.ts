#!/usr/bin/env node
// The `trellis` command (package.json "bin"); see run.ts.
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2));
