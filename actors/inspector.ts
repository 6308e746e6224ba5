// The XState inspector: every actor's inspection events streamed to a WebSocket inspector
// (OVERSEER_INSPECT=ws://host:port), with @statelyai/inspect.
import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent, Observer } from 'xstate';
import type { Log } from '../adapters/log';
import { ConfigError } from './config';

export interface RunningInspector {
  inspect: Observer<InspectionEvent>;
  stop(): void;
}

export function createInspector(url: string, log: Log): RunningInspector {
  if (!/^wss?:\/\/[^\s/]+(:\d+)?(\/\S*)?$/.test(url)) {
    throw new ConfigError(`OVERSEER_INSPECT must be a ws:// or wss:// URL (got '${url}')`, 'OVERSEER_INSPECT');
  }
  const inspector = createWebSocketInspector({ url });
  log.info(`streaming XState inspection events to ${url}`);
  return { inspect: inspector.inspect, stop: () => inspector.stop() };
}
