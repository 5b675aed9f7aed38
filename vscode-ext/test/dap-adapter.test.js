// The real `asyncmond dap` binary through a real DAP client (@vscode/debugadapter-testsupport, the
// client VS Code's own adapters are tested with), the way VS Code drives it: initialize, launch the
// demo on the simulated board, the exception filter, configurationDone; the view stops on the demo's
// unretrieved failure at the line that raised it, with its spawn chain; tasks are threads and
// telemetry's await trace is its stack; stepping is refused; Restart resets the target (a new
// session); Stop is KeyboardInterrupt with exit code 130; a second scenario's Stop-twice (disconnect
// with terminateDebuggee) drops every task at once, and the daemon the adapter started ends.
//
// Needs the workspace's debug build (`cargo build`): target/debug/asyncmond and target/debug/asyncmon
// (the demo firmware). ASYNCMOND overrides the daemon's path.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { root, asyncmond, demoLine, daemonsUnder, waitFor, dapClient: client } = require('./support');

async function launchDemo(dc, filters) {
  const initialized = dc.waitForEvent('initialized', 10_000);
  const init = await dc.initializeRequest({ adapterID: 'asyncmon', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  await initialized;
  await dc.launchRequest({ type: 'asyncmon', request: 'launch', name: 'demo', target: 'demo', workspaceFolder: root });
  await dc.setExceptionBreakpointsRequest({ filters });
  await dc.configurationDoneRequest();
  return init.body;
}

test('the debug view of the demo: a failure stops it, tasks are threads, await traces their stacks, Stop is KeyboardInterrupt', async (t) => {
  assert.ok(fs.existsSync(asyncmond), `${asyncmond} exists (cargo build)`);
  const { dc, runtime, console } = client(t);
  await dc.start();
  const stopped = dc.waitForEvent('stopped', 30_000);
  const capabilities = await launchDemo(dc, ['unretrieved']);
  assert.equal(capabilities.supportsTerminateRequest, true, 'Stop is a terminate request first (KeyboardInterrupt)');
  assert.equal(capabilities.supportsRestartRequest, true);
  assert.deepEqual(capabilities.exceptionBreakpointFilters.map((f) => [f.filter, f.default]), [['unretrieved', true], ['all', false]]);

  // The demo's unretrieved failure stops the view on its task, at the raise line.
  const stop = await stopped;
  assert.equal(stop.body.reason, 'exception');
  assert.equal(stop.body.description, 'SensorError (never retrieved)');
  assert.match(stop.body.text, /SensorError$/);
  const failed = stop.body.threadId;
  const info = await dc.exceptionInfoRequest({ threadId: failed });
  assert.match(info.body.exceptionId, /SensorError$/);
  assert.equal(info.body.breakMode, 'unhandled');
  assert.match(info.body.details.stackTrace, /spawn chain: sensor_poll ← telemetry ← main/);
  const failedStack = (await dc.stackTraceRequest({ threadId: failed })).body.stackFrames;
  assert.equal(failedStack[0].source.path, path.join(root, 'demo', 'src', 'demo.rs'));
  assert.equal(failedStack[0].line, demoLine('SensorError::timeout(poll)'));
  assert.deepEqual(failedStack.map((f) => f.name).slice(1), ['sensor_poll spawned by telemetry', 'telemetry spawned by main', 'main spawned']);

  // Tasks are threads.
  const threads = (await dc.threadsRequest()).body.threads;
  const names = threads.map((th) => th.name);
  for (const name of ['#0 main', '#1 blinky', '#2 telemetry']) assert.ok(names.includes(name), `${name} in ${names}`);
  assert.ok(names.some((n) => /sensor_poll \(failed\)/.test(n)), `the failed task is shown: ${names}`);

  // Continue, then Pause: a snapshot where telemetry waits at its sleep.
  const continued = await dc.continueRequest({ threadId: failed });
  assert.equal(continued.body.allThreadsContinued, true, 'spelled as DAP spells it');
  const paused = dc.waitForEvent('stopped', 10_000);
  await dc.pauseRequest({ threadId: 1 });
  assert.equal((await paused).body.reason, 'pause');
  const telemetry = threads.find((th) => th.name === '#2 telemetry').id;
  const frames = (await dc.stackTraceRequest({ threadId: telemetry })).body.stackFrames;
  const own = frames.find((f) => f.name === 'asyncmon_demo::demo::telemetry');
  assert.ok(own, `telemetry's own frame in ${JSON.stringify(frames.map((f) => f.name))}`);
  assert.equal(own.line, demoLine('sleep(Duration::from_millis(POLL_PERIOD_MS)).await'));
  assert.match(frames[0].name, /Sleep/, 'the innermost frame, on top, is the timer it waits on');
  const variables = (await dc.variablesRequest({ variablesReference: (await dc.scopesRequest({ frameId: own.id })).body.scopes[0].variablesReference })).body.variables;
  assert.ok(variables.some((v) => v.name === 'spawned by' && v.value === '#0 main'), JSON.stringify(variables));

  // Stepping is refused with the reason.
  await assert.rejects(dc.nextRequest({ threadId: telemetry }), /never halts the target/);
  await dc.continueRequest({ threadId: telemetry });

  // Restart resets the target: a new session.
  await dc.restartRequest({});
  await waitFor('session 2', 30_000, () => /session 2 started/.test(console()));

  // Stop: KeyboardInterrupt, every task's cleanup, exit code 130, the end of the debug session.
  const exited = dc.waitForEvent('exited', 30_000);
  const terminated = dc.waitForEvent('terminated', 30_000);
  await dc.terminateRequest({});
  assert.equal((await exited).body.exitCode, 130);
  await terminated;
  assert.match(console(), /KeyboardInterrupt: cancelled main/);
  assert.match(console(), /cleanup: blinky turned the LED off/);
  await dc.disconnectRequest({ restart: false });
  await waitFor('the daemon the adapter started to end', 10_000, () => daemonsUnder(runtime).length === 0);
});

test('Stop pressed twice (disconnect with terminateDebuggee) drops every task at once and ends the daemon', async (t) => {
  const { dc, runtime, console } = client(t);
  await dc.start();
  await launchDemo(dc, []);
  await waitFor('the demo to run', 30_000, () => /demo: started/.test(console()));
  assert.equal(daemonsUnder(runtime).length, 1);
  await dc.disconnectRequest({ restart: false, terminateDebuggee: true });
  assert.match(console(), /hard stop: every task dropped/);
  await waitFor('the daemon to end', 10_000, () => daemonsUnder(runtime).length === 0);
});
