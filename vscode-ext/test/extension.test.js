// activate() against a stubbed `vscode` module and language client: it starts `asyncmond lsp` from
// the workspace build, registers the commands, and turns the server's notifications into the stop
// button's context key, the status bar item, the task view and the firmware log channel; the Stop
// command sends the server's asyncmon.stop.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Module = require('node:module');

function stubs(workspace) {
  const calls = { commands: {}, context: {}, requests: [], lines: [], status: { shown: false } };
  const handlers = {};
  class EventEmitter {
    constructor() {
      this.listeners = [];
      this.event = (l) => this.listeners.push(l);
    }
    fire() {
      this.listeners.forEach((l) => l());
    }
  }
  const vscode = {
    workspace: {
      workspaceFolders: [{ uri: { fsPath: workspace } }],
      getConfiguration: () => ({ get: () => undefined }),
    },
    window: {
      createOutputChannel: (name) => ({ name, appendLine: (l) => calls.lines.push([name, l]), dispose() {} }),
      createStatusBarItem: () => {
        const item = { show: () => (calls.status.shown = true), hide: () => (calls.status.shown = false), dispose() {} };
        calls.status.item = item;
        return item;
      },
      registerTreeDataProvider: (id, provider) => {
        calls.tree = provider;
        return { dispose() {} };
      },
      showErrorMessage: (m) => calls.lines.push(['error', m]),
      setStatusBarMessage: () => {},
    },
    commands: {
      registerCommand: (id, f) => {
        calls.commands[id] = f;
        return { dispose() {} };
      },
      executeCommand: (id, key, value) => {
        if (id === 'setContext') calls.context[key] = value;
      },
    },
    EventEmitter,
    TreeItem: class {
      constructor(label) {
        this.label = label;
      }
    },
    ThemeIcon: class {
      constructor(id) {
        this.id = id;
      }
    },
    StatusBarAlignment: { Left: 1 },
    Uri: { file: (p) => ({ fsPath: p }) },
  };
  const languageclient = {
    TransportKind: { stdio: 0 },
    LanguageClient: class {
      constructor(id, name, server) {
        calls.server = server;
      }
      async start() {}
      async stop() {}
      onNotification(method, handler) {
        handlers[method] = handler;
        return { dispose() {} };
      }
      async sendRequest(method, params) {
        calls.requests.push([method, params]);
        return null;
      }
    },
  };
  return { vscode, languageclient, calls, handlers };
}

test('activate wires the server, the commands and the session views', async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncmon-ext-'));
  const daemon = path.join(workspace, 'target', 'debug', 'asyncmond');
  fs.mkdirSync(path.dirname(daemon), { recursive: true });
  fs.writeFileSync(daemon, '#!/bin/sh\n', { mode: 0o755 });
  const { vscode, languageclient, calls, handlers } = stubs(workspace);
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (request === 'vscode') return vscode;
    if (request === 'vscode-languageclient/node') return languageclient;
    return load.call(this, request, ...rest);
  };
  const savedPath = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const extension = require('../out/extension');
    const subscriptions = [];
    await extension.activate({ subscriptions, workspaceState: { get: () => undefined, update: async () => {} } });

    assert.deepEqual(calls.server, { command: daemon, args: ['lsp'], transport: 0 });
    assert.deepEqual(Object.keys(calls.commands).sort(), [
      'asyncmon.ui.attach', 'asyncmon.ui.hardStop', 'asyncmon.ui.runElf', 'asyncmon.ui.startDemo', 'asyncmon.ui.stop',
    ]);

    handlers['asyncmon/session']({
      connected: true, target: 'sim: demo', state: 'attached', stateText: 'attached', epoch: 1,
      firmware: 'asyncmon-demo', failures: 2, interrupt: null,
      tasks: [{ id: 5, name: 'sensor_poll', state: 'failed', failures: 2 }],
    });
    assert.equal(calls.context['asyncmon.sessionRunning'], true, 'the stop button shows');
    assert.equal(calls.status.shown, true);
    assert.equal(calls.status.item.text, '$(error) asyncmon-demo: attached · 2 failures');
    assert.deepEqual(calls.tree.getChildren().map((i) => [i.label, i.description]), [['sensor_poll #5', 'failed · 2 failed']]);

    await calls.commands['asyncmon.ui.stop']();
    assert.deepEqual(calls.requests.at(-1), ['workspace/executeCommand', { command: 'asyncmon.stop', arguments: [] }]);
    await calls.commands['asyncmon.ui.startDemo']();
    assert.deepEqual(calls.requests.at(-1), ['workspace/executeCommand', { command: 'asyncmon.attach', arguments: ['demo'] }]);

    handlers['asyncmon/logs']({ lines: ['  0.300s INFO  sensor_poll: 22 C  (demo/src/demo.rs:172)'], dropped: 0 });
    assert.deepEqual(calls.lines.at(-1), ['asyncmon firmware', '  0.300s INFO  sensor_poll: 22 C  (demo/src/demo.rs:172)']);

    handlers['asyncmon/session']({
      connected: true, target: 'sim: demo', state: 'exited', stateText: 'KeyboardInterrupt (exit code 130)', epoch: 1,
      firmware: 'asyncmon-demo', failures: 2, interrupt: 'KeyboardInterrupt: main Cancelled', tasks: [],
    });
    assert.equal(calls.context['asyncmon.sessionRunning'], false, 'the stop button goes away');
    assert.equal(calls.status.shown, false);
  } finally {
    Module._load = load;
    process.env.PATH = savedPath;
  }
});
