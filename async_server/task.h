// The coroutine type of the async model: Task<T>, a lazy coroutine returning T, and TaskGroup,
// the owner of the tasks nobody awaits (one per connection, plus the acceptor).
//
// Ownership of coroutine frames, the part that decides whether anything leaks:
// - A Task owns its frame and destroys it in ~Task. `co_await task` starts it (it is lazy:
//   nothing runs before that) and, when it returns, resumes the awaiting coroutine directly
//   (symmetric transfer), which then destroys the finished frame with the Task temporary.
// - TaskGroup::Spawn() takes the frame from the Task and starts it at once; from then on the
//   group owns it. The frame destroys itself when its coroutine returns; frames still suspended
//   when the group is destroyed are destroyed there. Destroying a suspended frame runs the
//   destructors of everything it holds (the socket, buffers, the wait registered with the loop),
//   so a client that disconnects mid-request leaves nothing behind.
// Exceptions are not used: an exception escaping a coroutine terminates the process.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace hs::async {

template <typename T = void>
class Task;
class TaskGroup;

namespace internal {

struct PromiseBase {
  std::coroutine_handle<> continuation;  // the coroutine awaiting this one, if any
  TaskGroup* group = nullptr;            // the owner of a spawned task
  PromiseBase* prev = nullptr;           // the group's list of spawned tasks
  PromiseBase* next = nullptr;

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept;
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { std::terminate(); }
};

template <typename T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  void return_value(T v) { value.emplace(std::move(v)); }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
};

}  // namespace internal

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  explicit Task(Handle frame) : frame_(frame) {}
  Task(Task&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
  Task& operator=(Task&&) = delete;
  ~Task() {
    if (frame_) frame_.destroy();
  }

  // `co_await task`: run it until it returns, then continue with its result.
  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle frame;
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
        frame.promise().continuation = caller;
        return frame;  // start the task on the caller's stack: no trip through the loop
      }
      T await_resume() noexcept {
        if constexpr (!std::is_void_v<T>) return std::move(*frame.promise().value);
      }
    };
    return Awaiter{frame_};
  }

 private:
  friend class TaskGroup;
  Handle frame_;
};

// The tasks nobody awaits: started by Spawn(), destroyed when they return or with the group.
class TaskGroup {
 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup() {
    while (head_ != nullptr) Destroy(head_);
  }

  // Starts `task` now; it runs until its first suspension before Spawn returns.
  void Spawn(Task<> task) {
    Task<>::Handle frame = std::exchange(task.frame_, nullptr);
    internal::PromiseBase& promise = frame.promise();
    promise.group = this;
    promise.next = head_;
    if (head_ != nullptr) head_->prev = &promise;
    head_ = &promise;
    ++size_;
    frame.resume();
  }

  size_t size() const { return size_; }

 private:
  friend struct internal::PromiseBase;
  void Destroy(internal::PromiseBase* promise) {
    (promise->prev != nullptr ? promise->prev->next : head_) = promise->next;
    if (promise->next != nullptr) promise->next->prev = promise->prev;
    --size_;
    // Only Task<> is ever spawned, so the promise is a Promise<void>.
    using Frame = std::coroutine_handle<internal::Promise<void>>;
    Frame::from_promise(*static_cast<internal::Promise<void>*>(promise)).destroy();
  }

  internal::PromiseBase* head_ = nullptr;
  size_t size_ = 0;
};

namespace internal {

template <typename Promise>
std::coroutine_handle<> PromiseBase::FinalAwaiter::await_suspend(
    std::coroutine_handle<Promise> self) noexcept {
  PromiseBase& promise = self.promise();
  if (promise.continuation) return promise.continuation;           // the awaiting Task destroys us
  if (promise.group != nullptr) promise.group->Destroy(&promise);  // a spawned task ends
  return std::noop_coroutine();
}

template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}

inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

}  // namespace internal
}  // namespace hs::async
