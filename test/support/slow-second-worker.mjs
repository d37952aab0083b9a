// Preloaded with `--import`: holds the cluster's second worker back for RELATE_TEST_SLOW_WORKER_MS
// before the server's code loads, as a slow start on a busy machine would.
import cluster from 'node:cluster';

if (cluster.isWorker && cluster.worker.id === 2) {
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.RELATE_TEST_SLOW_WORKER_MS ?? 0)));
}
