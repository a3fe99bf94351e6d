// The prometheus-operator release the operator scenario runs (finding C, prometheus-operator #4414).
// The one place its version is written: the binaries, the images, the CRDs and the ClusterRole all
// come from this module version.
//
// Not in fixtures/versions.json: that file pins what harness/binaries provisions for every run
// (`setup`, CI, the e2e globalSetup); the operator is only needed by the kube substrate, so it is
// built on demand like the local cluster's own binaries (local-cluster/versions.ts).
//
// 0.93.1 (2026-08-10) is the newest release whose three modules the Go module proxy serves here:
// the build needs the main module and its nested pkg/apis/monitoring and pkg/client at the same
// version, and the proxy answers 403 for pkg/client v0.94.0 and v0.94.1 (and for v0.95.0 at all).
// It matters which side of 0.93.0 it is: from 0.93.0, with Prometheus >= 3.9 and a Thanos sidecar
// >= 0.41 (0.42 from operator 0.94.0; the harness pins 3.9.1 and 0.42.4), the operator keeps local
// compaction on ("delayed compaction") and no longer sets --storage.tsdb.min/max-block-duration
// itself; see scenarios/operator-block-size.e2e.ts.
export const PROMETHEUS_OPERATOR = {
  module: 'github.com/prometheus-operator/prometheus-operator',
  version: '0.93.1',
} as const;
