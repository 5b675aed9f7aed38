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
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const lsp = require('vscode-languageserver-protocol/node');

const { root, asyncmond, demoLine, waitFor, startLanguageServer } = require('./support');

test('the demo failure reaches the editor at its line and stop ends in KeyboardInterrupt', async (t) => {
  assert.ok(fs.existsSync(asyncmond), `${asyncmond} exists (run cargo build first)`);
  const { connection, published, sessions, logs, init, daemons } = await startLanguageServer(t);
  assert.deepEqual(
    [...init.capabilities.executeCommandProvider.commands].sort(),
    ['asyncmon.attach', 'asyncmon.clearFailures', 'asyncmon.hardStop', 'asyncmon.stop'],
  );

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
