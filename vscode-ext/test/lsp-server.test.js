// The real `asyncmond lsp` binary through a real LSP client (vscode-languageclient's protocol layer),
// started with the arguments vscode-languageclient passes (`lsp --stdio`): attach the simulated demo
// board, see the demo's unretrieved failure published at the line that raised it, stop the firmware,
// see the session end with KeyboardInterrupt, start it again, and see the daemon the server started
// end with the server.
//
// Needs the workspace's debug build (`cargo build`): target/debug/asyncmond and target/debug/asyncmon
// (the demo firmware). ASYNCMOND overrides the daemon's path.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const lsp = require('vscode-languageserver-protocol/node');

const { root, asyncmond, demoLine, waitFor } = require('./support');

test('the demo failure reaches the editor at its line and stop ends in KeyboardInterrupt', async (t) => {
  assert.ok(fs.existsSync(asyncmond), `${asyncmond} exists (run cargo build first)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncmon-lsp-'));
  const socket = path.join(dir, 'd.sock');
  const server = spawn(asyncmond, ['--socket', socket, 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const daemons = () => {
    try {
      return execFileSync('pgrep', ['-f', '--', `--socket ${socket} sim`]).toString().trim().split('\n');
    } catch {
      return []; // pgrep exits 1 when nothing matches.
    }
  };
  t.after(() => {
    server.kill();
    for (const pid of daemons()) process.kill(Number(pid), 'SIGKILL');
  });

  const connection = lsp.createProtocolConnection(
    new lsp.StreamMessageReader(server.stdout),
    new lsp.StreamMessageWriter(server.stdin),
  );
  const published = [];
  const sessions = [];
  connection.onNotification(lsp.PublishDiagnosticsNotification.type, (p) => published.push(p));
  connection.onNotification('asyncmon/session', (s) => sessions.push(s));
  const logs = [];
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
  assert.deepEqual(
    [...init.capabilities.executeCommandProvider.commands].sort(),
    ['asyncmon.attach', 'asyncmon.clearFailures', 'asyncmon.hardStop', 'asyncmon.stop'],
  );
  await connection.sendNotification(lsp.InitializedNotification.type, {});

  const attached = await connection.sendRequest(lsp.ExecuteCommandRequest.type, {
    command: 'asyncmon.attach',
    arguments: ['demo'],
  });
  assert.match(attached, /asyncmond/);

  const demoUri = pathToFileURL(path.join(root, 'demo', 'src', 'demo.rs')).href;
  const diagnostic = await waitFor('the unretrieved failure in demo.rs', 60_000, () => {
    for (const p of published) {
      if (p.uri !== demoUri) continue;
      const d = p.diagnostics.find((x) => x.code === 'never-retrieved');
      if (d) return d;
    }
    return undefined;
  });
  assert.equal(diagnostic.range.start.line, demoLine('SensorError::timeout(poll)') - 1); // LSP lines count from 0
  assert.equal(diagnostic.severity, lsp.DiagnosticSeverity.Error);
  assert.match(diagnostic.message, /^SensorError: sensor poll #\d+ timed out after 50 ms — in task sensor_poll/);
  const chain = diagnostic.relatedInformation.map((r) => r.message);
  assert.deepEqual(chain, ['sensor_poll spawned by telemetry here', 'telemetry spawned by main here']);

  const hover = await connection.sendRequest(lsp.HoverRequest.type, {
    textDocument: { uri: demoUri },
    position: diagnostic.range.start,
  });
  assert.match(hover.contents.value, /spawn chain: sensor_poll ← telemetry ← main/);

  await connection.sendRequest(lsp.ExecuteCommandRequest.type, { command: 'asyncmon.stop' });
  const ended = await waitFor('the session to end with KeyboardInterrupt', 30_000, () =>
    sessions.find((s) => s.state === 'exited' && s.interrupt),
  );
  assert.match(ended.stateText, /KeyboardInterrupt \(exit code 130\)/);
  assert.match(ended.interrupt, /^KeyboardInterrupt: cancelled .*\bmain\b.* \(\d+ tasks\)$/);
  assert.ok(ended.tasks.some((task) => task.name === 'sensor_poll' && task.failures > 0));
  // The firmware's own log lines, for the extension's output channel.
  await waitFor('the cleanup lines in the logs', 10_000, () =>
    logs.some((l) => l.includes('cleanup: blinky turned the LED off')),
  );

  // A second stop has nothing to stop, and says so in a user's words.
  await assert.rejects(
    connection.sendRequest(lsp.ExecuteCommandRequest.type, { command: 'asyncmon.stop' }),
    /the firmware is not running \(KeyboardInterrupt \(exit code 130\)\) — Start demo or Run ELF…/,
  );

  // A session that has ended is no reason to refuse a new one: the same target starts again.
  const again = await connection.sendRequest(lsp.ExecuteCommandRequest.type, {
    command: 'asyncmon.attach',
    arguments: ['demo'],
  });
  assert.match(again, /again/);
  await waitFor('a new session with a new failure', 60_000, () =>
    sessions.find((s) => s.epoch === ended.epoch + 1 && s.state === 'attached' && s.failures > 0),
  );

  // The daemon this server started ends with it (and with the daemon, the demo firmware).
  assert.equal(daemons().length, 1, 'one daemon runs for the session');
  await connection.sendRequest(lsp.ShutdownRequest.type);
  await connection.sendNotification(lsp.ExitNotification.type);
  await waitFor('the daemon to end with the server', 10_000, () => daemons().length === 0);
  connection.dispose();
});
