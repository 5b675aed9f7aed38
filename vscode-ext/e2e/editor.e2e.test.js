// The extension in a real VS Code (code-server, driven through Debian's chromium by playwright-core),
// the way a user meets it: the packaged .vsix installed, `asyncmon.daemonPath` first pointing
// nowhere (the extension says why it cannot work, and offers the way out), then set right (the
// server starts without a reload); demo/src/demo.rs opened; "asyncmon: Start demo" from the command
// palette; the failure at the line of `SensorError::timeout(poll)` in the Problems panel, reached
// by clicking the status bar item; its hover; the inlay hint at the `.await` where telemetry
// waits; the stop button in the editor title bar; the
// KeyboardInterrupt summary in a notification; Start demo again; a new session's failure; F5 (the
// `asyncmon` debug type): the exception stop at the raise line, tasks as threads in the Call Stack,
// telemetry's await frame opening its line, the toolbar's Restart (a new session) and Stop
// (KeyboardInterrupt); and the daemon and firmware gone once the editor is.
//
// Needs `.ci/install-code-server` (code-server, Node 24, chromium), the debug builds of asyncmond
// and asyncmon (`cargo build -p asyncmon-daemon -p asyncmon-tui`) and the .vsix (`npx vsce
// package`). Prints the two figures the README quotes: Start demo → first diagnostic, and stop
// click → session-ended notification. On failure, screenshots are left in the run's folder.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { startCodeServer, filesBelow, extRoot } = require('./codeServer');

const { root, asyncmond, demoLine, daemonsUnder, waitFor } = require('../test/support');
const vsix = process.env.ASYNCMON_VSIX || path.join(extRoot, 'asyncmon-0.1.0.vsix');

const settings = (daemonPath) => ({
  'asyncmon.daemonPath': daemonPath,
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'workbench.tips.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'editor.hover.delay': 100,
  'files.watcherExclude': { '**/target/**': true, '**/node_modules/**': true, '**/.e2e-tools/**': true },
  'search.exclude': { '**/target': true, '**/.e2e-tools': true },
});

