import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time of processes from /proc (Linux): utime + stime, pidusage-style.
 * A sample is taken before and after a phase; the difference divided by the
 * wall time is "CPU seconds per second" (1.0 = one core fully busy).
 */

/** Clock ticks per second (sysconf(_SC_CLK_TCK)); 100 on every Linux we run on. */
const CLOCK_TICKS = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime in seconds. */
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited
  }
  // Fields after the command name, which is in parentheses and may contain spaces: state ppid … utime(14) stime(15).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
}

const allPids = () => readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);

/** `root` and its direct children (a PostgreSQL postmaster and its backends and workers). */
export function processWithChildren(root: number): number[] {
  return [root, ...allPids().filter((pid) => readStat(pid)?.ppid === root)];
}

/** Every process whose command name (/proc/<pid>/comm) is `name`. */
export function processesNamed(name: string): number[] {
  return allPids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
    } catch {
      return false;
    }
  });
}

/** Busy (non-idle, non-iowait) CPU seconds of the whole machine, summed over cores. */
function machineBusySeconds(): number {
  // "cpu user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already in user/nice.
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  return (total - ticks[3] - ticks[4]) / CLOCK_TICKS;
}

/** Named groups of processes; the pid lists are re-read at both ends so backends that start mid-phase are counted. */
export type ProcessGroups = Record<string, () => number[]>;

/**
 * Starts a sample; the returned function ends it and gives CPU seconds per
 * second for each group and for the whole machine (key `machine`).
 */
export function startCpuSample(groups: ProcessGroups): () => Record<string, number> {
  const snapshot = () => {
    const byGroup = new Map<string, Map<number, number>>();
    for (const [name, pids] of Object.entries(groups)) {
      const times = new Map<number, number>();
      for (const pid of pids()) {
        const stat = readStat(pid);
        if (stat) times.set(pid, stat.cpuSeconds);
      }
      byGroup.set(name, times);
    }
    return { at: performance.now(), machine: machineBusySeconds(), byGroup };
  };
  const before = snapshot();
  return () => {
    const after = snapshot();
    const seconds = (after.at - before.at) / 1000;
    const result: Record<string, number> = { machine: (after.machine - before.machine) / seconds };
    for (const [name, times] of after.byGroup) {
      let used = 0;
      // A process that started during the phase counts from zero; one that exited during it is lost (pools keep theirs open).
      for (const [pid, cpu] of times) used += cpu - (before.byGroup.get(name)?.get(pid) ?? 0);
      result[name] = used / seconds;
    }
    return result;
  };
}
