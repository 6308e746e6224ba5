// Labs, pure: the lab file's types, its member graph, its checks against a cluster, and the plan from the lab as
// applied to the lab as written.

export * from './actual';
export * from './graph';
export type * from './inventory';
export * from './ip';
export * from './issues';
export type * from './model';
export * from './networks';
export * from './networks-cluster';
export * from './placement';
export * from './plan';
export * from './plan-items';
export * from './resolve';
export * from './spec';
export * from './units';
export * from './validate';
