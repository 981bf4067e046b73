// The process pool's scoreboard: one slot per worker the pool may ever have (--max-workers), in
// memory that the parent and every worker share -- an anonymous shared mapping made before the
// first fork(), so each child inherits the same physical pages (Apache prefork keeps its
// scoreboard the same way). Processes share nothing else writable.
//
// A worker writes its own slot: what it is doing and what it has served. The parent writes who
// holds a slot and whether it must retire, and reads every slot to size the pool (prefork.h);
// during shutdown a worker reads it (Busy) to know whether another still serves. Every field is
// a lock-free atomic and no reader needs two fields to agree: a count that is a moment stale
// only moves a decision to the next look.
#pragma once

#include <sys/mman.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "absl/strings/str_format.h"
#include "common/conversation.h"

namespace hs {

enum class WorkerState : uint8_t {
  kIdle,       // waiting for a client on the shared listener
  kReading,    // a client's connection: waiting for (the rest of) a request
  kDelaying,   // waiting out the -d delay before an answer
  kAnswering,  // sending an answer
};

inline const char* StateName(WorkerState state) {
  switch (state) {
    case WorkerState::kIdle:
      return "idle";
    case WorkerState::kReading:
      return "reading";
    case WorkerState::kDelaying:
      return "delaying";
    case WorkerState::kAnswering:
      return "answering";
  }
  return "?";
}

// A cache line each: a worker's frequent writes to its own slot do not slow its neighbours'.
struct alignas(64) WorkerSlot {
  std::atomic<pid_t> pid{0};  // 0: free
  std::atomic<WorkerState> state{WorkerState::kIdle};
  std::atomic<bool> retire{false};  // the parent told it to leave (and sent it SIGTERM)
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connections{0};

  bool busy() const { return state.load() != WorkerState::kIdle; }

  // What the worker's connection does next (StepObserver, common/connection.h).
  void Doing(Step::Kind next) {
    switch (next) {
      case Step::Kind::kRead:
        state = WorkerState::kReading;
        return;
      case Step::Kind::kSleep:
        state = WorkerState::kDelaying;
        return;
      case Step::Kind::kSend:
        state = WorkerState::kAnswering;
        return;
      case Step::Kind::kClose:
        return;  // idle once the connection is closed
    }
  }
};

class Scoreboard {
 public:
  explicit Scoreboard(size_t slots) : size_(slots) {
    void* memory =
        ::mmap(nullptr, Bytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) std::abort();
    slots_ = new (memory) WorkerSlot[slots];  // lock-free atomics: valid across processes
  }
  ~Scoreboard() { ::munmap(slots_, Bytes()); }
  Scoreboard(const Scoreboard&) = delete;
  Scoreboard& operator=(const Scoreboard&) = delete;

  size_t size() const { return size_; }
  WorkerSlot& operator[](size_t i) { return slots_[i]; }

  // The parent, before forking a worker into it: a free slot, cleared (nullptr: all taken).
  WorkerSlot* FreeSlot() {
    for (size_t i = 0; i < size_; ++i) {
      WorkerSlot& slot = slots_[i];
      if (slot.pid.load() != 0) continue;
      slot.state = WorkerState::kIdle;  // idle from the start: it is on its way to the listener
      slot.retire = false;
      slot.requests = 0;
      slot.connections = 0;
      return &slot;
    }
    return nullptr;
  }

  // Slots holding a worker (forked, not yet reaped), retiring ones included.
  int Live() const {
    return Count([](const WorkerSlot&) { return true; });
  }
  // Workers that are not retiring.
  int Staying() const {
    return Count([](const WorkerSlot& s) { return !s.retire.load(); });
  }
  // Workers free to take a new client now.
  int Idle() const {
    return Count([](const WorkerSlot& s) { return !s.busy() && !s.retire.load(); });
  }
  // Workers serving a connection right now.
  int Busy() const {
    return Count([](const WorkerSlot& s) { return s.busy(); });
  }

  // The parent, after reaping `pid`: its slot is free again -- and not busy, even if the worker
  // was killed while serving. Returns whether the worker had been told to retire.
  bool Release(pid_t pid) {
    for (size_t i = 0; i < size_; ++i) {
      WorkerSlot& slot = slots_[i];
      if (slot.pid.load() != pid) continue;
      const bool retired = slot.retire.load();
      slot.state = WorkerState::kIdle;
      slot.pid = 0;
      return retired;
    }
    return false;
  }

  // One line per worker, for kill -USR1: "  pid 4242  reading    requests 17  connections 5".
  std::string Describe() const {
    std::string lines;
    for (size_t i = 0; i < size_; ++i) {
      const WorkerSlot& slot = slots_[i];
      const pid_t pid = slot.pid.load();
      if (pid == 0) continue;
      const char* state = StateName(slot.state.load());
      absl::StrAppendFormat(&lines, "  pid %-7d %-10s requests %-6d connections %d%s\n", pid, state,
                            slot.requests.load(), slot.connections.load(),
                            slot.retire.load() ? "  (retiring)" : "");
    }
    return lines;
  }

 private:
  static_assert(std::atomic<pid_t>::is_always_lock_free &&
                std::atomic<WorkerState>::is_always_lock_free &&
                std::atomic<bool>::is_always_lock_free &&
                std::atomic<uint64_t>::is_always_lock_free);
  size_t Bytes() const { return size_ * sizeof(WorkerSlot); }

  template <typename Predicate>
  int Count(Predicate counts) const {
    int n = 0;
    for (size_t i = 0; i < size_; ++i) {
      if (slots_[i].pid.load() != 0 && counts(slots_[i])) ++n;
    }
    return n;
  }

  size_t size_;
  WorkerSlot* slots_;
};

}  // namespace hs
