// The SentencePiece model file (tokenizer.model): a serialized sentencepiece.ModelProto.
// kantu reads the few fields it needs itself (pieces with their scores and types, the model
// kind, byte fallback, the normalizer's whitespace flags) and writes a ModelProto from a
// GGUF vocabulary, so that the reference library (libsentencepiece) tokenizes in both cases.
// The protobuf wire format is parsed with every length checked: a truncated or hostile file
// is Error(kCorrupt) naming the file, never a read out of bounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kantu::text {

// sentencepiece.ModelProto.SentencePiece.Type (the same numbers as llama.cpp's token types).
enum class PieceType : int { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct SentencePieceEntry {
  std::string piece;
  float score = 0.0f;
  PieceType type = PieceType::kNormal;
};

struct SentencePieceModel {
  std::vector<SentencePieceEntry> pieces;  // id = index
  int model_type = 1;                      // trainer_spec.model_type: 1 unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;
  // normalizer_spec (the protobuf defaults when absent)
  std::string normalizer_name;
  bool has_charsmap = false;  // a precompiled_charsmap (NFKC and the like) is present
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

// Parses the fields above out of a serialized ModelProto; `where` names the file in errors.
SentencePieceModel parse_sentencepiece_model(std::string_view serialized, const std::string& where);

// A serialized ModelProto for a vocabulary given piece by piece (a GGUF "llama" vocabulary):
// trainer_spec (model type, byte fallback, unk/bos/eos ids; -1 = none) and normalizer_spec
// ("identity", the given whitespace flags).
struct SentencePieceSpec {
  int model_type = 2;
  bool byte_fallback = true;
  int32_t unk_id = 0, bos_id = 1, eos_id = 2;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = false;
};
std::string serialize_sentencepiece_model(const std::vector<SentencePieceEntry>& pieces,
                                          const SentencePieceSpec& spec);

// The same serialized model with normalizer_spec.add_dummy_prefix set to `value` (every
// other field copied as it is).
std::string with_add_dummy_prefix(std::string_view serialized, bool value, const std::string& where);

}  // namespace kantu::text
