// The editor on a board through a debug probe: the real `asyncmond lsp` and `asyncmond dap` on
// probe-rs's own Session, through asyncmon's virtual probe plugged into QEMU's mps2-an386 (the
// board path rehearsed without a board). The language server: the embassy example's tasks named at
// their awaits (await traces read through the probe) and its panic at its line. The debug view: the
// demo stops at its unretrieved failure, telemetry's stack is its await trace, Stop is
// KeyboardInterrupt with exit code 130.
//
// Needs the workspace's debug build (`cargo build`) and the firmware for mps2-an386
// (`bash .ci/build-firmware mps2-an386`; `cargo test` builds it).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const lsp = require('vscode-languageserver-protocol/node');
const { root, asyncmond, demoLine, tasksFile, tasksLine, waitFor, waitForHints, waitForDiagnostic, startLanguageServer, dapClient } = require('./support');

const firmware = path.join(root, 'target', 'firmware', 'thumbv7em-none-eabihf', 'release');
test('the language server through a probe: embassy tasks at their awaits, the panic at its line', async (t) => {
  const elf = path.join(firmware, 'asyncmon-embassy-example');
  for (const f of [asyncmond, elf]) assert.ok(fs.existsSync(f), `${f} exists (cargo build; bash .ci/build-firmware mps2-an386)`);
  const { connection, published, sessions } = await startLanguageServer(t);
  await connection.sendRequest(lsp.ExecuteCommandRequest.type, {
    command: 'asyncmon.attach',
    arguments: ['probe', '--probe', 'qemu:mps2-an386', elf],
  });
  const uri = pathToFileURL(tasksFile).href;
  const expected = [['ticker', tasksLine('ticker.next().await')], ['waiter', tasksLine('READINGS.receive().await')]];
  await waitForHints(connection, uri, expected);
  const panic = await waitForDiagnostic(published, uri, 'NoAnswer');
  assert.equal(panic.range.start.line, tasksLine('unwrap!(gyro_reading(tick))'));
  assert.match(panic.message, /in task faulty/);
  // panic-probe halted the core: the session says so, and no task waits anywhere any more.
  const halted = await waitFor('the session halted', 10_000, () => sessions.find((s) => s.state === 'halted'));
  assert.match(halted.stateText, /halted: panic in faulty/);
  assert.ok(halted.tasks.every((task) => task.state !== 'running'), JSON.stringify(halted.tasks));
  await waitFor('the hints to go', 10_000, async () => {
    const hints = await connection.sendRequest(lsp.InlayHintRequest.type, {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } },
    });
    return !(hints ?? []).some((h) => h.label.includes('waiting here'));
  });
});

test('the debug view through a probe: the failure stops it, await traces are stacks, Stop is KeyboardInterrupt', async (t) => {
  const elf = path.join(firmware, 'asyncmon-demo-board');
  assert.ok(fs.existsSync(elf), `${elf} exists (bash .ci/build-firmware mps2-an386)`);
  const { dc, console } = dapClient(t);
  await dc.start();
  const stopped = dc.waitForEvent('stopped', 30_000);
  const initialized = dc.waitForEvent('initialized', 10_000);
  await dc.initializeRequest({ adapterID: 'asyncmon', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  await initialized;
  // No chip: the virtual probe knows its machine's.
  await dc.launchRequest({ type: 'asyncmon', request: 'launch', name: 'board', probe: 'qemu:mps2-an386', program: elf, workspaceFolder: root });
  await dc.setExceptionBreakpointsRequest({ filters: ['unretrieved'] });
  await dc.configurationDoneRequest();

  const stop = await stopped;
  assert.equal(stop.body.reason, 'exception');
  const failedStack = (await dc.stackTraceRequest({ threadId: stop.body.threadId })).body.stackFrames;
  assert.equal(failedStack[0].source.path, path.join(root, 'demo', 'src', 'demo.rs'));
  assert.equal(failedStack[0].line, demoLine('SensorError::timeout(poll)'));

  const threads = (await dc.threadsRequest()).body.threads;
  const telemetry = threads.find((th) => th.name === '#2 telemetry');
  assert.ok(telemetry, JSON.stringify(threads));
  const frames = (await dc.stackTraceRequest({ threadId: telemetry.id })).body.stackFrames;
  const own = frames.find((f) => f.name === 'asyncmon_demo::demo::telemetry');
  assert.ok(own, `telemetry's own frame in ${JSON.stringify(frames.map((f) => f.name))}`);
  assert.equal(own.line, demoLine('sleep(Duration::from_millis(POLL_PERIOD_MS)).await'));

  await dc.continueRequest({ threadId: stop.body.threadId });
  const exited = dc.waitForEvent('exited', 30_000);
  await dc.terminateRequest({});
  assert.equal((await exited).body.exitCode, 130);
  assert.match(console(), /KeyboardInterrupt: cancelled main/);
});
