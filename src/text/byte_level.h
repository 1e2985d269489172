// GPT-2 style byte-level alphabet: every byte 0..255 is shown as one printable Unicode
// character (printable ASCII and most of Latin-1 map to themselves, the rest to U+0100+).
// vocab.json / merges.txt / tokenizer.json spell tokens in this alphabet; kantu keeps
// tokens as raw bytes internally and converts only at the file and API boundary.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kantu::text {

// Raw bytes -> byte-level spelling ("\xC4\xA0"... for a space: " " -> "Ġ").
std::string bytes_to_byte_level(std::string_view bytes);

// Byte-level spelling -> raw bytes; nullopt if a character is outside the alphabet or the
// string is not valid UTF-8.
std::optional<std::string> byte_level_to_bytes(std::string_view spelled);

}  // namespace kantu::text
