// Where a cluster's pods keep their data: on a PersistentVolumeClaim per StatefulSet where the cluster
// has a default StorageClass (kind's local-path, EKS' gp2/gp3), as the note's StatefulSets had EBS
// volumes, so that a stopped or killed Prometheus or receive restarts with its data; on an emptyDir
// otherwise (it then restarts empty). Pure: the deploy path reads the StorageClasses and logs the line.
//
//   THANOS_HA_E2E_STORAGE_CLASS   unset or empty: the cluster's default StorageClass, emptyDir without one
//                                 emptyDir: emptyDir whatever the cluster has
//                                 <name>: that StorageClass (it must exist)
import type { V1StorageClass } from '@kubernetes/client-node';
import type { Storage } from './values.ts';

/** What each claim requests: the data of one pod for a run of a few hours at most. */
export const VOLUME_SIZE = '1Gi';

/** The annotations that make a StorageClass the default one (the beta one is still honoured by the DefaultStorageClass admission plugin). */
export const DEFAULT_CLASS_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

export const STORAGE_CLASS_ENV = 'THANOS_HA_E2E_STORAGE_CLASS';

export interface StorageChoice {
  storage: Storage;
  /** One line for the progress log: what the data is on, and why. */
  line: string;
}

export const isDefaultClass = (c: V1StorageClass): boolean => DEFAULT_CLASS_ANNOTATIONS.some((a) => c.metadata?.annotations?.[a] === 'true');

/**
 * The data volumes of one Kubernetes cluster, from its StorageClasses (or why they could not be
 * listed) and THANOS_HA_E2E_STORAGE_CLASS. The default class is used by leaving storageClassName out,
 * so the cluster's DefaultStorageClass admission picks it (the newest one where several are marked).
 * Throws a one-line error for a requested class the cluster does not have.
 */
export function chooseStorage(classes: V1StorageClass[] | { error: string }, context: string, requested = ''): StorageChoice {
  const restartsEmpty = 'a killed or stopped instance restarts empty';
  if (requested === 'emptyDir') return { storage: { type: 'emptyDir' }, line: `data on emptyDir in ${context} (${STORAGE_CLASS_ENV}=emptyDir): ${restartsEmpty}` };
  if ('error' in classes) {
    if (requested) throw new Error(`${STORAGE_CLASS_ENV}=${requested}, but the StorageClasses of ${context} cannot be read: ${classes.error}`);
    return { storage: { type: 'emptyDir' }, line: `data on emptyDir in ${context}: its StorageClasses cannot be read (${classes.error}); ${restartsEmpty}` };
  }
  const claim = (storageClassName?: string): Storage => ({ type: 'persistentVolumeClaim', size: VOLUME_SIZE, ...(storageClassName ? { storageClassName } : {}) });
  const describe = (c: V1StorageClass) => `${c.metadata!.name} (${c.provisioner}, reclaim ${c.reclaimPolicy ?? 'Delete'})`;
  if (requested) {
    const found = classes.find((c) => c.metadata?.name === requested);
    if (!found) {
      const names = classes.map((c) => c.metadata?.name).filter(Boolean);
      throw new Error(`${STORAGE_CLASS_ENV}=${requested}: ${context} has no such StorageClass (it has: ${names.join(', ') || 'none'}; or set emptyDir)`);
    }
    return { storage: claim(requested), line: `data on a ${VOLUME_SIZE} PersistentVolumeClaim per pod with data in ${context}, StorageClass ${describe(found)} (${STORAGE_CLASS_ENV})` };
  }
  const defaults = classes.filter(isDefaultClass);
  if (defaults.length === 0) {
    const others = classes.map((c) => c.metadata?.name).filter(Boolean);
    return {
      storage: { type: 'emptyDir' },
      line: `data on emptyDir in ${context}: no default StorageClass${others.length ? ` (it has ${others.join(', ')}: set ${STORAGE_CLASS_ENV} to use one)` : ''}; ${restartsEmpty}`,
    };
  }
  return { storage: claim(), line: `data on a ${VOLUME_SIZE} PersistentVolumeClaim per pod with data in ${context}, default StorageClass ${defaults.map(describe).join(', ')}` };
}
