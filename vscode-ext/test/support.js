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
    // The daemon's options (`--end-with-stdin`) may stand between its socket and its target.
    const pattern = `asyncmond --socket ${dir}` + (target ? `\\S*( --\\S+)* ${target}` : '');
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

/** The 0-based line (as LSP counts) of firmware/embassy-example/src/tasks.rs that holds `needle`. */
const tasksFile = path.join(root, 'firmware', 'embassy-example', 'src', 'tasks.rs');
function tasksLine(needle) {
  const index = fs.readFileSync(tasksFile, 'utf8').split('\n').findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, `${needle} is in tasks.rs`);
  return index;
}

/** Waits until the inlay hints of `uri` name each `[task, line]` of `expected` waiting at its line;
 *  returns the hints as `[line, label]`. */
async function waitForHints(connection, uri, expected, ms = 30_000) {
  const lsp = require('vscode-languageserver-protocol/node');
  return waitFor('the inlay hints at the tasks\' awaits', ms, async () => {
    const hints = await connection.sendRequest(lsp.InlayHintRequest.type, {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } },
    });
    const found = (hints ?? []).map((h) => [h.position.line, h.label]);
    return expected.every(([name, line]) => found.some(([l, label]) => l === line && label.includes(`${name} waiting here`))) && found;
  });
}

/** Waits for a diagnostic published for `uri` whose message holds `text`. */
function waitForDiagnostic(published, uri, text, ms = 30_000) {
  return waitFor(`a diagnostic with ${text}`, ms, () => {
    for (const p of published) {
      if (p.uri !== uri) continue;
      const d = p.diagnostics.find((x) => x.message.includes(text));
      if (d) return d;
    }
    return undefined;
  });
}

/** A client for `asyncmond dap` with a runtime directory of its own (so its own daemon socket),
 *  and the Debug Console's text as it arrives; the adapter and its daemons end with the test. */
function dapClient(t) {
  const { DebugClient } = require('@vscode/debugadapter-testsupport');
  const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncmon-dap-'));
  fs.chmodSync(runtime, 0o700);
  // DebugClient runs `runtime executable`: here `asyncmond dap`.
  const dc = new DebugClient(asyncmond, 'dap', 'asyncmon', { env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
  const console = [];
  dc.on('output', (e) => console.push(e.body.output));
  t.after(async () => {
    dc.stopAdapter(); // Not stop(): it sends a disconnect the adapter, already gone, never answers.
    for (const pid of daemonsUnder(runtime)) process.kill(Number(pid), 'SIGKILL');
  });
  return { dc, runtime, console: () => console.join('') };
}

module.exports = {
  root,
  asyncmond,
  demoLine,
  tasksFile,
  tasksLine,
  daemonsUnder,
  waitFor,
  waitForHints,
  waitForDiagnostic,
  startLanguageServer,
  dapClient,
};
