import { describe, expect, it } from 'vitest';
import { kubeSkipReason, parseKubeContexts } from './cluster.ts';

describe('kube scenario environment', () => {
  it('parses the contexts of both roles', () => {
    expect(parseKubeContexts('observer=ctxA, observee=ctxB')).toEqual({ observer: 'ctxA', observee: 'ctxB' });
    expect(parseKubeContexts('observee=one,observer=one')).toEqual({ observer: 'one', observee: 'one' });
  });

  it('names what is wrong in a one-line error', () => {
    expect(() => parseKubeContexts('observer=ctxA')).toThrow(/needs both observer=<context> and observee=<context>/);
    expect(() => parseKubeContexts('observer=ctxA,watcher=ctxB')).toThrow('THANOS_HA_E2E_KUBE_CONTEXTS: "watcher=ctxB" is not observer=<context> or observee=<context>');
    expect(() => parseKubeContexts('observer')).toThrow(/"observer" is not/);
  });

  it('runs only on the kube substrate with contexts', () => {
    expect(kubeSkipReason({})).toMatch(/^needs THANOS_HA_E2E_SUBSTRATE=kube \(is process\)/);
    expect(kubeSkipReason({ THANOS_HA_E2E_SUBSTRATE: 'kube' })).toMatch(/needs THANOS_HA_E2E_KUBE_CONTEXTS/);
    expect(kubeSkipReason({ THANOS_HA_E2E_SUBSTRATE: 'kube', THANOS_HA_E2E_KUBE_CONTEXTS: 'observer=a,observee=b' })).toBeUndefined();
  });
});
