import { readdirSync, readFileSync } from 'node:fs';

/** One process as `/proc/<pid>/stat` describes it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** Session id. */
  session: number;
  /** Start time in clock ticks since boot: tells a process from a later one that reuses its pid. */
  startTime: string;
}

/** At most this many `/proc` entries are read per scan, so a scan stays bounded on a crowded machine. */
const MAX_SCAN = 32_768;

/** Parses `/proc/<pid>/stat`; undefined when it is malformed. The command name may hold spaces and parentheses. */
export function parseStat(stat: string): ProcessInfo | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const pid = Number(stat.slice(0, open).trim());
  // After the name: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime
  // cstime priority nice num_threads itrealvalue starttime …
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(' ');
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const session = Number(fields[3]);
  const startTime = fields[19];
  if (![pid, ppid, pgrp, session].every(Number.isInteger) || startTime === undefined)
    return undefined;
  return { pid, ppid, pgrp, session, startTime };
}

/** Every process visible in `/proc` (empty where there is no `/proc`, e.g. macOS); bounded, best effort. */
export function readProcessTable(): ProcessInfo[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const table: ProcessInfo[] = [];
  let scanned = 0;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    if (++scanned > MAX_SCAN) break;
    try {
      const info = parseStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (info) table.push(info);
    } catch {
      // Exited while we looked.
    }
  }
  return table;
}

/** Whether `/proc/<pid>/environ` holds exactly `NAME=value` (false when unreadable). */
function hasEnvironment(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry);
  } catch {
    return false;
  }
}

/** What ties a process to a sandbox, for {@link findSandboxProcesses}. */
export interface SandboxMarks {
  /** Live pids the sandbox started: their descendants (ppid chain) belong to it. */
  roots: Iterable<number>;
  /**
   * Pids the sandbox started, alive or recently dead (each led its own session and process group): members of those
   * sessions and groups belong to it. Linux does not reuse a pid while a session or group still carries it.
   */
  groups: Iterable<number>;
  /**
   * `NAME=value` every process of the sandbox inherits (its `AWS_LAMBDA_RUNTIME_API`): finds descendants that were
   * orphaned (re-parented) and left the session, as a detached grandchild of a dead extension does.
   */
  environment?: string;
}

/**
 * Processes that belong to a sandbox: descendants of a root (ppid chain), members of a root's session or process
 * group, or holders of the sandbox's environment mark. Never this process or its ancestors.
 */
export function findSandboxProcesses(
  marks: SandboxMarks,
  table: ProcessInfo[] = readProcessTable(),
): ProcessInfo[] {
  const roots = new Set(marks.roots);
  const byPid = new Map(table.map((info) => [info.pid, info]));
  // A group or session id that is now the pid of a process other than a live root was reused: the old group was
  // empty by then (the kernel keeps such a pid while a group or session carries it), so it is someone else's.
  const groups = new Set([...marks.groups].filter((id) => !byPid.has(id) || roots.has(id)));
  const protectedPids = new Set<number>();
  for (let pid = process.pid, hops = 0; pid > 0 && hops < 1000; hops++) {
    protectedPids.add(pid);
    pid = byPid.get(pid)?.ppid ?? 0;
  }
  const belongs = (info: ProcessInfo): boolean => {
    if (groups.has(info.session) || groups.has(info.pgrp)) return true;
    // Bounded walk up the ppid chain (a cycle cannot happen, but a racy table could look like one).
    let current: ProcessInfo | undefined = info;
    for (let hops = 0; current && hops < 1000; hops++) {
      if (roots.has(current.pid)) return true;
      current = current.ppid > 1 ? byPid.get(current.ppid) : undefined;
    }
    return false;
  };
  return table.filter(
    (info) =>
      !protectedPids.has(info.pid) &&
      info.pid > 1 &&
      (belongs(info) ||
        (marks.environment !== undefined && hasEnvironment(info.pid, marks.environment))),
  );
}

/**
 * SIGKILLs `processes` that still are the same processes (same start time), best effort; returns the pids signalled.
 */
export function killProcesses(processes: readonly ProcessInfo[]): number[] {
  const killed: number[] = [];
  const seen = new Set<number>();
  for (const info of processes) {
    if (seen.has(info.pid)) continue;
    seen.add(info.pid);
    try {
      const now = parseStat(readFileSync(`/proc/${info.pid}/stat`, 'utf8'));
      if (!now || now.startTime !== info.startTime) continue;
      process.kill(info.pid, 'SIGKILL');
      killed.push(info.pid);
    } catch {
      // Already gone, or not ours to signal.
    }
  }
  return killed;
}
