// What the tests that run the real binaries share: where the workspace and its debug build are,
// the demo's source lines, the daemons a test started, and waiting for something to happen.
// (node --test runs this file too: it has no tests.)

const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

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

/** The asyncmond processes serving sockets below `dir` (`target`: only those whose command line
 *  goes on with it, `sim` for a simulated board's daemon). */
function daemonsUnder(dir, target = '') {
  try {
    const pattern = `asyncmond --socket ${dir}` + (target ? `\\S* ${target}` : '');
    return execFileSync('pgrep', ['-f', '--', pattern]).toString().trim().split('\n');
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

/** `asyncmond lsp --stdio` as an editor starts it (its daemon socket in a directory of its own),
 *  through a real LSP client, initialized on the workspace: what it publishes, as it arrives. The
 *  server and any daemon it started end with the test. */
async function startLanguageServer(t) {
  const lsp = require('vscode-languageserver-protocol/node');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncmon-lsp-'));
  fs.chmodSync(dir, 0o700);
  const server = spawn(asyncmond, ['--socket', path.join(dir, 'd.sock'), 'lsp', '--stdio'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(() => {
    server.kill();
    for (const pid of daemonsUnder(dir)) process.kill(Number(pid), 'SIGKILL');
  });
  const connection = lsp.createProtocolConnection(
    new lsp.StreamMessageReader(server.stdout),
    new lsp.StreamMessageWriter(server.stdin),
  );
  const published = [];
  const sessions = [];
  const logs = [];
  connection.onNotification(lsp.PublishDiagnosticsNotification.type, (p) => published.push(p));
  connection.onNotification('asyncmon/session', (s) => sessions.push(s));
  connection.onNotification('asyncmon/logs', (l) => logs.push(...l.lines));
  connection.onNotification(lsp.LogMessageNotification.type, () => {});
  connection.listen();
  const rootUri = pathToFileURL(root).href;
  const init = await connection.sendRequest(lsp.InitializeRequest.type, {
    processId: process.pid,
    rootUri,
    capabilities: {},
    workspaceFolders: [{ uri: rootUri, name: 'asyncmon' }],
  });
  await connection.sendNotification(lsp.InitializedNotification.type, {});
  // The daemons the server started for a simulated board (not the server itself).
  return { connection, published, sessions, logs, init, daemons: () => daemonsUnder(dir, 'sim') };
}

module.exports = { root, asyncmond, demoLine, daemonsUnder, waitFor, startLanguageServer };
