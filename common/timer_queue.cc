#include "common/timer_queue.h"

namespace hs {

void TimerQueue::Push(TimerEntry* entry) {
  if (last_ == nullptr || !(entry->deadline < last_->deadline)) {
    entry->slot = TimerEntry::kInOrder;
    entry->previous = last_;
    entry->next = nullptr;
    (last_ == nullptr ? first_ : last_->next) = entry;
    last_ = entry;
    return;
  }
  heap_.push_back(entry);
  entry->slot = heap_.size() - 1;
  SiftUp(entry->slot);
}

void TimerQueue::Remove(TimerEntry* entry) {
  const size_t slot = entry->slot;
  if (slot == TimerEntry::kNotQueued) return;
  entry->slot = TimerEntry::kNotQueued;
  if (slot == TimerEntry::kInOrder) {
    (entry->previous == nullptr ? first_ : entry->previous->next) = entry->next;
    (entry->next == nullptr ? last_ : entry->next->previous) = entry->previous;
    entry->previous = entry->next = nullptr;
    return;
  }
  TimerEntry* last = heap_.back();
  heap_.pop_back();
  if (last == entry) return;
  // Fill the hole with the last entry, which may belong above or below it.
  Place(slot, last);
  SiftUp(slot);
  SiftDown(last->slot);
}

void TimerQueue::SiftUp(size_t slot) {
  TimerEntry* entry = heap_[slot];
  while (slot > 0) {
    const size_t parent = (slot - 1) / 2;
    if (!(entry->deadline < heap_[parent]->deadline)) break;
    Place(slot, heap_[parent]);
    slot = parent;
  }
  Place(slot, entry);
}

void TimerQueue::SiftDown(size_t slot) {
  TimerEntry* entry = heap_[slot];
  for (;;) {
    size_t child = 2 * slot + 1;
    if (child >= heap_.size()) break;
    if (child + 1 < heap_.size() && heap_[child + 1]->deadline < heap_[child]->deadline) ++child;
    if (!(heap_[child]->deadline < entry->deadline)) break;
    Place(slot, heap_[child]);
    slot = child;
  }
  Place(slot, entry);
}

}  // namespace hs
