// What the ceiling's rigs read around every step besides the components' own counters: the cores
// this process used (the load generator, or the exporter's worker thread) and the cores the whole
// machine was busy. On 2 cores these say who was short of CPU: the rig, its driver, or neither.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseMetrics, type MetricSample } from '../promql/metrics.ts';
import { memAvailable } from './plan.ts';

/** Busy and total jiffies of all cores together, from /proc/stat's first line. */
function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

export interface MeterReading {
  seconds: number;
  /** Cores this process used: user + system time over wall time, every thread included. */
  benchCpuCores: number;
  /** Cores the machine was busy, every process included (another engineer's too). */
  machineBusyCores: number;
}

/** Starts the clocks; read() gives what was used since. */
export function startMeters(): { read(): MeterReading } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const machine = machineJiffies();
  const cores = cpus().length;
  return {
    read() {
      const seconds = (performance.now() - wall) / 1000;
      const used = process.cpuUsage(cpu);
      const now = machineJiffies();
      const total = now.total - machine.total;
      return {
        seconds,
        benchCpuCores: seconds > 0 ? (used.user + used.system) / 1e6 / seconds : 0,
        machineBusyCores: total > 0 ? ((now.busy - machine.busy) / total) * cores : 0,
      };
    },
  };
}

/** A component's /metrics, parsed once (a snapshot is read several times). */
export async function scrapeComponent(baseUrl: string): Promise<MetricSample[]> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${baseUrl}/metrics: HTTP ${response.status}`);
  return parseMetrics(await response.text());
}

/** Sum of `name` over the samples whose labels include `labels`; 0 when none (a counter not yet created). */
export function sumOf(samples: readonly MetricSample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  return sum;
}

/** What the kernel could give without swapping now, bytes. */
export const memAvailableNow = (): number => memAvailable(readFileSync('/proc/meminfo', 'utf8'));
