// Clusters that cannot be read, or that have lost quorum.
import { condition, subjectOf } from '../condition';
import type { Condition, Detector } from '../types';

export const detectClusters: Detector = ({ input }) => {
  const conditions: Condition[] = [];
  for (const info of input.clusters.values()) {
    const subject = subjectOf.cluster(info.cluster);
    if (!info.reachable) {
      conditions.push(
        condition('cluster-unreachable', subject, 'critical', `Cluster ${info.cluster} cannot be read`, {
          reachable: false,
        }),
      );
    } else if (!info.quorate) {
      conditions.push(
        condition(
          'cluster-no-quorum',
          subject,
          'critical',
          `Cluster ${info.cluster} has lost quorum: no VM operation is possible until it is back`,
          { quorate: false },
        ),
      );
    }
  }
  return { conditions };
};
