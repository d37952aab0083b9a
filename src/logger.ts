/** One JSON line per event on stderr: what a log collector wants, and quiet in tests. */
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const threshold = order[(process.env.LOG_LEVEL as Level) ?? ''] ?? (process.env.VITEST ? order.error + 1 : order.info);

function log(level: Level, message: string, ...data: unknown[]) {
  if (order[level] < threshold) return;
  const fields = data.length === 1 && typeof data[0] === 'object' ? data[0] : data.length ? { data } : {};
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...(fields as object) })}\n`);
}

export const logger = {
  debug: (message: string, ...data: unknown[]) => log('debug', message, ...data),
  info: (message: string, ...data: unknown[]) => log('info', message, ...data),
  warn: (message: string, ...data: unknown[]) => log('warn', message, ...data),
  error: (message: string, ...data: unknown[]) => log('error', message, ...data),
};
