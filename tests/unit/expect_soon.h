// ExpectSoon: waits for a condition that another thread makes true, for the unit tests of the
// thread-safe pieces (the pool's queue, thread_server's threads).
#pragma once

#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

#include "gtest/gtest.h"

namespace hs {

// Waits up to 5 s for `condition`. A thread that never wakes up would hang the whole test
// binary, so a timeout reports the failure and stops the binary instead.
inline void ExpectSoon(const std::function<bool()>& condition, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << what << ": not within 5 s";
      std::abort();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace hs
