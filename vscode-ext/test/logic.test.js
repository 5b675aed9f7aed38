// The extension's own logic, without VS Code: where the server is, what the session looks like in
// the status bar and the task view, which target words the commands send. Runs on the compiled
// out/ (npm run compile).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { resolveServerPath } = require('../out/serverPath');
const { sessionEnded, sessionRunning, statusText, taskItems } = require('../out/session');
const { serverArgs } = require('../out/serverArgs');
const { probeWords, tcpWords, simWords, checkChip } = require('../out/targets');

const lookup = (existing, pathVariable) => ({ isExecutable: (f) => existing.includes(f), pathVariable });

test('the daemon path: the setting, else PATH, else the workspace build', () => {
  const ws = '/home/dev/fw';
  const built = path.join(ws, 'target', 'debug', 'asyncmond');
  assert.equal(resolveServerPath('/opt/asyncmond', [ws], lookup(['/opt/asyncmond'], '')).path, '/opt/asyncmond');
  assert.equal(resolveServerPath('', [ws], lookup(['/usr/bin/asyncmond', built], '/bin:/usr/bin')).path, '/usr/bin/asyncmond');
  assert.equal(resolveServerPath(undefined, [ws], lookup([built], '/bin')).path, built);
  const release = path.join(ws, 'target', 'release', 'asyncmond');
  assert.equal(resolveServerPath(undefined, [ws], lookup([release], '')).path, release);
  const missing = resolveServerPath('/nowhere/asyncmond', [ws], lookup([built], '/bin'));
  assert.equal(missing.path, undefined, 'a set path that does not exist is not replaced by a guess');
  assert.deepEqual(missing.tried, ['/nowhere/asyncmond']);
  const none = resolveServerPath('', [ws], lookup([], '/bin'));
  assert.deepEqual(none.tried, ['/bin/asyncmond', built, release]);
});

const session = (over) => ({
  connected: true,
  target: 'sim: target/debug/asyncmon',
  state: 'attached',
  stateText: 'attached',
  epoch: 1,
  firmware: 'asyncmon-demo',
  failures: 0,
  tasks: [],
  interrupt: null,
  ...over,
});

test('the stop button shows only while the firmware runs; the status bar says state, failures and session', () => {
  assert.equal(sessionRunning(session({})), true);
  assert.equal(sessionRunning(session({ state: 'waiting' })), true);
  assert.equal(sessionRunning(session({ state: 'exited' })), false);
  assert.equal(sessionRunning(session({ connected: false })), false);
  assert.equal(sessionRunning(undefined), false);
  assert.equal(statusText(session({ failures: 3 })).text, '$(error) asyncmon-demo: attached · 3 failures');
  assert.equal(statusText(session({ failures: 1 })).text, '$(error) asyncmon-demo: attached · 1 failure');
  assert.equal(statusText(session({})).text, '$(pulse) asyncmon-demo: attached · 0 failures');
  const ended = statusText(session({ state: 'exited', epoch: 2, interrupt: 'KeyboardInterrupt: cancelled main (1 tasks)' }));
  assert.equal(ended.text, '$(debug-stop) asyncmon-demo: exited · 0 failures');
  assert.match(ended.tooltip, /KeyboardInterrupt: cancelled main/);
  assert.match(ended.tooltip, /Problems panel/, 'the tooltip says what a click does');
  assert.equal(ended.label, 'asyncmon asyncmon-demo exited, session 2, 0 failures');
});

test('a session that ends is announced once, with the KeyboardInterrupt summary', () => {
  const stopped = session({
    state: 'exited',
    stateText: 'KeyboardInterrupt (exit code 130)',
    interrupt: 'KeyboardInterrupt: cancelled main, blinky (5 tasks)',
  });
  assert.deepEqual(sessionEnded(session({}), stopped), {
    text: 'asyncmon: asyncmon-demo stopped — KeyboardInterrupt: cancelled main, blinky (5 tasks)',
    warning: false,
  });
  assert.equal(sessionEnded(stopped, stopped), undefined, 'only when it ends, not on every update');
  assert.equal(sessionEnded(undefined, stopped), undefined, 'a session found ended is not news');
  assert.equal(sessionEnded(session({}), session({ failures: 4 })), undefined);
  assert.deepEqual(sessionEnded(session({}), session({ state: 'exited', stateText: 'exited with code 0' })), {
    text: 'asyncmon: asyncmon-demo ended: exited with code 0',
    warning: false,
  });
  assert.equal(sessionEnded(session({}), session({ state: 'failed', stateText: 'probe gone' })).warning, true);
  // A panic halts the firmware: said as a warning, with what starts it again.
  const halted = sessionEnded(session({}), session({ state: 'halted', stateText: 'halted: panic in faulty' }));
  assert.deepEqual(halted, {
    text: 'asyncmon: asyncmon-demo halted: panic in faulty — asyncmon reset starts it again',
    warning: true,
  });
  assert.match(sessionEnded(session({}), session({ connected: false })).text, /daemon has ended/);
});

test('the server is started as `asyncmond [--socket S] lsp` (the client appends --stdio)', () => {
  assert.deepEqual(serverArgs(undefined), ['lsp']);
  assert.deepEqual(serverArgs(' '), ['lsp']);
  assert.deepEqual(serverArgs('/run/x.sock'), ['--socket', '/run/x.sock', 'lsp']);
});

test('the task view lists running tasks first, with their failures', () => {
  const items = taskItems(
    session({
      tasks: [
        { id: 5, name: 'sensor_poll', state: 'failed', failures: 1 },
        { id: 1, name: 'blinky', state: 'running', failures: 0 },
        { id: 0, name: 'main', state: 'running', failures: 0 },
      ],
    }),
  );
  assert.deepEqual(
    items.map((i) => [i.label, i.description, i.icon]),
    [
      ['main #0', 'running', 'sync'],
      ['blinky #1', 'running', 'sync'],
      ['sensor_poll #5', 'failed · 1 failed', 'error'],
    ],
  );
  assert.deepEqual(taskItems(undefined), []);
  assert.deepEqual(taskItems(session({ connected: false, tasks: [{ id: 0, name: 'main', state: 'running', failures: 0 }] })), [], 'no session: the welcome text shows');
});

test('run and attach send the daemon target words', () => {
  assert.deepEqual(probeWords({ elf: 'app.elf', chip: 'nRF52840_xxAA' }), ['probe', '--chip=nRF52840_xxAA', '--', 'app.elf']);
  assert.deepEqual(probeWords({ elf: 'app.elf', chip: 'STM32F411RE', probe: '0483:374b' }), [
    'probe', '--chip=STM32F411RE', '--probe=0483:374b', '--', 'app.elf',
  ]);
  assert.deepEqual(tcpWords('localhost:9090', 'app.elf'), ['tcp', '--elf=app.elf', '--', 'localhost:9090']);
  // An answer that looks like an option stays a value.
  assert.deepEqual(probeWords({ elf: '--help', chip: '--list' }), ['probe', '--chip=--list', '--', '--help']);
  assert.deepEqual(simWords('--pid'), ['sim', '--', '--pid']);
  assert.match(checkChip(''), /chip name is needed/);
  assert.match(checkChip('nRF52840 xxAA'), /no spaces/);
  assert.equal(checkChip('nRF52840_xxAA'), undefined);
});
