// How SentencePiece vocabularies spell text in their pieces: U+2581 "▁" stands for a space,
// and a byte-fallback piece <0xXX> for one raw byte. Shared by the SentencePiece codec and
// the tokenizer.json form of the same vocabularies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kantu::text {

inline constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581

// s with every occurrence of `from` replaced by `to` (from non-empty).
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

// "<0x0A>" -> '\n'; nullopt for anything that is not a byte piece (uppercase hex digits).
std::optional<char> byte_piece_value(std::string_view piece);

// The text a piece stands for: its byte for a byte piece, else "▁" turned into spaces.
std::string piece_text(std::string_view piece);

}  // namespace kantu::text
