// Tests for the shutdown signal handlers, run in this process: raise() delivers the signal to the
// calling thread before it returns, so the handler's effects are visible on the next line.
#include "common/shutdown.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "gtest/gtest.h"

namespace hs {
namespace {

class ShutdownHandlerTest : public ::testing::Test {
 protected:
  // The child's handlers: a repeated signal stays graceful, so no raise() ends the test runner.
  void SetUp() override {
    ::sigaction(SIGINT, nullptr, &old_int_);
    ::sigaction(SIGTERM, nullptr, &old_term_);
    InstallChildShutdownHandlers();
  }
  void TearDown() override {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

TEST_F(ShutdownHandlerTest, StopSignalStartsShutdown) {
  EXPECT_FALSE(ShutdownRequested());
  ASSERT_EQ(::raise(SIGTERM), 0);
  EXPECT_TRUE(ShutdownRequested());
  uint64_t count = 0;
  EXPECT_EQ(::read(ShutdownFd(), &count, sizeof count), static_cast<ssize_t>(sizeof count));
  EXPECT_EQ(count, 1u);
}

// The handler interrupts arbitrary code, which may be about to read errno from its last call; a
// handler whose own system call fails must leave errno as it found it.
TEST_F(ShutdownHandlerTest, HandlerKeepsErrnoWhenItsWriteFails) {
  // An eventfd counter one below its maximum: the handler's write of 1 fails with EAGAIN.
  const uint64_t full = UINT64_MAX - 1;
  ASSERT_EQ(::write(ShutdownFd(), &full, sizeof full), static_cast<ssize_t>(sizeof full));
  for (const int sig : {SIGINT, SIGTERM}) {
    errno = ENOTTY;
    const int raised = ::raise(sig);
    const int after = errno;
    ASSERT_EQ(raised, 0);
    EXPECT_EQ(after, ENOTTY) << "signal " << sig;
  }
  EXPECT_TRUE(ShutdownRequested());
}

}  // namespace
}  // namespace hs
