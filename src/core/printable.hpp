// Text from outside (a service.yaml value, a job's field) made fit for one line of a message or
// a log: newline and tab as \n and \t, other control characters as \xNN, so nobody can forge
// lines or send terminal escapes; cut with "..." once the result reaches `max` bytes.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace ignite {

std::string printable(std::string_view text, std::size_t max);

}  // namespace ignite
