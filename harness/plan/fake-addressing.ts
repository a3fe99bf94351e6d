// For plan unit tests: a fake substrate layout in which every (instance, port) gets a distinct,
// recognisable address, so a test can tell from an argument which instance it points at.
import type { Addressing } from './types.ts';

export const fakeAddressing: Addressing = {
  listen: (id, port) => `listen/${id}/${port}`,
  dial: (_from, target, port) => `${target}:${port}`,
  configFile: (id, file) => `/cfg/${id}/${file}`,
  dataDir: (id) => `/data/${id}`,
  workloadSdUrl: () => 'http://workload/sd',
  s3: { endpoint: 's3:9000', bucket: 'thanos', accessKey: 'a', secretKey: 's', region: 'us-east-1', insecure: true },
};

/** Values of --name=value arguments, in order. */
export const flag = (args: string[], name: string): string[] =>
  args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.split('=').slice(1).join('='));
