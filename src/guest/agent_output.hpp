// The agent's half of returning the program's output dir: the tree streamed to the host as
// file frames once everything of the program is dead. Walked as sys/tree.cpp walks a tree on
// the host (through dir fds, never following a symlink, dirs before their entries, names
// sorted), under the same budget (sys/tree_budget.hpp) with the host's numbers.
#pragma once
#include "guest/agent_job.hpp"
#include "sys/tree_budget.hpp"

namespace ignite::guest {

// Sends the entries under `dir` (an fd of the output dir) as "file" and "fileData" frames. The
// first entry the budget refuses (a FIFO, one too many, too deep, too large) is still sent,
// and the walk ends there: the host refuses the tree in its own words. false when the tree
// could not be read in full (an I/O error): the host must not take it as complete.
bool send_output_tree(int dir, const sys::TreeLimits& limits, const Send& send);

}  // namespace ignite::guest
