// Public face of machines/: pure XState machines and the domain types they share.

export * from './host.machine';
export * from './incident.machine';
export * from './lease.machine';
export * from './loops/execution-loop.machine';
export * from './loops/periodic-loop.machine';
export * from './monitor';
export * from './overseer.machine';
export * from './request.machine';
export * from './types';
export * from './unprovided';
export * from './vm.machine';
