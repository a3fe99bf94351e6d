// The binaries the harness provisions (fixtures/versions.json pins each).
//
// helm, kubectl-validate and kind run on the test side only: helm renders (and, on the Kubernetes
// substrates, installs) charts/; kubectl-validate checks the rendered manifests against Kubernetes' schemas;
// kind creates the kind substrate's clusters.
export const BINARY_NAMES = ['thanos', 'prometheus', 'promtool', 'alertmanager', 'versitygw', 'helm', 'kubectl-validate', 'kind'] as const;
export type BinaryName = (typeof BINARY_NAMES)[number];
