// Pure parts of the image builder; building real images needs Docker and runs only in `npm run images`.
import { describe, expect, it } from 'vitest';
import { parseLdd } from './components.ts';
import { CONTENT_LABEL, imageTarPath, importChanges } from './image.ts';

describe('parseLdd', () => {
  it('lists the loader and every resolved library of a dynamic binary', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd6b7e4000)',
      '\tlibresolv.so.2 => /lib/x86_64-linux-gnu/libresolv.so.2 (0x00007f1c2a3c6000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c2a1e5000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f1c2a3e9000)',
    ].join('\n');
    expect(parseLdd(output)).toEqual([
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib/x86_64-linux-gnu/libresolv.so.2',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('fails on a library this machine does not have', () => {
    expect(() => parseLdd('\tlibfoo.so.1 => not found')).toThrow(/missing on this machine: libfoo.so.1/);
  });
});

describe('importChanges', () => {
  it('sets entrypoint, labels and the content hash the next run compares', () => {
    const changes = importChanges({ tag: 't/x:1', files: {}, entrypoint: ['/bin/x'], labels: { a: 'b c' } }, 'abc');
    expect(changes).toEqual(['ENTRYPOINT ["/bin/x"]', 'LABEL a="b c"', `LABEL ${CONTENT_LABEL}="abc"`]);
  });
});

describe('imageTarPath', () => {
  it('names the tar after the tag and the content hash, under the cache', () => {
    expect(imageTarPath('thanos-ha-e2e/thanos:0.42.4', 'f'.repeat(64), { THANOS_HA_E2E_CACHE: '/c' })).toBe(
      '/c/images/thanos-ha-e2e_thanos_0.42.4-ffffffffffff.tar',
    );
  });
});
