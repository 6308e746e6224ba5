// ELK (elkjs) runs in a Web Worker, loaded the first time a graph is drawn: its layout never blocks the page,
// and its ~1.6 MB are fetched only by the views that draw graphs (the inspector, a lab's dependencies).
import type { ELK, ElkNode } from 'elkjs/lib/elk-api';

let elk: Promise<ELK> | undefined;

function load(): Promise<ELK> {
  elk ??= Promise.all([import('elkjs/lib/elk-api.js'), import('elkjs/lib/elk-worker.min.js?url')]).then(
    ([api, worker]) => new api.default({ workerUrl: worker.default }),
  );
  // A failed load (offline, a bad deploy) is tried again next time.
  elk.catch(() => {
    elk = undefined;
  });
  return elk;
}

/** The graph laid out by ELK: positions and sizes of every node, edge section and label. */
export async function layoutGraph(graph: ElkNode): Promise<ElkNode> {
  return (await load()).layout(graph);
}
