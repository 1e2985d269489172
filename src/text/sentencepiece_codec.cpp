#include "text/sentencepiece_codec.h"

#include <sentencepiece_processor.h>

#include "core/error.h"
#include "text/metaspace.h"

namespace kantu::text {

SentencePieceCodec::SentencePieceCodec(const std::string& serialized,
                                       const SentencePieceOptions& options, const std::string& where)
    : model_(parse_sentencepiece_model(serialized, where)),
      options_(options),
      processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
  const std::string proto = options.legacy ? serialized : with_add_dummy_prefix(serialized, false, where);
  const auto status = processor_->LoadFromSerializedProto(proto);
  if (!status.ok()) {
    fail(ErrorKind::kCorrupt, where, ": libsentencepiece cannot load the model: ", status.ToString());
  }
  bytes_.resize(model_.pieces.size());
  for (size_t id = 0; id < model_.pieces.size(); ++id) {
    const SentencePieceEntry& p = model_.pieces[id];
    if (p.type == PieceType::kByte) {
      const auto value = byte_piece_value(p.piece);
      if (!value) fail(ErrorKind::kCorrupt, where, ": byte piece ", id, " '", p.piece, "' is not <0xXX>");
      bytes_[id] = std::string(1, *value);
    } else if (p.type == PieceType::kNormal || p.type == PieceType::kUserDefined) {
      bytes_[id] = model_.escape_whitespaces ? replace_all(p.piece, kMetaspace, " ") : p.piece;
    }
  }
  if (!options.legacy) {
    const int unk = processor_->unk_id();
    if (unk < 0 || static_cast<size_t>(unk) >= model_.pieces.size()) {
      fail(ErrorKind::kUnsupported, where, ": the non-legacy LLaMA tokenizer needs an unknown piece");
    }
    unk_piece_ = model_.pieces[static_cast<size_t>(unk)].piece;
    std::vector<int32_t> ids;
    encode_with_library(unk_piece_, ids);
    unk_prefix_pieces_ = ids.size();
  }
}

SentencePieceCodec::~SentencePieceCodec() = default;

void SentencePieceCodec::encode_with_library(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<int> ids;
  const auto status = processor_->Encode(text, &ids);
  if (!status.ok()) fail(ErrorKind::kInvalidArgument, "SentencePiece cannot encode the text: ", status.ToString());
  out.insert(out.end(), ids.begin(), ids.end());
}

void SentencePieceCodec::encode(std::string_view text, bool starts_text, std::vector<int32_t>& out) const {
  // An empty run before an added token gives nothing (the non-legacy reference drops the
  // lone "▁" it would make there when a special token follows).
  if (text.empty()) return;
  if (options_.legacy) {
    encode_with_library(text, out);
    return;
  }
  // transformers' LlamaTokenizer.tokenize / _tokenize with legacy=False.
  std::string s = replace_all(text, kMetaspace, " ");
  if (starts_text && options_.add_prefix_space) s.insert(0, kMetaspace);
  if (!s.starts_with(kMetaspace) && !s.starts_with(' ')) {
    encode_with_library(s, out);
    return;
  }
  std::vector<int32_t> ids;
  encode_with_library(unk_piece_ + s, ids);
  const size_t drop = ids.size() >= unk_prefix_pieces_ ? unk_prefix_pieces_ : 0;
  out.insert(out.end(), ids.begin() + static_cast<std::ptrdiff_t>(drop), ids.end());
}

std::string_view SentencePieceCodec::bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= bytes_.size()) return {};
  return bytes_[static_cast<size_t>(id)];
}

std::optional<int32_t> SentencePieceCodec::find(std::string_view token) const {
  const int id = processor_->PieceToId(token);
  if (id < 0 || static_cast<size_t>(id) >= model_.pieces.size() ||
      model_.pieces[static_cast<size_t>(id)].piece != token) {
    return std::nullopt;
  }
  return id;
}

std::string SentencePieceCodec::spell(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= model_.pieces.size()) return {};
  return model_.pieces[static_cast<size_t>(id)].piece;
}

}  // namespace kantu::text
