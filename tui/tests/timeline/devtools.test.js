// `asyncmon demo --perfetto OUT` opens as a timeline in a real trace viewer: Chromium's DevTools
// Performance panel (its trace app, the viewer Chromium ships; ui.perfetto.dev is a web app this
// machine cannot reach, and Chromium 156 has no chrome://tracing). The trace is loaded the way a
// user loads one, through the panel's "Load profile" button, and read back through DevTools' own
// trace engine (the code the panel draws from): one process, a thread per task with its life as a
// slice and each of its polls (the demo's `poll-trace`) as a slice inside it.
//
// Needs the debug build of `asyncmon` (`cargo build -p asyncmon-tui`), Debian's chromium and
// vscode-ext's node_modules (playwright-core): .ci/run has all three by the time it runs this.
// Run: node --test tui/tests/timeline/

const { test } = require('node:test');
const assert = require('node:assert');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const repo = path.join(__dirname, '..', '..', '..');
const asyncmon = path.join(repo, 'target', 'debug', 'asyncmon');
const { chromium } = require(path.join(repo, 'vscode-ext', 'node_modules', 'playwright-core'));

/** Runs the demo with --perfetto until its first unretrieved failure, stops it; returns the trace. */
async function liveTimeline(dir) {
  const socket = path.join(dir, 'd.sock');
  const out = path.join(dir, 'live.json');
  const demo = spawn(asyncmon, ['demo', '--plain', '--socket', socket, '--perfetto', out], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise((resolve) => demo.on('exit', (code) => resolve(code)));
  const lines = readline.createInterface({ input: demo.stdout });
  for await (const line of lines) {
    if (line.includes('sensor poll #')) break;
  }
  execFileSync(asyncmon, ['stop', '--socket', socket]);
  lines.resume();
  assert.strictEqual(await exited, 130, "the demo ends with KeyboardInterrupt's exit code");
  return out;
}

test('a live session stopped with --perfetto opens as a timeline in Chromium DevTools', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncmon-timeline-'));
  const trace = await liveTimeline(dir);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto('devtools://devtools/bundled/trace_app.html');
    // The trace app has no page to inspect, and says so in a dialog ("Debugging connection was
    // closed") that covers the window once it has loaded: close it, then open the Performance
    // panel, which loads files.
    const dialog = page.getByText('Reconnect DevTools');
    await dialog.waitFor({ timeout: 15000 }).catch(() => {});
    for (let tries = 0; tries < 100 && (await dialog.isVisible()); tries++) {
      await page.keyboard.press('Escape');
      await page.waitForTimeout(100);
    }
    await page.getByText('Performance', { exact: true }).first().click();
    const load = page.getByRole('button', { name: /Load (profile|trace)/ });
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), load.first().click()]);
    await chooser.setFiles(trace);
    // Loaded: the timeline's detail tabs replace the landing page.
    await page.getByText('Bottom-up', { exact: true }).waitFor({ timeout: 20000 });
    await page.screenshot({ path: path.join(dir, 'timeline.png') });

    // What the panel drew from: DevTools' trace engine, given the same file.
    const threads = await page.evaluate(async (json) => {
      const Trace = await import('./models/trace/trace.js');
      const processor = Trace.Processor.TraceProcessor.createWithAllHandlers();
      await processor.parse(JSON.parse(json).traceEvents, { isFreshRecording: false });
      const parsed = processor.parsedTrace ?? processor.data;
      const found = [];
      for (const [pid, process] of parsed.Renderer.processes) {
        for (const [tid, thread] of process.threads) {
          // The slices as the panel nests them: each root with the names of its children.
          const roots = [...(thread.tree?.roots ?? [])].map((node) => ({
            name: node.entry.name,
            children: [...(node.children ?? [])].map((child) => child.entry.name),
          }));
          found.push({ pid, tid, name: thread.name, slices: (thread.entries || []).map((e) => e.name), roots });
        }
      }
      return found;
    }, fs.readFileSync(trace, 'utf8'));
    const named = (prefix) => threads.find((t) => (t.name || '').startsWith(prefix));
    for (const task of ['main (task ', 'telemetry (task ', 'sensor_poll (task ']) {
      const thread = named(task);
      assert.ok(thread, `a track for ${task}…: ${JSON.stringify(threads.map((t) => t.name))}`);
      assert.ok(thread.slices.length >= 1, `${thread.name} has its life as a slice`);
    }
    // Each poll is a slice inside its task's life: telemetry's and uart_rx's lives hold theirs.
    for (const task of ['telemetry (task ', 'uart_rx (task ']) {
      const thread = named(task);
      assert.ok(thread, `a track for ${task}…`);
      const life = thread.roots.find((root) => root.name === thread.name.split(' (task')[0]);
      assert.ok(life, `${thread.name}'s life is a root slice: ${JSON.stringify(thread.roots.slice(0, 5))}`);
      const polls = life.children.filter((name) => name === 'poll').length;
      assert.ok(polls >= 1, `${thread.name}'s polls are slices inside its life: ${JSON.stringify(life)}`);
      assert.ok(thread.roots.every((root) => root.name !== 'poll'), `no poll of ${thread.name} outside its life`);
    }
    assert.ok(new Set(threads.map((t) => t.pid)).size === 1, 'one process: the target');
  } finally {
    await browser.close();
  }
});
