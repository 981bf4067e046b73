// Graceful shutdown, written once for every model.
//
// Mechanism: SIGINT and SIGTERM run a tiny async-signal-safe handler that writes to an eventfd.
// Nobody ever reads that eventfd, so once written it stays readable for good: every accept loop
// and every blocking connection poll()s it beside its socket and sees "stop" at once, and an
// event loop can add it to epoll. This avoids the classic races of a global flag checked between
// blocking calls (the signal arriving just before accept() blocks).
// A second SIGINT/SIGTERM in the parent exits at once with status 130 ("I said stop"), and
// its server children die with it (see ForkServerChild).
#pragma once

#include <sys/types.h>

#include "absl/time/time.h"

namespace hs {

// Installs the handlers (SIGINT, SIGTERM) and creates the eventfd. Call once, early in main().
void InstallShutdownHandlers();

// For a forked child (process_server's per-connection child, a process-pool worker): a fresh
// eventfd of its own (the parent's must not be shared), and every SIGINT/SIGTERM means "graceful"
// -- repeats are ignored, since a terminal's Ctrl-C reaches the whole process group and the
// parent forwards the stop as well. Also unblocks SIGINT/SIGTERM (see ForkServerChild).
void InstallChildShutdownHandlers();

// fork() for a server's child process; returns what fork() returns. SIGINT and SIGTERM are held
// back across the fork and stay blocked in the child until it calls
// InstallChildShutdownHandlers(): before that call the child still runs the parent's handler
// with the parent's signal count, so a stop signal forwarded at once (a child forked while the
// parent drains its accept queue) would read as a second, force-quit signal and drop the client.
// The child dies with its parent (SIGKILL, PR_SET_PDEATHSIG): no server process outlives the
// parent, whether it exits, force-quits on a second signal, crashes or is killed. The kernel
// takes the forking *thread* for the parent, so fork from the main thread (the accept loop's).
pid_t ForkServerChild();

// The eventfd that becomes readable when shutdown starts (-1 before Install*).
int ShutdownFd();

bool ShutdownRequested();

// When shutdown began (the first signal, or RequestShutdown()); InfinitePast() before that.
absl::Time ShutdownStartedAt();

// The lab asks that clients already connected be served, so a connection that has not sent a
// byte when shutdown begins may still begin its request -- within this one grace, counted from
// the signal and shared by every connection (not an idle timeout per connection served one
// after another). See Conversation.
inline constexpr absl::Duration kShutdownGrace = absl::Seconds(1);

// Starts shutdown from code (tests, a parent telling itself to stop).
void RequestShutdown();

}  // namespace hs
