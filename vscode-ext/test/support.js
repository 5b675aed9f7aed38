// What the tests that run the real binaries share: where the workspace and its debug build are,
// the demo's source lines, the daemons a test started, and waiting for something to happen.
// (node --test runs this file too: it has no tests.)

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** The repository. */
const root = path.resolve(__dirname, '..', '..');
/** The daemon under test: the workspace's debug build, or ASYNCMOND. */
const asyncmond = process.env.ASYNCMOND || path.join(root, 'target', 'debug', 'asyncmond');

/** The 1-based line of demo/src/demo.rs that holds `needle`. */
function demoLine(needle) {
  const lines = fs.readFileSync(path.join(root, 'demo', 'src', 'demo.rs'), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, `${needle} is in demo.rs`);
  return index + 1;
}

/** The asyncmond processes serving sockets below `dir`. */
function daemonsUnder(dir) {
  try {
    return execFileSync('pgrep', ['-f', '--', `asyncmond --socket ${dir}`]).toString().trim().split('\n');
  } catch {
    return []; // pgrep exits 1 when nothing matches.
  }
}

/** Resolves with what `check` (sync or async) returns once it is truthy; rejects after `ms`. */
async function waitFor(what, ms, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

module.exports = { root, asyncmond, demoLine, daemonsUnder, waitFor };
