// Azurite from its npm package, as a child process: persisted under a folder
// for `npm start`, in memory for tests. Port 0 lets the OS pick free ports;
// the ports it took are read off Azurite's own "listening at" lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { azuriteConnectionString } from '../lib/storage/developmentStorage';

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

export interface AzuriteOptions {
  /** Where data is kept; omitted means in memory. */
  location?: string;
  ports: AzuritePorts;
  /** Lines Azurite prints that are not its start-up notices. */
  onOutput?: (line: string) => void;
}

export interface RunningAzurite {
  ports: AzuritePorts;
  connectionString: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/;
const START_TIMEOUT_MS = 30_000;

export async function startAzurite(options: AzuriteOptions): Promise<RunningAzurite> {
  const args = [
    require.resolve('azurite/dist/src/azurite.js'),
    '--blobPort',
    String(options.ports.blob),
    '--queuePort',
    String(options.ports.queue),
    '--tablePort',
    String(options.ports.table),
    '--silent',
    '--disableTelemetry',
    // The SDKs may be newer than the Azurite release; the API surface we use is old.
    '--skipApiVersionCheck',
  ];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }

  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const seen: Partial<AzuritePorts> = {};
  const notices: string[] = [];

  const ready = new Promise<AzuritePorts>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Azurite did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const onLine = (line: string) => {
      const match = LISTENING.exec(line);
      if (match) {
        seen[match[1]!.toLowerCase() as keyof AzuritePorts] = Number(match[2]);
        if (seen.blob && seen.queue && seen.table) {
          clearTimeout(timer);
          resolve(seen as AzuritePorts);
        }
      } else if (/^Azurite .* service|extent storage is enabled|^Closing|^Azurite successfully/i.test(line)) {
        notices.push(line);
      } else {
        notices.push(line);
        options.onOutput?.(line);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited (code ${code}) before it was ready:\n${notices.join('\n')}`));
    });
  });

  let ports: AzuritePorts;
  try {
    ports = await ready;
  } catch (error) {
    child.kill();
    throw error;
  }

  return {
    ports,
    connectionString: azuriteConnectionString(ports),
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
