// The language server's command line. Pure.

/** The server's arguments: `lsp`, after `--socket` when one is set. vscode-languageclient appends
 *  `--stdio` itself (TransportKind.stdio), which `asyncmond lsp` accepts. */
export function serverArgs(socket: string | undefined): string[] {
  return socket && socket.trim() !== '' ? ['--socket', socket.trim(), 'lsp'] : ['lsp'];
}
