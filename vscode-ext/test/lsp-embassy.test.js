// The editor on an embassy firmware: the real `asyncmond lsp` through a real LSP client, attached to
// the embassy example on the simulated board (embassy/examples/sim_example.rs, watched by
// asyncmon-embassy): the inlay hints name each embassy task at its `.await` in
// firmware/embassy-example/src/tasks.rs, the panic becomes a diagnostic at its line naming the task
// that was running, and the session summary says the firmware's tasks by name.
//
// Needs the workspace's debug build (`cargo build`) and the example's
// (`cargo build -p asyncmon-embassy --example sim_example --features sim-example --target-dir
// target/embassy-sim`; `cargo test` builds it for demo/tests/embassy_observer.rs).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const lsp = require('vscode-languageserver-protocol/node');
const { root, asyncmond, tasksFile, tasksLine, waitForHints, waitForDiagnostic, startLanguageServer } = require('./support');

const example = path.join(root, 'target', 'embassy-sim', 'debug', 'examples', 'sim_example');
test('an embassy firmware in the editor: tasks at their awaits, the panic at its line', async (t) => {
  for (const f of [asyncmond, example]) assert.ok(fs.existsSync(f), `${f} exists (cargo build; cargo test builds the example)`);
  const { connection, published, sessions } = await startLanguageServer(t);
  await connection.sendRequest(lsp.ExecuteCommandRequest.type, { command: 'asyncmon.attach', arguments: ['sim', example] });

  // Each embassy task named at its await, as the hints of the file show them.
  const uri = pathToFileURL(tasksFile).href;
  const expected = [
    ['ticker', tasksLine('ticker.next().await')],
    ['waiter', tasksLine('READINGS.receive().await')],
    ['faulty', tasksLine('FAULT.wait().await')],
  ];
  const hints = await waitForHints(connection, uri, expected);
  assert.ok(hints.length >= 3, JSON.stringify(hints));

  // The panic at 4 s: a diagnostic at its line, naming the task that was running.
  const panic = await waitForDiagnostic(published, uri, 'NoAnswer');
  assert.equal(panic.range.start.line, tasksLine('unwrap!(gyro_reading(tick))'));
  assert.match(panic.message, /in task faulty/);
  const session = sessions[sessions.length - 1];
  for (const name of ['ticker', 'waiter', 'hog']) assert.ok(session.tasks.some((task) => task.name === name), `${name} in ${JSON.stringify(session.tasks)}`);
});
