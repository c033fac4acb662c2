#!/usr/bin/env node
// The binary only dispatches to the compiled CLI (built by `npm ci` through the prepare script).
import '../dist/lib/cli/main.js';
