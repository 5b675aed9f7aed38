// The target words `asyncmon.attach` takes, from the user's answers and settings. Pure.

export interface BoardChoice {
  elf: string;
  chip: string;
  probe?: string;
}

/** Words for a board through a debug probe: flash the ELF, run it, attach. */
export function probeWords(choice: BoardChoice): string[] {
  // Values go with their option and the ELF after `--`: no answer is taken for an option.
  const words = ['probe', `--chip=${choice.chip}`];
  if (choice.probe && choice.probe.trim() !== '') words.push(`--probe=${choice.probe.trim()}`);
  words.push('--', choice.elf);
  return words;
}

/** Words for an RTT TCP server (OpenOCD, J-Link) and the firmware's ELF. */
export function tcpWords(address: string, elf: string): string[] {
  return ['tcp', `--elf=${elf}`, '--', address];
}

/** Words for a firmware built for the host, run as a simulated board. */
export function simWords(program: string): string[] {
  return ['sim', '--', program];
}

/** Why a chip name cannot be right, or `undefined`. (The daemon checks it against probe-rs's list.) */
export function checkChip(chip: string): string | undefined {
  if (chip.trim() === '') return 'the chip name is needed, as probe-rs names it (nRF52840_xxAA)';
  if (/\s/.test(chip.trim())) return 'a chip name has no spaces';
  return undefined;
}
