// UTF-8 validity and character boundaries, for output that crosses the sandbox boundary.
#pragma once
#include <cstddef>
#include <string_view>

namespace ignite {

// Length of the well-formed UTF-8 sequence starting at text[i], or 0 if there is none (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF). `i` must be < text.size().
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept;

// Strict UTF-8 (RFC 3629): rejects overlong forms, surrogates and code points above U+10FFFF.
bool is_valid_utf8(std::string_view text) noexcept;

// How many bytes of `text` to keep when it was cut at an arbitrary byte (an output cap): all of
// it, minus a trailing incomplete character (1-3 bytes) when everything before that character
// is valid UTF-8. Anything else (binary output, text already invalid) keeps every byte.
std::size_t utf8_boundary(std::string_view text) noexcept;

}  // namespace ignite
