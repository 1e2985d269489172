#include "text/sentencepiece_model.h"

#include <bit>

#include "core/error.h"

namespace kantu::text {

namespace {

// Protobuf wire types.
enum : int { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Field numbers in sentencepiece_model.proto.
enum : uint32_t {
  kModelPieces = 1, kModelTrainerSpec = 2, kModelNormalizerSpec = 3,
  kPiecePiece = 1, kPieceScore = 2, kPieceType = 3,
  kTrainerModelType = 3, kTrainerByteFallback = 35, kTrainerUnkId = 40, kTrainerBosId = 41,
  kTrainerEosId = 42,
  kNormName = 1, kNormCharsmap = 2, kNormAddDummyPrefix = 3, kNormRemoveExtraWhitespaces = 4,
  kNormEscapeWhitespaces = 5,
};

class WireReader {
 public:
  WireReader(std::string_view data, const std::string& where) : data_(data), where_(where) {}

  bool done() const { return pos_ >= data_.size(); }
  size_t position() const { return pos_; }

  // The next field's number and wire type.
  std::pair<uint32_t, int> tag() {
    const uint64_t t = varint();
    const auto field = static_cast<uint32_t>(t >> 3);
    if (field == 0 || (t >> 3) > 0x1FFFFFFF) bad("a field number of 0 or out of range");
    return {field, static_cast<int>(t & 7)};
  }

  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) bad("a truncated varint");
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    bad("a varint longer than 10 bytes");
  }

  std::string_view length_delimited() {
    const uint64_t size = varint();
    if (size > data_.size() - pos_) bad("a length past the end of the data");
    const std::string_view out = data_.substr(pos_, static_cast<size_t>(size));
    pos_ += static_cast<size_t>(size);
    return out;
  }

  float fixed32_float() {
    if (data_.size() - pos_ < 4) bad("a truncated 32-bit value");
    uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) bits |= static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return std::bit_cast<float>(bits);
  }

  void skip(int wire) {
    switch (wire) {
      case kVarint: varint(); return;
      case kFixed64: advance(8); return;
      case kLengthDelimited: length_delimited(); return;
      case kFixed32: advance(4); return;
      default: bad("an unsupported wire type ", wire);
    }
  }

  // Reads a value of the expected wire type, or fails naming the field.
  void expect(int wire, int expected, const char* field) {
    if (wire != expected) bad("field ", field, " with the wrong wire type");
  }

  template <class... Parts>
  [[noreturn]] void bad(const Parts&... what) const {
    fail(ErrorKind::kCorrupt, where_, ": not a valid SentencePiece model (", what..., " at byte ", pos_, ")");
  }

 private:
  void advance(size_t n) {
    if (data_.size() - pos_ < n) bad("a truncated fixed-size value");
    pos_ += n;
  }

  std::string_view data_;
  const std::string& where_;
  size_t pos_ = 0;
};

SentencePieceEntry parse_piece(std::string_view bytes, const std::string& where) {
  WireReader r(bytes, where);
  SentencePieceEntry entry;
  while (!r.done()) {
    const auto [field, wire] = r.tag();
    if (field == kPiecePiece) {
      r.expect(wire, kLengthDelimited, "piece");
      entry.piece = std::string(r.length_delimited());
    } else if (field == kPieceScore) {
      r.expect(wire, kFixed32, "score");
      entry.score = r.fixed32_float();
    } else if (field == kPieceType) {
      r.expect(wire, kVarint, "type");
      const uint64_t type = r.varint();
      if (type < 1 || type > 6) r.bad("a piece type ", type, " outside 1..6");
      entry.type = static_cast<PieceType>(type);
    } else {
      r.skip(wire);
    }
  }
  return entry;
}

void parse_trainer_spec(std::string_view bytes, SentencePieceModel& model, const std::string& where) {
  WireReader r(bytes, where);
  while (!r.done()) {
    const auto [field, wire] = r.tag();
    if (field == kTrainerModelType) {
      r.expect(wire, kVarint, "model_type");
      model.model_type = static_cast<int>(r.varint() & 0xFF);
    } else if (field == kTrainerByteFallback) {
      r.expect(wire, kVarint, "byte_fallback");
      model.byte_fallback = r.varint() != 0;
    } else {
      r.skip(wire);
    }
  }
}

