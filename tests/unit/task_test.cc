#include "async_server/task.h"

#include <coroutine>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace hs::async {
namespace {

// What the event loop does for a real wait, by hand: `co_await gate` suspends the coroutine
// until the test calls Open().
class Gate {
 public:
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) noexcept { waiter_ = waiter; }
  void await_resume() const noexcept {}

  bool waited_on() const { return static_cast<bool>(waiter_); }
  void Open() { std::exchange(waiter_, nullptr).resume(); }

 private:
  std::coroutine_handle<> waiter_;
};

// A token stands for what a frame owns (a socket, buffers): it is released when the frame is
// destroyed, which `expired()` on a weak_ptr to it shows.
using Token = std::shared_ptr<int>;

Task<> Steps(std::string& log, Gate& gate) {
  log += "a";
  co_await gate;
  log += "b";
}

Task<> Hold([[maybe_unused]] Token token, Gate& gate, bool& after_gate) {
  co_await gate;
  after_gate = true;
}

Task<> Immediate([[maybe_unused]] Token token, bool& ran) {
  ran = true;
  co_return;
}

Task<int> Inner([[maybe_unused]] Token token, Gate& gate) {
  co_await gate;
  co_return 42;
}

Task<> Outer(Token token, Gate& gate, std::optional<int>& result) {
  result = co_await Inner(std::move(token), gate);
}

TEST(TaskGroup, SpawnRunsTheTaskUntilItsFirstSuspension) {
  TaskGroup group;
  std::string log;
  Gate gate;
  group.Spawn(Steps(log, gate));
  EXPECT_EQ(log, "a");
  EXPECT_TRUE(gate.waited_on());
  gate.Open();
  EXPECT_EQ(log, "ab");
}

TEST(TaskGroup, ATaskIsLazyUntilSpawned) {
  TaskGroup group;
  std::string log;
  Gate gate;
  Task<> task = Steps(log, gate);
  EXPECT_EQ(log, "");
  group.Spawn(std::move(task));
  EXPECT_EQ(log, "a");
}

TEST(TaskGroup, SizeCountsLiveTasks) {
  TaskGroup group;
  EXPECT_EQ(group.size(), 0u);
  Gate gates[3];
  bool after[3] = {};
  for (int i = 0; i < 3; ++i) group.Spawn(Hold(std::make_shared<int>(i), gates[i], after[i]));
  EXPECT_EQ(group.size(), 3u);
  bool ran = false;
  group.Spawn(Immediate(std::make_shared<int>(3), ran));  // ends inside Spawn
  EXPECT_TRUE(ran);
  EXPECT_EQ(group.size(), 3u);
  gates[1].Open();  // the middle of the group's list
  EXPECT_TRUE(after[1]);
  EXPECT_EQ(group.size(), 2u);
  gates[2].Open();  // the newest
  gates[0].Open();  // the oldest
  EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, AFinishedTaskFreesItsFrame) {
  TaskGroup group;
  Gate gate;
  bool after_gate = false;
  Token token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  group.Spawn(Hold(std::move(token), gate, after_gate));
  EXPECT_FALSE(watch.expired()) << "the suspended frame holds its token";
  gate.Open();
  EXPECT_TRUE(after_gate);
  EXPECT_TRUE(watch.expired()) << "the finished frame was not destroyed";

  bool ran = false;
  token = std::make_shared<int>(1);
  watch = token;
  group.Spawn(Immediate(std::move(token), ran));
  EXPECT_TRUE(ran);
  EXPECT_TRUE(watch.expired());
}

TEST(TaskGroup, DestroyingTheGroupDestroysSuspendedFrames) {
  Gate gates[3];
  bool after[3] = {};
  std::weak_ptr<int> watches[3];
  {
    TaskGroup group;
    for (int i = 0; i < 3; ++i) {
      Token token = std::make_shared<int>(i);
      watches[i] = token;
      group.Spawn(Hold(std::move(token), gates[i], after[i]));
    }
    gates[1].Open();
    EXPECT_EQ(group.size(), 2u);
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(watches[i].expired()) << "task " << i;
    EXPECT_EQ(after[i], i == 1) << "task " << i;  // the others never got past their wait
  }
}

TEST(Task, AnAwaitedTaskHandsBackItsResult) {
  TaskGroup group;
  Gate gate;
  std::optional<int> result;
  Token token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  group.Spawn(Outer(std::move(token), gate, result));
  EXPECT_FALSE(result.has_value());
  EXPECT_TRUE(gate.waited_on()) << "the inner task started on the outer one's co_await";
  gate.Open();
  EXPECT_EQ(result, 42);
  EXPECT_TRUE(watch.expired()) << "both frames destroyed";
  EXPECT_EQ(group.size(), 0u);
}

TEST(Task, DestroyingTheGroupDestroysAnAwaitedTaskToo) {
  Gate gate;
  std::optional<int> result;
  std::weak_ptr<int> watch;
  {
    TaskGroup group;
    Token token = std::make_shared<int>(0);
    watch = token;
    group.Spawn(Outer(std::move(token), gate, result));  // suspended inside Inner
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired()) << "the inner frame, owned by the outer one, was not destroyed";
  EXPECT_FALSE(result.has_value());
}

}  // namespace
}  // namespace hs::async
