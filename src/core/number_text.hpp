// Numbers in messages: the shortest text that reads back as the same double ("0.01", "64").
#pragma once
#include <string>

namespace ignite {

// "0.8", "1", "0.001"; never "0.80000000000000004". "?" only if formatting fails.
std::string format_number(double value);

}  // namespace ignite