void parse_normalizer_spec(std::string_view bytes, SentencePieceModel& model, const std::string& where) {
  WireReader r(bytes, where);
  while (!r.done()) {
    const auto [field, wire] = r.tag();
    if (field == kNormName && wire == kLengthDelimited) {
      model.normalizer_name = std::string(r.length_delimited());
    } else if (field == kNormCharsmap && wire == kLengthDelimited) {
      model.has_charsmap = !r.length_delimited().empty();
    } else if (field == kNormAddDummyPrefix && wire == kVarint) {
      model.add_dummy_prefix = r.varint() != 0;
    } else if (field == kNormRemoveExtraWhitespaces && wire == kVarint) {
      model.remove_extra_whitespaces = r.varint() != 0;
    } else if (field == kNormEscapeWhitespaces && wire == kVarint) {
      model.escape_whitespaces = r.varint() != 0;
    } else {
      r.skip(wire);
    }
  }
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_tag(std::string& out, uint32_t field, int wire) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire));
}

// int32 fields: negative values are sign-extended to 64 bits, as protobuf does.
void put_int(std::string& out, uint32_t field, int64_t v) {
  put_tag(out, field, kVarint);
  put_varint(out, static_cast<uint64_t>(v));
}

void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_tag(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

void put_float(std::string& out, uint32_t field, float v) {
  put_tag(out, field, kFixed32);
  const auto bits = std::bit_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

}  // namespace

SentencePieceModel parse_sentencepiece_model(std::string_view serialized, const std::string& where) {
  SentencePieceModel model;
  WireReader r(serialized, where);
  while (!r.done()) {
    const auto [field, wire] = r.tag();
    if (field == kModelPieces) {
      r.expect(wire, kLengthDelimited, "pieces");
      model.pieces.push_back(parse_piece(r.length_delimited(), where));
      if (model.pieces.back().piece.empty()) r.bad("an empty piece");
    } else if (field == kModelTrainerSpec) {
      r.expect(wire, kLengthDelimited, "trainer_spec");
      parse_trainer_spec(r.length_delimited(), model, where);
    } else if (field == kModelNormalizerSpec) {
      r.expect(wire, kLengthDelimited, "normalizer_spec");
      parse_normalizer_spec(r.length_delimited(), model, where);
    } else {
      r.skip(wire);
    }
  }
  if (model.pieces.empty()) fail(ErrorKind::kCorrupt, where, ": the SentencePiece model has no pieces");
  if (model.pieces.size() > static_cast<size_t>(INT32_MAX)) fail(ErrorKind::kCorrupt, where, ": too many pieces");
  return model;
}

std::string serialize_sentencepiece_model(const std::vector<SentencePieceEntry>& pieces,
                                          const SentencePieceSpec& spec) {
  std::string out, message;
  for (const SentencePieceEntry& p : pieces) {
    message.clear();
    put_bytes(message, kPiecePiece, p.piece);
    put_float(message, kPieceScore, p.score);
    put_int(message, kPieceType, static_cast<int>(p.type));
    put_bytes(out, kModelPieces, message);
  }
  message.clear();
  put_int(message, kTrainerModelType, spec.model_type);
  put_int(message, kTrainerByteFallback, spec.byte_fallback ? 1 : 0);
  put_int(message, kTrainerUnkId, spec.unk_id);
  put_int(message, kTrainerBosId, spec.bos_id);
  put_int(message, kTrainerEosId, spec.eos_id);
  put_bytes(out, kModelTrainerSpec, message);
  message.clear();
  put_bytes(message, kNormName, "identity");
  put_int(message, kNormAddDummyPrefix, spec.add_dummy_prefix ? 1 : 0);
  put_int(message, kNormRemoveExtraWhitespaces, spec.remove_extra_whitespaces ? 1 : 0);
  put_int(message, kNormEscapeWhitespaces, 1);
  put_bytes(out, kModelNormalizerSpec, message);
  return out;
}

std::string with_add_dummy_prefix(std::string_view serialized, bool value, const std::string& where) {
  std::string out;
  bool had_normalizer = false;
  WireReader r(serialized, where);
  while (!r.done()) {
    const size_t begin = r.position();
    const auto [field, wire] = r.tag();
    if (field != kModelNormalizerSpec || wire != kLengthDelimited) {
      r.skip(wire);
      out.append(serialized.substr(begin, r.position() - begin));
      continue;
    }
    had_normalizer = true;
    const std::string_view spec = r.length_delimited();
    std::string rewritten;
    WireReader inner(spec, where);
    while (!inner.done()) {
      const size_t field_begin = inner.position();
      const auto [f, w] = inner.tag();
      inner.skip(w);
      if (f != kNormAddDummyPrefix) rewritten.append(spec.substr(field_begin, inner.position() - field_begin));
    }
    put_int(rewritten, kNormAddDummyPrefix, value ? 1 : 0);
    put_bytes(out, kModelNormalizerSpec, rewritten);
  }
  if (!had_normalizer) {
    std::string spec;
    put_int(spec, kNormAddDummyPrefix, value ? 1 : 0);
    put_bytes(out, kModelNormalizerSpec, spec);
  }
  return out;
}

}  // namespace kantu::text
