// The process pool's scoreboard: one slot per worker, in memory that the parent and every worker
// share -- an anonymous shared mapping made before the first fork(), so each child inherits the
// same physical pages (Apache prefork keeps its scoreboard the same way). Processes share nothing
// else; every field is an atomic, written by the slot's worker and read by anyone.
#pragma once

#include <sys/mman.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace hs {

struct WorkerSlot {
  std::atomic<pid_t> pid{0};      // 0: free
  std::atomic<bool> busy{false};  // serving a connection (between accept and close)
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

  // Slots holding a worker (forked, not yet reaped).
  size_t Live() const {
    size_t live = 0;
    for (size_t i = 0; i < size_; ++i) live += slots_[i].pid.load() != 0 ? 1 : 0;
    return live;
  }

  // The parent, after reaping `pid`: its slot is free again -- and not busy, even if the worker
  // was killed while serving.
  void Release(pid_t pid) {
    for (size_t i = 0; i < size_; ++i) {
      if (slots_[i].pid.load() != pid) continue;
      slots_[i].busy = false;
      slots_[i].pid = 0;
    }
  }

  // Workers serving a connection right now.
  int Busy() const {
    int busy = 0;
    for (size_t i = 0; i < size_; ++i) busy += slots_[i].busy.load() ? 1 : 0;
    return busy;
  }

 private:
  static_assert(std::atomic<pid_t>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);
  size_t Bytes() const { return size_ * sizeof(WorkerSlot); }

  size_t size_;
  WorkerSlot* slots_;
};

}  // namespace hs
