/**
 * The action's log lines leave stdout in batches. stdout is a pipe to the
 * runner, and every write is a system call that wakes the runner's reader: a
 * verify logs a line per image, 5,000 for 5,000 tags, and on a runner with
 * two CPUs those wake-ups cost as much as a tenth of the run
 * (docs/benchmarks.md, "Where the time goes"). Held for at most FLUSH_MS,
 * in order, the lines go out together in one write; whatever is held when
 * the work is done goes out before the process exits.
 */
const FLUSH_MS = 50;

export function batchStdout(stream: NodeJS.WriteStream = process.stdout): void {
  stream.cork();
  let held = true;
  const flush = () => {
    if (!held) return;
    stream.uncork();
    stream.cork();
  };
  // Unreferenced: the timer alone does not keep the process running.
  const timer = setInterval(flush, FLUSH_MS).unref();
  const release = () => {
    if (!held) return;
    held = false;
    clearInterval(timer);
    stream.uncork();
  };
  // Before exit, while the event loop still runs, so a write the pipe cannot
  // take at once still completes; at exit (an uncaught exception) as much as
  // the pipe takes.
  process.once('beforeExit', release);
  process.once('exit', release);
}