test('a user starts the demo, reads the failure, stops it and starts it again in a real VS Code', async (t) => {
  for (const f of [asyncmond, path.join(path.dirname(asyncmond), 'asyncmon'), vsix]) {
    assert.ok(fs.existsSync(f), `${f} exists (cargo build; npx vsce package)`);
  }
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncmon-vscode-'));
  const missing = path.join(runDir, 'no-such-asyncmond');
  const editor = await startCodeServer({ runDir, folder: root, vsix, settings: settings(missing) });
  const runtime = editor.env.XDG_RUNTIME_DIR;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  let shots = 0;
  const shot = (name) => page.screenshot({ path: path.join(runDir, `${String(++shots).padStart(2, '0')}-${name}.png`) });
  t.after(async () => {
    await browser.close().catch(() => undefined);
    editor.stop();
    for (const pid of daemonsUnder(runtime)) process.kill(Number(pid), 'SIGKILL');
  });
  const step = async (name, body) => {
    try {
      return await body();
    } catch (e) {
      await shot(`failed-${name}`).catch(() => undefined);
      e.message = `${name}: ${e.message} (screenshots and logs in ${runDir})`;
      throw e;
    }
  };

  const palette = async (command) => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${command}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first();
    await row.waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
  };
  const toast = (text) => page.locator('.notification-toast', { hasText: text }).first();
  // Ours, not the Git item of a checkout that happens to be named "asyncmon" ("asyncmon (Git) - main").
  const statusItem = () => page.locator('.statusbar-item[aria-label^="asyncmon "][aria-label*=", session "]').first();
  const statusLabel = async () => (await statusItem().count()) ? statusItem().getAttribute('aria-label') : null;

  await step('the workbench loads', async () => {
    await page.goto(editor.url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  });

  await step('no asyncmond: the extension says why, and offers the way out', async () => {
    const error = toast('asyncmond was not found');
    await error.waitFor({ timeout: 60_000 });
    await error.locator('.monaco-button', { hasText: 'Open Settings' }).waitFor();
    await error.locator('.monaco-button', { hasText: 'Show Output' }).waitFor();
    await shot('no-daemon');
    // The tasks view shows what to do, not "There is no data provider registered".
    await page.locator('.pane-header', { hasText: /asyncmon tasks/i }).click();
    const welcome = page.locator('.welcome-view-content', { hasText: 'could not start' });
    await welcome.waitFor();
    await welcome.locator('.monaco-button', { hasText: 'Show Output' }).waitFor();
    // A command still answers, with the reason.
    await page.keyboard.press('Escape');
    await palette('asyncmon: Start demo');
    await waitFor('the reason again after Start demo', 10_000, async () => (await page.locator('.notification-toast', { hasText: 'asyncmond was not found' }).count()) >= 1);
  });

  await step('the right daemon path, set in the Settings editor, takes effect without a reload', async () => {
    await page.locator('.welcome-view-content .monaco-button', { hasText: 'Open Settings' }).click();
    const input = page.locator('.settings-editor .setting-item-control input').first();
    await input.waitFor({ timeout: 30_000 });
    await input.fill(asyncmond);
    await page.keyboard.press('Enter');
    const welcome = page.locator('.welcome-view-content', { hasText: 'No asyncmon session' });
    await welcome.waitFor({ timeout: 30_000 });
    await welcome.locator('.monaco-button', { hasText: 'Start demo' }).waitFor();
    await shot('server-started');
    await page.keyboard.press('Escape');
  });

  await step('open demo.rs', async () => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('demo/src/demo.rs');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'demo.rs' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.tab', { hasText: 'demo.rs' }).waitFor();
  });

  const raiseLine = demoLine('SensorError::timeout(poll)');
  let startToDiagnostic;
  await step('Start demo → the failure at its line', async () => {
    const started = Date.now();
    await palette('asyncmon: Start demo');
    let label;
    await waitFor('the status bar item of a running session', 60_000, async () =>
      /attached, session 1\b/.test((label = await statusLabel()) ?? ''),
    ).catch((e) => {
      throw new Error(`${e.message}; the status bar item said: ${label}`);
    });
    // A click on the status bar item opens the Problems panel.
    await statusItem().click();
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'SensorError: sensor poll' }).filter({ hasText: `[Ln ${raiseLine}` }).first();
    await row.waitFor({ timeout: 60_000 });
    startToDiagnostic = Date.now() - started;
    await shot('problems');
    await waitFor('the repeats to merge', 10_000, async () => /\(×\d+\)/.test(await row.textContent()));
    // The awaited and the gathered failure stay distinct beside the repeats.
    const rows = await page.locator('.markers-panel .monaco-list-row').allTextContents();
    const failures = rows.filter((r) => r.includes('SensorError') || r.includes('Error:'));
    assert.ok(failures.length >= 3, `three distinct failures at least, not a flood: ${JSON.stringify(rows)}`);
    assert.ok(rows.length < 12, `the Problems panel does not flood: ${rows.length} rows`);
    await row.click();
  });

  await step('hover shows the latest failure and its spawn chain', async () => {
    // As a user does: the mouse on the squiggle.
    await page.keyboard.press('Escape');
    const line = page.locator('.view-lines .view-line', { hasText: 'SensorError::timeout(poll)' });
    await line.locator('span', { hasText: /^timeout$/ }).first().hover();
    const hover = page.locator('.monaco-hover', { hasText: 'spawn chain' }).first();
    await hover.waitFor({ timeout: 10_000 });
    const text = await hover.textContent();
    assert.match(text, /spawn chain: sensor_poll ← telemetry ← main/);
    assert.match(text, /more like it/);
    await shot('hover');
    await page.keyboard.press('Escape');
  });

  await step('an inlay hint at the await where telemetry waits', async () => {
    // Go to telemetry's sleep, as a user would (Ctrl+G), and read the line as the editor shows it
    // (its injected text has non-breaking spaces).
    const awaitLine = demoLine('sleep(Duration::from_millis(POLL_PERIOD_MS)).await');
    await page.keyboard.press('Control+G');
    await page.keyboard.type(String(awaitLine));
    await page.keyboard.press('Enter');
    const line = page.locator('.view-lines .view-line', { hasText: 'POLL_PERIOD_MS)).await' }).first();
    await line.waitFor({ timeout: 10_000 });
    await waitFor('the inlay hint naming telemetry', 20_000, async () =>
      /telemetry\swaiting\shere\s·\s[\d.]+\sm?s/.test((await line.textContent()) ?? ''),
    ).catch(async (e) => {
      throw new Error(`${e.message}; the line reads: ${await line.textContent()}`);
    });
    await shot('inlay-hint');
    await page.keyboard.press('Escape');
  });

  let stopToNotification;
  let summary;
  await step('the stop button ends the session with KeyboardInterrupt', async () => {
    const stop = page.locator('.editor-actions .action-label[aria-label*="Stop the firmware"]').first();
    await stop.waitFor();
    const clicked = Date.now();
    await stop.click();
    const ended = toast('KeyboardInterrupt');
    await ended.waitFor({ timeout: 30_000 });
    stopToNotification = Date.now() - clicked;
    summary = (await ended.locator('.notification-list-item-message').innerText()).trim();
    assert.match(summary, /stopped — KeyboardInterrupt: cancelled .*main/);
    await shot('stopped');
    await waitFor('the stop button to go', 10_000, async () => (await stop.count()) === 0);
    // The tasks view says how each task ended, not "running".
    const main = page.locator('.monaco-list-row', { hasText: 'main #0' });
    await waitFor('main to read cancelled in the tasks view', 10_000, async () => /cancelled/.test((await main.first().textContent()) ?? ''));
    assert.match(await statusLabel(), /exited, session 1/);
    // The failures stay until the next start, as a compiler's errors do.
    assert.ok((await page.locator('.markers-panel .monaco-list-row', { hasText: 'SensorError' }).count()) > 0);
  });

  await step('Start demo again starts a new session', async () => {
    await palette('asyncmon: Start demo');
    await waitFor('a new session', 60_000, async () => /attached, session 2/.test((await statusLabel()) ?? ''));
    await page.locator('.markers-panel .monaco-list-row', { hasText: 'SensorError: sensor poll' }).filter({ hasText: `[Ln ${raiseLine}` }).first().waitFor({ timeout: 60_000 });
    assert.equal(daemonsUnder(runtime).length, 1, 'one daemon serves the editor');
    await shot('again');
  });

  // The debug view: F5 runs the workspace's launch.json ("asyncmon: demo"); with the session Start
  // demo began still running, the adapter follows it.
  let f5ToStop;
  await step('F5: the debug toolbar, the failure stop at its line, tasks in the Call Stack', async () => {
    await page.keyboard.press('Escape');
    const pressed = Date.now();
    await page.keyboard.press('F5');
    await page.locator('.debug-toolbar').waitFor({ timeout: 30_000 });
    // The demo's unretrieved failure stops the view: the exception widget at the raise line.
    const widget = page.locator('.exception-widget', { hasText: 'SensorError' }).first();
    await widget.waitFor({ timeout: 30_000 });
    f5ToStop = Date.now() - pressed;
    assert.match(await widget.innerText(), /sensor poll #\d+ timed out/);
    await shot('debug-exception');
    await palette('View: Show Run and Debug');
    const callStack = page.locator('.debug-call-stack');
    const failed = callStack.locator('.monaco-list-row', { hasText: 'sensor_poll (failed)' }).first();
    await failed.waitFor({ timeout: 10_000 });
    assert.match(await failed.innerText(), /SensorError \(never retrieved\)/i); // The badge is upper case.
    await failed.locator('.monaco-tl-twistie').click(); // Expands the thread: its frames.
    await callStack.locator('.monaco-list-row', { hasText: 'sensor_poll spawned by telemetry' }).first().waitFor({ timeout: 10_000 });
    // telemetry is a thread; its await trace is its stack; its frame opens the line it waits at.
    await callStack.locator('.monaco-list-row', { hasText: '#2 telemetry' }).first().locator('.monaco-tl-twistie').click();
    const frame = callStack.locator('.monaco-list-row', { hasText: 'asyncmon_demo::demo::telemetry' }).first();
    await frame.waitFor({ timeout: 10_000 });
    await frame.click();
    const awaitLine = demoLine('sleep(Duration::from_millis(POLL_PERIOD_MS)).await');
    const position = page.locator('.statusbar-item[id="status.editor.selection"]');
    await waitFor(`the cursor at line ${awaitLine}`, 10_000, async () =>
      new RegExp(`Ln ${awaitLine},`).test((await position.textContent()) ?? ''),
    );
    await shot('debug-call-stack');
  });

  const repl = () => page.locator('.repl').innerText().catch(() => '');
  await step('the toolbar restarts the target: a new session', async () => {
    await page.locator('.debug-toolbar .action-label[aria-label^="Restart"]').click();
    await waitFor('session 3 in the Debug Console', 30_000, async () => /session 3 started/.test(await repl()));
  });

  await step('the toolbar stops the firmware with KeyboardInterrupt', async () => {
    await page.locator('.debug-toolbar .action-label[aria-label^="Stop"]').click();
    await waitFor('the debug toolbar to go', 30_000, async () => !(await page.locator('.debug-toolbar').isVisible()));
    const text = await repl();
    assert.match(text, /KeyboardInterrupt: cancelled main/);
    assert.match(text, /the firmware ended: KeyboardInterrupt \(exit code 130\)/);
    await shot('debug-stopped');
  });

  await step('the server output tells the truth', async () => {
    const log = filesBelow(editor.logsDir, 'asyncmon server.log').map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    const after = log.slice(log.lastIndexOf('language server started'));
    assert.match(after, /following the daemon at/);
    assert.doesNotMatch(after, /No such file or directory|error/i);
  });

  await step('the daemon and firmware end with the editor', async () => {
    await browser.close();
    editor.stop();
    await waitFor('the daemon to end', 20_000, async () => daemonsUnder(runtime).length === 0);
  });

  console.log(`# Start demo → first diagnostic: ${startToDiagnostic} ms; stop click → notification: ${stopToNotification} ms; F5 → exception stop: ${f5ToStop} ms`);
  console.log(`# ${summary}`);
});
