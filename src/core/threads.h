// threads.h — setting up the calling thread: a name, so that `top -H`, gdb and perf show which
// of a peer's threads (training, gossip I/O, sender, transport, HTTP) is which; and background
// scheduling for the gossip threads, so that their many short wake-ups do not preempt training.
#pragma once

#include <string>

namespace rumor {

// Linux keeps 15 characters; longer names are cut. Best effort: failure is ignored.
void name_this_thread(const std::string& name);

// Schedules the calling thread as SCHED_BATCH (Linux; best effort). Such a thread, woken up
// (a message arrived, a round was published), does not preempt the thread running on its core;
// it runs at that thread's next scheduling point, within a scheduler slice (a few ms), or at
// once on an idle core. Its share of the CPU is unchanged. For the gossip engine's and the
// transport's threads: on a host whose cores all train, every wake-up otherwise interrupts a
// training step and evicts part of its working set (docs/PERFORMANCE.md, "Background threads").
void make_this_thread_background();

}  // namespace rumor
