// The prometheus-operator release the operator scenario runs (finding C, prometheus-operator #4414).
// The binaries, the images, the CRDs and the ClusterRole all come from this one module version.
import { z } from 'zod';
import { readVersionsSection } from '../binaries/versions.ts';

// Pinned in fixtures/versions.json ("prometheusOperator", with why), but not a binary that `setup`
// provisions: only the kube substrate needs it, so it is built on demand like the local cluster's own
// binaries (local-cluster/versions.ts).
//
// It matters which side of 0.93.0 it is: from 0.93.0, with Prometheus >= 3.9 and a Thanos sidecar
// >= 0.41 (0.42 from operator 0.94.0), the operator keeps local compaction on ("delayed compaction")
// and no longer sets --storage.tsdb.min/max-block-duration itself; see scenarios/operator-block-size.e2e.ts.
const pinned = readVersionsSection('prometheusOperator', z.object({ version: z.string().regex(/^\d+\.\d+\.\d+$/), goModule: z.string().min(1) }));

export const PROMETHEUS_OPERATOR = { module: pinned.goModule, version: pinned.version } as const;
