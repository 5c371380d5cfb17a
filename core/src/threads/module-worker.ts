/**
 * Starts a worker thread on one of the core's own modules, wherever the host
 * runs from: compiled (core/dist, or the bundle, whose `import.meta.url`
 * still names the compiled file) the worker loads the `.js` next to the
 * caller; from source (tsx) it registers tsx first and imports the `.ts`.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { keepYoungGenerationSmall, workerResourceLimits } from './young-generation.ts';

/**
 * @param here  the caller's `import.meta.url`
 * @param entry the worker's module name without extension, relative to the caller (e.g. `./engine-thread-main`)
 */
export function moduleWorker(here: string, entry: string, given: WorkerOptions): Worker {
  const options: WorkerOptions = { ...given, resourceLimits: { ...workerResourceLimits(), ...given.resourceLimits } };
  let worker: Worker;
  if (!here.endsWith('.ts')) {
    worker = new Worker(new URL(`${entry}.js`, here), options);
  } else {
    const source = new URL(`${entry}.ts`, here).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(source)}); })`;
    worker = new Worker(bootstrap, { ...options, eval: true });
  }
  keepYoungGenerationSmall(worker);
  return worker;
}
