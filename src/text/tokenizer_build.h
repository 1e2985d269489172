// Helpers shared by the tokenizer loaders (tokenizer.json, vocab.json + merges.txt,
// tokenizer.model, GGUF). Internal to text/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "text/bpe.h"
#include "text/tokenizer.h"
#include "text/tokenizer_config.h"

namespace kantu::text {

// How a vocabulary file spells its tokens: GPT-2's byte-level alphabet, or as they are
// (SentencePiece pieces with "▁" and <0xXX>).
enum class Spelling { kByteLevel, kRaw };

// Adds the regular tokens of a {"token": id, ...} object. Entries that are added tokens
// (same id and content) may appear in the vocab spelled raw; those are skipped.
void add_vocab(BpeModel& bpe, const std::vector<std::pair<std::string, Json>>& vocab,
               const std::vector<AddedToken>& added, const std::string& path, Spelling spelling);
// Adds the next merge; a token missing from the vocabulary is Error(kCorrupt) at `where`.
void add_merge(BpeModel& bpe, std::string_view left, std::string_view right,
               const std::string& where, Spelling spelling);

// `extra` joined into `added`, skipping ids already there.
void merge_added(std::vector<AddedToken>& added, const std::vector<AddedToken>& extra);

// The BOS id to put before prompts: when config.add_bos_token (else `default_add`) is
// true, the id of config.bos_token (else `default_bos`) among the added tokens or `codec`.
// A bos_token the config names but the vocabulary lacks is Error(kCorrupt) at `where`; a
// missing default is no BOS.
std::optional<int32_t> resolve_bos(const TokenizerConfig& config, bool default_add,
                                   const std::string& default_bos,
                                   const std::vector<AddedToken>& added, const TextCodec& codec,
                                   const std::string& where);

// A SentencePiece tokenizer from a serialized ModelProto and the tokenizer_config.json
// settings (or their GGUF equivalents); extra_added: added tokens beyond the config's.
Tokenizer sentencepiece_tokenizer(const std::string& serialized, const TokenizerConfig& config,
                                  const std::vector<AddedToken>& extra_added, const std::string& where);

}  // namespace kantu::text
