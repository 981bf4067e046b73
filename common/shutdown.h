// Graceful shutdown, written once for every model.
//
// Mechanism: SIGINT and SIGTERM run a tiny async-signal-safe handler that writes to an eventfd.
// Nobody ever reads that eventfd, so once written it stays readable for good: every accept loop
// and every blocking connection poll()s it beside its socket and sees "stop" at once, and an
// event loop can add it to epoll. This avoids the classic races of a global flag checked between
// blocking calls (the signal arriving just before accept() blocks).
// A second SIGINT/SIGTERM in the parent exits at once with status 130 ("I said stop").
#pragma once

namespace hs {

// Installs the handlers (SIGINT, SIGTERM) and creates the eventfd. Call once, early in main().
void InstallShutdownHandlers();

// For a forked child (process_server's per-connection child, a process-pool worker): a fresh
// eventfd of its own (the parent's must not be shared), and every SIGINT/SIGTERM means "graceful"
// -- repeats are ignored, since a terminal's Ctrl-C reaches the whole process group and the
// parent forwards the stop as well.
void InstallChildShutdownHandlers();

// The eventfd that becomes readable when shutdown starts (-1 before Install*).
int ShutdownFd();

bool ShutdownRequested();

// Starts shutdown from code (tests, a parent telling itself to stop).
void RequestShutdown();

}  // namespace hs
