import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const build = (await import(new URL('../../scripts/build.mjs', import.meta.url).href)) as { isCurrent: () => boolean };

/**
 * `node` arguments that run the server as `npm start` does, from dist/, when dist was built after
 * the last change to src/; otherwise src/server.ts through tsx, so a test never runs stale code
 * (bin/relate.js decides the same way for the CLI). Both run the same esbuild output, but loading
 * it through tsx costs each start seconds of CPU, and the suites start dozens of servers.
 * `preload`: modules for `--import` before the server's own (its cluster workers inherit them).
 */
export function serverArgs(preload: string[] = []): string[] {
  const imports = preload.flatMap((module) => ['--import', module]);
  return build.isCurrent() ? [...imports, 'dist/server.js'] : ['--import', 'tsx', ...imports, 'src/server.ts'];
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in the project folder to completion, with extra environment. */
export function runNode(args: string[], env: Record<string, string>): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the `relate` command as a user would (bin/relate.js), against the given database. */
export const relate = (args: string[], env: Record<string, string>) =>
  runNode(['bin/relate.js', ...args], { ...env, LOG_LEVEL: 'error' });

export interface RunningServer {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<Finished>;
}

/**
 * Starts the server on a free port and waits until it listens: `node <args>`, by default the
 * project's server (serverArgs: dist/ when it is current, else src/ through tsx; a compiled build
 * of its own: its server.js).
 */
export function startServer(env: Record<string, string>, args = serverArgs()): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<Finished>((done) => child.on('close', (code) => done({ code, stdout, stderr })));
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stdout}\n${stderr}`)), 60_000);
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /"url":"(http:\/\/localhost:\d+)\/graphql"/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1]!,
          output: () => stdout + stderr,
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.on('error', reject);
    void exited.then((result) => reject(new Error(`server exited early (${result.code}):\n${stdout}\n${stderr}`)));
  });
}
