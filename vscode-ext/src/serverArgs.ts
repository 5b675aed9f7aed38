// The language server's command line. Pure.

/** The server's arguments: `lsp` (or `dap`, the debug adapter), after `--socket` when one is set.
 *  vscode-languageclient appends `--stdio` itself (TransportKind.stdio), which `asyncmond lsp`
 *  accepts. The language server and the debug adapter use the same socket, so they follow the same
 *  daemon. */
export function serverArgs(socket: string | undefined, command: 'lsp' | 'dap' = 'lsp'): string[] {
  return socket && socket.trim() !== '' ? ['--socket', socket.trim(), command] : [command];
}
