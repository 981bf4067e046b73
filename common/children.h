// The forked children of a server process -- process_server's child per connection, the process
// pool's workers: starting them, knowing which are alive, reaping them without zombies, and
// stopping them all at shutdown.
//
// A SIGCHLD handler reaps at once (waitpid is async-signal-safe), even while the parent sleeps
// in poll(), so no zombie waits for the next event. It may not touch the set of live children
// (no malloc in a signal handler), so it passes each (pid, wait status) through a non-blocking
// pipe, and ordinary code reads the pipe (Collect) and forgets those pids. Only pids not yet
// collected are ever signalled: a reaped pid may already belong to another process.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <set>
#include <string>

namespace hs {

class Children {
 public:
  using OnExit = std::function<void(pid_t pid, int wait_status)>;

  // Installs the SIGCHLD handler: one instance per process. `on_exit` is told of every child
  // reaped, whichever call collects it (Collect, Fork, Signal, StopAll).
  explicit Children(OnExit on_exit = nullptr);
  ~Children();
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;

  // Forks (ForkServerChild: shutdown handlers of its own, dies with its parent); the child runs
  // `child` and _exit(0)s, never returning into the caller. The parent gets the pid, or -1
  // (logged as `program: fork: ...`) when fork fails.
  pid_t Fork(const char* program, const std::function<void()>& child);

  // Readable when a child has been reaped: poll it beside the shutdown eventfd.
  int reaped_fd() const;

  // Forgets the children reaped since the last call, calling `on_exit` for each.
  void Collect();

  // Sends `signal` to `pid` if it is a child not yet reaped, and says whether it did. SIGCHLD is
  // held back meanwhile, so the pid cannot be reaped -- and handed to another process -- between
  // the look and the kill().
  bool Signal(pid_t pid, int signal);

  size_t alive() const { return alive_.size(); }

  // Shutdown: SIGTERM to every child still alive (children treat every stop signal as graceful:
  // busy ones finish their request, idle ones close), then waits until all have exited.
  void StopAll();

 private:
  OnExit on_exit_;
  std::set<pid_t> alive_;
};

// process_server's acceptor under a flood of new connections is one runnable process among
// hundreds of busy children: the fair scheduler gives it 1/N of a core, so forking the N-th child
// takes N times longer and clients wait in the accept queue for seconds. A real-time priority
// (SCHED_FIFO, reset on fork so that the children stay ordinary) lets the parent run whenever it
// has a connection to hand out; otherwise it sleeps in poll() and takes nothing from them. Needs
// CAP_SYS_NICE (root); returns false, changing nothing, without it.
bool PreferTheAcceptor();

// "exited with status 1", "killed by signal 9": a wait status in words.
std::string DescribeExit(int wait_status);

}  // namespace hs
