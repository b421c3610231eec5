/** A pino logger whose lines are kept in memory, parsed, for in-process tests that check what a run logged. */
import pino from 'pino';
import type { Logger } from '../../src/logger.ts';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface CapturedLog {
  log: Logger;
  lines: LogLine[];
  /** The lines at pino's numeric level (30 info, 40 warn). */
  at: (level: number) => LogLine[];
}

export function captureLog(level: pino.LevelWithSilent = 'trace'): CapturedLog {
  const lines: LogLine[] = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines, at: (wanted) => lines.filter((line) => line.level === wanted) };
}

export const INFO = 30;
export const WARN = 40;
